import { describe, expect, it } from 'vitest';
import type { MetricsSample, SleepPeriod } from '../../preload/api.js';
import { IdleDrawTracker } from '../../main/sleep/energy/idle-draw.js';
import { asleepMs, closeOpenPeriod, computeEnergy, mergeSleepPeriods, recordSleepPeriod, sampleWatts } from '../../main/sleep/energy/index.js';
import { defaultPreferences } from '../../main/preferences/index.js';

const H = 3_600_000;
const T0 = Date.UTC(2025, 0, 1);
const P = (from: number, to: number | null, extra: Partial<SleepPeriod> = {}): SleepPeriod => ({
  suspendedAt: T0 + from * H,
  resumedAt: to === null ? null : T0 + to * H,
  reason: 'idle',
  wolArmed: true,
  wolMessage: '',
  ...extra,
});
const prefs = { ...defaultPreferences(), baselineWatts: 205, sleepWatts: 5 };

describe('asleepMs', () => {
  it('sums closed periods inside the window', () => {
    expect(asleepMs([P(1, 3), P(5, 6)], T0, T0 + 24 * H)).toBe(3 * H);
  });
  it('clips periods to the window on both sides', () => {
    expect(asleepMs([P(-5, 2), P(22, 30)], T0, T0 + 24 * H)).toBe(4 * H);
  });
  it('counts an open period up to `until`', () => {
    expect(asleepMs([P(20, null)], T0, T0 + 24 * H)).toBe(4 * H);
    expect(asleepMs([P(-10, null)], T0, T0 + 24 * H)).toBe(24 * H);
  });
  it('counts overlapping and duplicate periods once', () => {
    expect(asleepMs([P(1, 4), P(2, 3), P(3, 6), P(1, 4)], T0, T0 + 24 * H)).toBe(5 * H);
    expect(asleepMs([P(1, null), P(2, 3)], T0, T0 + 10 * H)).toBe(9 * H);
  });
  it('ignores periods outside the window, empty and inverted windows', () => {
    expect(asleepMs([P(-5, -1), P(30, 31)], T0, T0 + 24 * H)).toBe(0);
    expect(asleepMs([P(1, 2)], T0, T0)).toBe(0);
    expect(asleepMs([P(1, 2)], T0 + H, T0)).toBe(0);
    expect(asleepMs([], T0, T0 + H)).toBe(0);
  });
  it('treats adjacent periods as one span without double counting', () => {
    expect(asleepMs([P(1, 2), P(2, 3)], T0, T0 + 24 * H)).toBe(2 * H);
  });
});

describe('computeEnergy', () => {
  it('hours asleep/awake and kWh from the baseline', () => {
    const r = computeEnergy({ periods: { a: [P(0, 10)] }, since: T0, until: T0 + 24 * H, prefs });
    expect(r.hosts).toEqual([{ name: 'a', hoursAsleep: 10, hoursAwake: 14, wattsUsed: 205, measured: false, kwhSaved: 2, moneySaved: null }]);
    expect(r.totalKwhSaved).toBe(2);
    expect(r.totalMoneySaved).toBeNull();
    expect(r.currency).toBe('EUR');
    expect([r.since, r.until]).toEqual([T0, T0 + 24 * H]);
  });

  it('uses the measured idle draw where known and money when a price is set', () => {
    const r = computeEnergy({
      periods: { a: [P(0, 10)], b: [P(0, 10)] },
      since: T0,
      until: T0 + 24 * H,
      prefs: { ...prefs, pricePerKwh: 0.3, currency: 'CHF' },
      measuredIdleWatts: { a: 405, b: null },
    });
    expect(r.hosts[0]).toMatchObject({ name: 'a', wattsUsed: 405, measured: true, kwhSaved: 4, moneySaved: 1.2 });
    expect(r.hosts[1]).toMatchObject({ name: 'b', wattsUsed: 205, measured: false, kwhSaved: 2, moneySaved: 0.6 });
    expect(r.totalKwhSaved).toBe(6);
    expect(r.totalMoneySaved).toBe(1.8);
    expect(r.currency).toBe('CHF');
  });

  it('lists requested hosts in order, with zero for hosts that never slept', () => {
    const r = computeEnergy({ periods: { b: [P(1, 2)] }, since: T0, until: T0 + 10 * H, prefs, hosts: ['c', 'b'] });
    expect(r.hosts.map((h) => [h.name, h.hoursAsleep, h.hoursAwake])).toEqual([
      ['c', 0, 10],
      ['b', 1, 9],
    ]);
  });

  it('an open period counts to `until`; overlaps are not double counted', () => {
    const r = computeEnergy({ periods: { a: [P(20, null), P(21, 22)] }, since: T0, until: T0 + 24 * H, prefs });
    expect(r.hosts[0]!.hoursAsleep).toBe(4);
    expect(r.hosts[0]!.kwhSaved).toBe(0.8);
  });

  it('a measured draw (GPU + CPU package only) below the baseline leaves the baseline', () => {
    const r = computeEnergy({ periods: { a: [P(0, 1)] }, since: T0, until: T0 + H, prefs, measuredIdleWatts: { a: 60 } });
    expect(r.hosts[0]).toMatchObject({ wattsUsed: 205, measured: false, kwhSaved: 0.2 });
  });

  it('never reports negative savings when the idle draw is below the sleep draw', () => {
    const r = computeEnergy({ periods: { a: [P(0, 1)] }, since: T0, until: T0 + H, prefs: { ...prefs, baselineWatts: 2 } });
    expect(r.hosts[0]!.kwhSaved).toBe(0);
  });

  it('sums totals before rounding', () => {
    const periods = Object.fromEntries(['a', 'b', 'c'].map((n) => [n, [P(0, 1 / 3)]]));
    const r = computeEnergy({ periods, since: T0, until: T0 + H, prefs: { ...prefs, baselineWatts: 6, sleepWatts: 5, pricePerKwh: 1 } });
    expect(r.totalKwhSaved).toBe(0.001);
  });
});

