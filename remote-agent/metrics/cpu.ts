/** CPU busy percent (from /proc/stat deltas) and load averages. */
import { tryReadRooted } from './read-file.js';

export interface CpuTimes {
  total: number;
  idle: number;
}

export interface ProcStat {
  all: CpuTimes;
  cores: Map<number, CpuTimes>;
}

function times(fields: string[]): CpuTimes {
  const n = fields.map(Number).map((v) => (Number.isFinite(v) ? v : 0));
  // user nice system idle iowait irq softirq steal; guest time is already inside user/nice.
  const total = n.slice(0, 8).reduce((a, b) => a + b, 0);
  return { total, idle: (n[3] ?? 0) + (n[4] ?? 0) };
}

export function parseProcStat(text: string): ProcStat | null {
  let all: CpuTimes | null = null;
  const cores = new Map<number, CpuTimes>();
  for (const line of text.split('\n')) {
    const m = /^cpu(\d*)\s+(.*)$/.exec(line);
    if (!m) continue;
    const t = times(m[2]!.trim().split(/\s+/));
    if (m[1] === '') all = t;
    else cores.set(Number(m[1]), t);
  }
  return all ? { all, cores } : null;
}

/** Busy percent between two readings; null when no time passed (or counters went back after a hotplug). */
export function busyPercent(prev: CpuTimes | undefined, cur: CpuTimes | undefined): number | null {
  if (!prev || !cur) return null;
  const dTotal = cur.total - prev.total;
  const dIdle = cur.idle - prev.idle;
  if (dTotal <= 0 || dIdle < 0) return null;
  const pct = ((dTotal - dIdle) / dTotal) * 100;
  return Math.round(Math.min(100, Math.max(0, pct)) * 10) / 10;
}

export function parseLoadavg(text: string): [number, number, number] {
  const [a, b, c] = text.trim().split(/\s+/).map(Number);
  const ok = (v: number | undefined) => (v !== undefined && Number.isFinite(v) ? v : 0);
  return [ok(a), ok(b), ok(c)];
}

export interface CpuReading {
  percent: number | null;
  perCore: (number | null)[];
  load: [number, number, number];
}

/** Stateful: each read compares with the previous one, so the first read has no percentages. */
export function createCpuReader(procRoot = '/proc'): { read(): CpuReading } {
  let prev: ProcStat | null = null;
  return {
    read() {
      const text = tryReadRooted(procRoot, 'stat');
      const cur = text === null ? null : parseProcStat(text);
      const loadText = tryReadRooted(procRoot, 'loadavg');
      const load = loadText === null ? ([0, 0, 0] as [number, number, number]) : parseLoadavg(loadText);
      if (!cur) return { percent: null, perCore: [], load };
      const coreIds = [...cur.cores.keys()].sort((a, b) => a - b);
      const reading: CpuReading = {
        percent: busyPercent(prev?.all, cur.all),
        perCore: coreIds.map((id) => busyPercent(prev?.cores.get(id), cur.cores.get(id))),
        load,
      };
      prev = cur;
      return reading;
    },
  };
}
