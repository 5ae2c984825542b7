/** Turning samples into HistoryPoints, and averaging points into coarser ones. */
import type { HistoryPoint } from '../protocol.js';

type GpuPoint = HistoryPoint['gpus'][number];

/** Mean of the known values; unknown stays unknown rather than pulling the mean towards 0. */
function mean(values: (number | null)[], decimals: number): number | null {
  let sum = 0;
  let n = 0;
  for (const v of values) {
    if (v === null || !Number.isFinite(v)) continue;
    sum += v;
    n++;
  }
  if (n === 0) return null;
  const f = 10 ** decimals;
  return Math.round((sum / n) * f) / f;
}

/** One point standing for `points` at time `t`; GPUs are matched by index. */
export function averagePoints(points: HistoryPoint[], t: number): HistoryPoint {
  const col = <K extends keyof HistoryPoint>(k: K) => points.map((p) => p[k] as number | null);
  const byIndex = new Map<number, GpuPoint[]>();
  for (const p of points) for (const g of p.gpus) byIndex.set(g.index, [...(byIndex.get(g.index) ?? []), g]);
  const gpus = [...byIndex.entries()]
    .sort(([a], [b]) => a - b)
    .map(([index, gs]) => ({
      index,
      utilPercent: mean(gs.map((g) => g.utilPercent), 1),
      memUsedBytes: mean(gs.map((g) => g.memUsedBytes), 0),
      tempC: mean(gs.map((g) => g.tempC), 1),
      powerW: mean(gs.map((g) => g.powerW), 1),
    }));
  return {
    t,
    cpuPercent: mean(col('cpuPercent'), 1),
    memUsedBytes: mean(col('memUsedBytes'), 0),
    memTotalBytes: mean(col('memTotalBytes'), 0),
    cpuPowerW: mean(col('cpuPowerW'), 1),
    netRxBytesPerSec: mean(col('netRxBytesPerSec'), 0),
    netTxBytesPerSec: mean(col('netTxBytesPerSec'), 0),
    gpus,
  };
}

/** Points averaged into buckets of `bucketMs`, each stamped with its bucket start. */
export function downsample(points: HistoryPoint[], bucketMs: number): HistoryPoint[] {
  const out: HistoryPoint[] = [];
  let bucket: HistoryPoint[] = [];
  let start = Number.NaN;
  for (const p of points) {
    const b = Math.floor(p.t / bucketMs) * bucketMs;
    if (b !== start && bucket.length > 0) {
      out.push(averagePoints(bucket, start));
      bucket = [];
    }
    start = b;
    bucket.push(p);
  }
  if (bucket.length > 0) out.push(averagePoints(bucket, start));
  return out;
}

const numOrNull = (v: unknown) => v === null || (typeof v === 'number' && Number.isFinite(v));

/** Guards what comes back from disk: a line from an older or damaged file must not reach a chart. */
export function isHistoryPoint(x: unknown): x is HistoryPoint {
  if (typeof x !== 'object' || x === null) return false;
  const p = x as Record<string, unknown>;
  if (typeof p.t !== 'number' || !Number.isFinite(p.t)) return false;
  for (const k of ['cpuPercent', 'memUsedBytes', 'memTotalBytes', 'cpuPowerW', 'netRxBytesPerSec', 'netTxBytesPerSec']) {
    if (!numOrNull(p[k])) return false;
  }
  if (!Array.isArray(p.gpus)) return false;
  return p.gpus.every((g: unknown) => {
    if (typeof g !== 'object' || g === null) return false;
    const r = g as Record<string, unknown>;
    return typeof r.index === 'number' && ['utilPercent', 'memUsedBytes', 'tempC', 'powerW'].every((k) => numOrNull(r[k]));
  });
}
