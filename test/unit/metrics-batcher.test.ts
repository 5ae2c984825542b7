import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MetricsBatcher } from '../../main/agent/metrics-batcher.js';
import type { MetricsBatch } from '../../preload/api.js';
import type { MetricsSample } from '../../remote-agent/protocol.js';

const sample = (t: number) => ({ sampledAt: t }) as MetricsSample;

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('MetricsBatcher', () => {
  it('turns 50 hosts at 1 Hz into one event a second, each host once per event', async () => {
    const batches: MetricsBatch[] = [];
    const b = new MetricsBatcher((x) => batches.push(x));
    // Every host samples once a second, at its own phase within the second.
    const timers = Array.from({ length: 50 }, (_, i) =>
      setTimeout(() => {
        const tick = () => b.push(`host-${i}`, sample(Date.now()));
        tick();
        timers.push(setInterval(tick, 1000));
      }, i * 20),
    );
    await vi.advanceTimersByTimeAsync(10_000);
    for (const t of timers) clearInterval(t);
    // ~10 s of traffic: one batch per second (the first goes out at once), not 500.
    expect(batches.length).toBeGreaterThanOrEqual(10);
    expect(batches.length).toBeLessThanOrEqual(11);
    for (const batch of batches) {
      const names = batch.samples.map((s) => s.name);
      expect(new Set(names).size).toBe(names.length);
    }
    const total = batches.reduce((n, x) => n + x.samples.length, 0);
    expect(total).toBeGreaterThanOrEqual(450);
    b.close();
  });

  it('never flushes twice within the interval and sends only hosts that changed, with their newest sample', async () => {
    const batches: MetricsBatch[] = [];
    const b = new MetricsBatcher((x) => batches.push(x), { intervalMs: 1000 });
    b.push('a', sample(1));
    b.push('b', sample(1));
    await vi.advanceTimersByTimeAsync(0);
    expect(batches).toEqual([{ samples: [{ name: 'a', sample: sample(1) }, { name: 'b', sample: sample(1) }] }]);
    b.push('a', sample(2));
    await vi.advanceTimersByTimeAsync(300);
    b.push('a', sample(3));
    await vi.advanceTimersByTimeAsync(600);
    expect(batches).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(batches).toHaveLength(2);
    expect(batches[1]).toEqual({ samples: [{ name: 'a', sample: sample(3) }] });
    // Quiet: nothing is sent.
    await vi.advanceTimersByTimeAsync(5000);
    expect(batches).toHaveLength(2);
    // After a quiet period the next sample goes out at once.
    b.push('b', sample(9));
    await vi.advanceTimersByTimeAsync(0);
    expect(batches).toHaveLength(3);
    b.close();
  });

  it('forget() drops a pending sample; close() stops everything; a throwing listener is contained', async () => {
    let calls = 0;
    const b = new MetricsBatcher(() => {
      calls++;
      throw new Error('listener');
    });
    b.push('a', sample(1));
    b.forget('a');
    await vi.advanceTimersByTimeAsync(2000);
    expect(calls).toBe(0);
    b.push('a', sample(1));
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toBe(1);
    b.push('a', sample(2));
    b.close();
    b.push('a', sample(3));
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls).toBe(1);
  });
});
