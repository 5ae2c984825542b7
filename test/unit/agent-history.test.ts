import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { averagePoints, downsample, isHistoryPoint } from '../../remote-agent/history/point.js';
import { toHistoryPoint } from '../../remote-agent/protocol.js';
import { Ring } from '../../remote-agent/history/ring.js';
import { segmentName } from '../../remote-agent/history/segments.js';
import { MetricsHistory } from '../../remote-agent/history/store.js';
import type { GpuSample, HistoryPoint, MetricsSample } from '../../remote-agent/protocol.js';
import { gpuSample, metricsSample } from '../support/builders.js';

const MIN = 60_000;
const DAY = 24 * 60 * MIN;
const T0 = Date.parse('2026-03-10T12:00:00Z');
const root = mkdtempSync(path.join(tmpdir(), 'fw-history-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => path.join(root, `s${n++}`);

function gpu(index: number, utilPercent: number | null): GpuSample {
  return gpuSample(index, { utilPercent, memUsedBytes: 1000, memTotalBytes: 8000, tempC: 40 });
}

function sample(t: number, cpu: number | null = 50, gpus: GpuSample[] = [gpu(0, 10)]): MetricsSample {
  return metricsSample(t, {
    cpu: { percent: cpu, perCore: [cpu] },
    memory: { totalBytes: 1000, usedBytes: 400, availableBytes: 600 },
    network: [
      { iface: 'eth0', rxBytesPerSec: 100, txBytesPerSec: 10 },
      { iface: 'docker0', rxBytesPerSec: 100, txBytesPerSec: 10 },
      { iface: 'veth12ab', rxBytesPerSec: 100, txBytesPerSec: 10 },
    ],
    gpus,
  });
}

/** A history whose clock the test moves; `feed` adds one sample every `stepMs` up to `untilT`. */
function clocked(stateDir = freshDir(), opts: { maxDiskBytes?: number; maxMemoryPoints?: number } = {}, start = T0) {
  const clock = { t: start };
  const h = new MetricsHistory({ stateDir, now: () => clock.t, ...opts });
  const feed = (untilT: number, stepMs: number, make: (t: number) => MetricsSample = (t) => sample(t)) => {
    for (; clock.t < untilT; clock.t += stepMs) h.add(make(clock.t));
  };
  return { h, clock, feed, stateDir };
}

function minuteLine(t: number, cpu: number): string {
  const p: HistoryPoint = { t, cpuPercent: cpu, memUsedBytes: 1, memTotalBytes: 2, cpuPowerW: null, netRxBytesPerSec: 0, netTxBytesPerSec: 0, gpus: [] };
  return `${JSON.stringify(p)}\n`;
}

describe('points', () => {
  it('a sample becomes a point; virtual interfaces are not added to the host total', () => {
    expect(toHistoryPoint(sample(T0, 12.5))).toEqual({
      t: T0, cpuPercent: 12.5, memUsedBytes: 400, memTotalBytes: 1000, cpuPowerW: null,
      netRxBytesPerSec: 100, netTxBytesPerSec: 10,
      gpus: [{ index: 0, utilPercent: 10, memUsedBytes: 1000, tempC: 40, powerW: null }],
    });
    expect(toHistoryPoint({ ...sample(T0), network: [] }).netRxBytesPerSec).toBeNull();
  });

  it('averages are null-aware and per GPU index', () => {
    const pts = [
      toHistoryPoint(sample(T0, 10, [gpu(0, 50), gpu(1, null)])),
      toHistoryPoint(sample(T0 + 5000, null, [gpu(0, null)])),
      toHistoryPoint(sample(T0 + 10000, 30, [gpu(1, null), gpu(0, 70)])),
    ];
    const avg = averagePoints(pts, T0);
    expect(avg.cpuPercent).toBe(20);
    expect(avg.cpuPowerW).toBeNull();
    expect(avg.gpus).toEqual([
      { index: 0, utilPercent: 60, memUsedBytes: 1000, tempC: 40, powerW: null },
      { index: 1, utilPercent: null, memUsedBytes: 1000, tempC: 40, powerW: null },
    ]);
  });

  it('downsamples to bucket starts, and validates points read back', () => {
    const pts = [0, 1, 2, 5, 6].map((m) => toHistoryPoint(sample(T0 + m * MIN, m * 10)));
    expect(downsample(pts, 5 * MIN).map((p) => [p.t, p.cpuPercent])).toEqual([[T0, 10], [T0 + 5 * MIN, 55]]);
    expect(isHistoryPoint(pts[0])).toBe(true);
    for (const bad of [null, {}, { ...pts[0], t: 'x' }, { ...pts[0], cpuPercent: 'NaN' }, { ...pts[0], gpus: [{ index: 0 }] }]) {
      expect(isHistoryPoint(bad)).toBe(false);
    }
  });

  it('the ring keeps only the newest items', () => {
    const r = new Ring<number>(3);
    for (let i = 0; i < 7; i++) r.push(i);
    expect([r.size, r.toArray()]).toEqual([3, [4, 5, 6]]);
  });
});

describe('MetricsHistory in memory', () => {
  it('1h is full resolution', () => {
    const { h, feed } = clocked();
    feed(T0 + 10 * MIN, 5000);
    const q = h.query('1h');
    expect(q.range).toBe('1h');
    expect(q.resolutionSeconds).toBe(5);
    expect(q.points).toHaveLength(120);
    expect(q.points[0]!.t).toBe(T0);
  });

  it('1h forgets what is older than an hour, and memory stays bounded', () => {
    const { h, feed, clock } = clocked(freshDir(), { maxMemoryPoints: 100 });
    feed(T0 + 90 * MIN, 10_000);
    const q = h.query('1h');
    expect(q.points.every((p) => p.t >= clock.t - 60 * MIN)).toBe(true);
    // 100 full-resolution points (~16.7 min) plus minute averages for the rest of the hour.
    expect(q.points.length).toBeLessThanOrEqual(100 + 44);
    expect(q.points.length).toBeGreaterThan(100);
    const ts = q.points.map((p) => p.t);
    expect([...ts].sort((a, b) => a - b)).toEqual(ts);
  });

  it('24h gives one averaged point per minute, the current minute included', () => {
    const { h, feed } = clocked();
    feed(T0 + 3 * MIN + 20_000, 10_000, (t) => sample(t, ((t - T0) / MIN) | 0 ? 80 : 20));
    const q = h.query('24h');
    expect(q.resolutionSeconds).toBe(60);
    expect(q.points.map((p) => [p.t - T0, p.cpuPercent])).toEqual([[0, 20], [MIN, 80], [2 * MIN, 80], [3 * MIN, 80]]);
  });
});

describe('MetricsHistory on disk', () => {
  it('appends one complete line per finished minute to the day file', () => {
    const { h, feed, stateDir } = clocked();
    feed(T0 + 59_000, 1000);
    const file = path.join(stateDir, 'history', '2026-03-10.jsonl');
    expect(existsSync(file)).toBe(false); // the minute is not over yet
    feed(T0 + 2 * MIN + 1000, 1000);
    const text = readFileSync(file, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect(text.trim().split('\n').map((l) => JSON.parse(l).t)).toEqual([T0, T0 + MIN]);
    h.close();
  });

  it('survives a restart: add, close, reopen, query', () => {
    const a = clocked();
    a.feed(T0 + 5 * MIN + 30_000, 5000);
    const before = a.h.query('24h').points;
    expect(before).toHaveLength(6);
    a.h.close();
    a.h.add(sample(a.clock.t)); // ignored after close
    const b = new MetricsHistory({ stateDir: a.stateDir, now: () => a.clock.t });
    expect(b.query('24h').points).toEqual(before);
    expect(b.query('7d').points).toEqual(before);
    // Right after a restart the hour view falls back to the minute points instead of being blank.
    expect(b.query('1h')).toEqual({ range: '1h', resolutionSeconds: 60, points: before });
  });

  it('a restart inside a minute does not duplicate that minute', () => {
    const a = clocked();
    a.feed(T0 + 90_000, 10_000);
    a.h.close();
    const b = clocked(a.stateDir, {}, a.clock.t);
    b.feed(T0 + 150_000, 10_000);
    b.h.close();
    const c = new MetricsHistory({ stateDir: a.stateDir, now: () => b.clock.t });
    expect(c.query('24h').points.map((p) => p.t - T0)).toEqual([0, MIN, 2 * MIN]);
  });

  it('a torn last line (killed mid-write) is skipped and cut off so later lines stay whole', () => {
    const a = clocked();
    a.feed(T0 + 3 * MIN, 10_000);
    a.h.close();
    const file = path.join(a.stateDir, 'history', segmentName(T0));
    appendFileSync(file, '{"t":1773144240000,"cpuPerc');
    const b = clocked(a.stateDir, {}, a.clock.t);
    expect(b.h.query('24h').points.map((p) => p.t - T0)).toEqual([0, MIN, 2 * MIN]);
    expect(readFileSync(file, 'utf8').endsWith('}\n')).toBe(true);
    b.feed(T0 + 5 * MIN, 10_000);
    b.h.close();
    const c = new MetricsHistory({ stateDir: a.stateDir, now: () => b.clock.t });
    expect(c.query('24h').points.map((p) => p.t - T0)).toEqual([0, MIN, 2 * MIN, 3 * MIN, 4 * MIN]);
    expect(readFileSync(file, 'utf8').trim().split('\n').every((l) => JSON.parse(l).t > 0)).toBe(true);
  });

  it('garbage lines are skipped, good ones kept', () => {
    const stateDir = freshDir();
    mkdirSync(path.join(stateDir, 'history'), { recursive: true });
    writeFileSync(path.join(stateDir, 'history', segmentName(T0)), `${minuteLine(T0, 1)}not json\n{"t":"x"}\n${minuteLine(T0 + MIN, 2)}`);
    writeFileSync(path.join(stateDir, 'history', 'notes.txt'), 'ignored');
    const h = new MetricsHistory({ stateDir, now: () => T0 + 2 * MIN });
    expect(h.query('24h').points.map((p) => p.cpuPercent)).toEqual([1, 2]);
  });

  it('drops files and points older than 7 days', () => {
    const stateDir = freshDir();
    const dir = path.join(stateDir, 'history');
    mkdirSync(dir, { recursive: true });
    for (let d = 10; d >= 0; d--) writeFileSync(path.join(dir, segmentName(T0 - d * DAY)), minuteLine(T0 - d * DAY, d));
    const h = new MetricsHistory({ stateDir, now: () => T0 + MIN });
    expect(readdirSync(dir).sort()).toEqual([7, 6, 5, 4, 3, 2, 1, 0].map((d) => segmentName(T0 - d * DAY)));
    // The day file of 7 days ago is kept for its later minutes, but its point at exactly -7d + 0 is out.
    expect(h.query('7d').points.map((p) => p.cpuPercent)).toEqual([6, 5, 4, 3, 2, 1, 0]);
    expect(h.query('24h').points.map((p) => p.cpuPercent)).toEqual([0]);
  });

  it('keeps the folder under maxDiskBytes, oldest first', () => {
    const stateDir = freshDir();
    const dir = path.join(stateDir, 'history');
    mkdirSync(dir, { recursive: true });
    const line = minuteLine(T0, 1).length;
    for (let d = 5; d >= 1; d--) {
      let text = '';
      for (let m = 0; m < 100; m++) text += minuteLine(T0 - d * DAY + m * MIN, d);
      writeFileSync(path.join(dir, segmentName(T0 - d * DAY)), text);
    }
    const cap = 250 * line;
    const { h, feed } = clocked(stateDir, { maxDiskBytes: cap });
    feed(T0 + 3 * MIN, 30_000);
    const files = readdirSync(dir).sort();
    const total = files.reduce((a, f) => a + statSync(path.join(dir, f)).size, 0);
    expect(total).toBeLessThanOrEqual(cap);
    expect(files).toEqual([segmentName(T0 - 2 * DAY), segmentName(T0 - DAY), segmentName(T0)]);
    h.close();
  });

  it('compacts a single day file that alone is over the cap, keeping its newest lines', () => {
    const stateDir = freshDir();
    const line = minuteLine(T0, 1).length;
    const { h, feed } = clocked(stateDir, { maxDiskBytes: 10 * line });
    feed(T0 + 30 * MIN, 60_000);
    h.close();
    const file = path.join(stateDir, 'history', segmentName(T0));
    const ts = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l).t);
    expect(statSync(file).size).toBeLessThanOrEqual(10 * line + 200);
    expect(ts[ts.length - 1]).toBe(T0 + 29 * MIN);
    expect(ts.length).toBeGreaterThan(2);
    expect(existsSync(`${file}.tmp`)).toBe(false);
  });

  it('7d is downsampled to 5 minutes to stay under ~2,500 points', () => {
    const stateDir = freshDir();
    const dir = path.join(stateDir, 'history');
    mkdirSync(dir, { recursive: true });
    const now = T0;
    for (let t = now - 7 * DAY + MIN; t < now; t += MIN) appendFileSync(path.join(dir, segmentName(t)), minuteLine(t, (t / MIN) % 10));
    const h = new MetricsHistory({ stateDir, now: () => now });
    const q = h.query('7d');
    expect(q.resolutionSeconds).toBe(300);
    expect(q.points.length).toBeLessThanOrEqual(2500);
    expect(q.points.length).toBeGreaterThan(2000);
    expect(q.points.every((p) => p.t % (5 * MIN) === 0)).toBe(true);
    expect(h.query('24h').points).toHaveLength(24 * 60); // [now - 24 h, now)
  });

  it('flush writes a minute that ended while no samples came (box went idle)', () => {
    const { h, feed, clock, stateDir } = clocked();
    feed(T0 + 30_000, 10_000);
    h.flush();
    expect(existsSync(path.join(stateDir, 'history'))).toBe(false);
    clock.t = T0 + 5 * MIN;
    h.flush();
    expect(readFileSync(path.join(stateDir, 'history', segmentName(T0)), 'utf8').trim().split('\n')).toHaveLength(1);
  });

  it('an unwritable state folder costs persistence, not the history', () => {
    const stateDir = path.join(freshDir(), 'file-not-dir');
    mkdirSync(path.dirname(stateDir), { recursive: true });
    writeFileSync(stateDir, 'x');
    const { h, feed } = clocked(stateDir);
    feed(T0 + 3 * MIN, 10_000);
    expect(h.query('24h').points).toHaveLength(3);
    expect(h.diskError).toMatch(/history write failed/);
  });
});