describe('power from samples', () => {
  const sample = (gpus: (number | null)[], cpu: number | null) =>
    ({ gpus: gpus.map((powerW, index) => ({ index, powerW })), cpuPowerW: cpu }) as unknown as MetricsSample;
  it('adds GPU power and RAPL', () => {
    expect(sampleWatts(sample([60, 70], 95))).toBe(225);
    expect(sampleWatts(sample([null], null))).toBeNull();
    expect(sampleWatts(sample([], 40))).toBe(40);
  });
});

describe('sleep log', () => {
  it('merges agent and core records of the same sleep, agent first, filling a missing resume', () => {
    const agent = [P(1, null, { wolMessage: 'armed on eno1' })];
    const core = [P(1.01, 3, { wolArmed: null })];
    expect(mergeSleepPeriods(agent, core)).toEqual([P(1, 3, { wolMessage: 'armed on eno1' })]);
  });
  it('keeps distinct sleeps, sorted, and the newest `limit`', () => {
    const merged = mergeSleepPeriods([P(5, 6)], [P(1, 2), P(9, null)], 2);
    expect(merged.map((p) => p.suspendedAt)).toEqual([T0 + 5 * H, T0 + 9 * H]);
  });
  it('a sleep that starts after the previous one ended is a new sleep, however soon', () => {
    // Suspended, woken 30 s later, suspended again 30 s after that: two periods, the second open.
    const first = { suspendedAt: T0, resumedAt: T0 + 30_000, reason: 'manual' as const, wolArmed: null, wolMessage: '' };
    const second = { suspendedAt: T0 + 60_000, resumedAt: null, reason: 'idle' as const, wolArmed: null, wolMessage: '' };
    const list = recordSleepPeriod([first], second);
    expect(list).toEqual([first, second]);
  });
  it('records a new period and closes the open one', () => {
    const list = recordSleepPeriod([P(1, 2)], P(5, null));
    expect(list).toHaveLength(2);
    const closed = closeOpenPeriod(list, T0 + 7 * H);
    expect(closed.at(-1)!.resumedAt).toBe(T0 + 7 * H);
    expect(closeOpenPeriod(closed, T0 + 8 * H)).toBe(closed);
  });
});

describe('IdleDrawTracker', () => {
  const s = (gpuW: number | null, cpuW: number | null) =>
    ({ gpus: gpuW === null ? [] : [{ powerW: gpuW }], cpuPowerW: cpuW }) as unknown as MetricsSample;

  it('averages only samples taken while the host is idle, and only those with power', () => {
    const t = new IdleDrawTracker();
    t.observe('a', s(300, 50)); // state unknown: ignored
    t.setState('a', 'active');
    t.observe('a', s(700, 120)); // a busy box: ignored
    expect(t.watts('a')).toBeNull();
    t.setState('a', 'idle');
    t.observe('a', s(60, 20));
    t.observe('a', s(null, null)); // no power readings: ignored
    t.observe('a', s(40, 20));
    expect(t.watts('a')).toBe(70);
    t.setState('a', null);
    t.observe('a', s(900, 100));
    expect(t.watts('a')).toBe(70);
    t.forget('a');
    expect(t.watts('a')).toBeNull();
  });

  it('keeps the most recent readings only', () => {
    const t = new IdleDrawTracker(3);
    t.setState('a', 'idle');
    for (const w of [1000, 10, 20, 30]) t.observe('a', s(w, null));
    expect(t.watts('a')).toBe(20);
  });
});
