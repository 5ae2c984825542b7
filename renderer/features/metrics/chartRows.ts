import type { HistoryPoint } from '../../../preload/api.js';

export type ChartRow = Record<string, number | null>;

/**
 * Flatten points into chart rows (cpu, mem, rx, tx, cpuW, g<i>u/m/t/p). Where two points are further
 * apart than `gapMs` (the server slept, the agent was down), a row of nulls is put in between so the
 * line breaks instead of drawing a straight bridge.
 */
export function toChartRows(points: readonly HistoryPoint[], gpuIndexes: readonly number[], gapMs: number): ChartRow[] {
  const rows: ChartRow[] = [];
  let prevT: number | null = null;
  const blank = (t: number): ChartRow => {
    const r: ChartRow = { t, cpu: null, mem: null, rx: null, tx: null, cpuW: null };
    for (const i of gpuIndexes) {
      r[`g${i}u`] = null;
      r[`g${i}m`] = null;
      r[`g${i}t`] = null;
      r[`g${i}p`] = null;
    }
    return r;
  };
  for (const p of points) {
    if (prevT !== null && p.t - prevT > gapMs) rows.push(blank(prevT + Math.round((p.t - prevT) / 2)));
    prevT = p.t;
    const r = blank(p.t);
    r.cpu = p.cpuPercent;
    r.mem = p.memUsedBytes;
    r.rx = p.netRxBytesPerSec;
    r.tx = p.netTxBytesPerSec;
    r.cpuW = p.cpuPowerW;
    for (const g of p.gpus) {
      r[`g${g.index}u`] = g.utilPercent;
      r[`g${g.index}m`] = g.memUsedBytes;
      r[`g${g.index}t`] = g.tempC;
      r[`g${g.index}p`] = g.powerW;
    }
    rows.push(r);
  }
  return rows;
}
