/** Formatting shared by the features: metrics, ranges, times, errors. A missing value is always an em dash, never 0. */
import type { HistoryRange } from '../../preload/api.js';

export const DASH = '—';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

const isNum = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

/** 42 -> "42%"; null -> "—". */
export function fmtPercent(v: number | null | undefined): string {
  return isNum(v) ? `${Math.round(v)}%` : DASH;
}

/** Bytes as GiB with sensible precision: 0.4, 7.9, 79.6, 503. */
export function gib(v: number): string {
  const g = v / GiB;
  if (g >= 100) return Math.round(g).toString();
  return g.toFixed(1);
}

/** "71.2 / 79.6 GiB"; either side may be missing. */
export function fmtUsedTotal(used: number | null | undefined, total: number | null | undefined): string {
  if (!isNum(used) && !isNum(total)) return DASH;
  return `${isNum(used) ? gib(used) : DASH} / ${isNum(total) ? gib(total) : DASH} GiB`;
}

export function fmtBytes(v: number | null | undefined): string {
  if (!isNum(v)) return DASH;
  if (v >= GiB) return `${gib(v)} GiB`;
  if (v >= MiB) return `${Math.round(v / MiB)} MiB`;
  if (v >= 1024) return `${Math.round(v / 1024)} KiB`;
  return `${Math.round(v)} B`;
}

/** Network rate in bytes per second, as decimal units the way link speeds are spoken of. */
export function fmtRate(v: number | null | undefined): string {
  if (!isNum(v)) return DASH;
  if (v >= 1e9) return `${(v / 1e9).toFixed(1)} GB/s`;
  if (v >= 1e6) return `${(v / 1e6).toFixed(v >= 1e8 ? 0 : 1)} MB/s`;
  if (v >= 1e3) return `${Math.round(v / 1e3)} kB/s`;
  return `${Math.round(v)} B/s`;
}

export function fmtWatts(v: number | null | undefined): string {
  return isNum(v) ? `${Math.round(v)} W` : DASH;
}

/** "612 / 700 W"; "— / 700 W" when the draw is unknown. */
export function fmtPower(w: number | null | undefined, limit: number | null | undefined): string {
  if (!isNum(w) && !isNum(limit)) return DASH;
  return `${isNum(w) ? Math.round(w) : DASH} / ${isNum(limit) ? Math.round(limit) : DASH} W`;
}

export function fmtTemp(v: number | null | undefined): string {
  return isNum(v) ? `${Math.round(v)}°C` : DASH;
}

export function fmtUptime(seconds: number | null | undefined): string {
  if (!isNum(seconds)) return DASH;
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${m} min`;
  return `${m} min`;
}

/** Fraction 0..1 for bars; null when unknown (the bar is then drawn empty and hatched). */
export function ratio(used: number | null | undefined, total: number | null | undefined): number | null {
  if (!isNum(used) || !isNum(total) || total <= 0) return null;
  return Math.min(1, Math.max(0, used / total));
}

/**
 * "NVIDIA H100 80GB HBM3" -> "H100 80GB HBM3", "NVIDIA GeForce RTX 4080 SUPER" -> "RTX 4080 SUPER",
 * "Tesla V100-SXM2-32GB" -> "V100-SXM2-32GB". The full name stays available as a tooltip.
 */
export function shortGpuName(name: string): string {
  const short = name
    .replace(/\b(NVIDIA|GeForce|Tesla|Quadro)\b/gi, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return short || name.trim();
}

export const RANGE_MS: Record<HistoryRange, number> = {
  '1h': 3600_000,
  '24h': 24 * 3600_000,
  '7d': 7 * 24 * 3600_000,
};

export const RANGE_LABEL: Record<HistoryRange, string> = { '1h': '1 h', '24h': '24 h', '7d': '7 d' };

const pad = (n: number) => n.toString().padStart(2, '0');
const WEEKDAY = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** Axis tick label for a time in a range. */
export function fmtTick(t: number, range: HistoryRange): string {
  const d = new Date(t);
  if (range === '7d') return `${WEEKDAY[d.getDay()]} ${d.getDate()}`;
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** Tooltip time label. */
export function fmtTime(t: number, range: HistoryRange): string {
  const d = new Date(t);
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  if (range === '1h') return `${hm}:${pad(d.getSeconds())}`;
  if (range === '24h') return hm;
  return `${WEEKDAY[d.getDay()]} ${d.getDate()}, ${hm}`;
}

/** Evenly spaced, round tick times for a range ending at `end`. */
export function rangeTicks(start: number, end: number, range: HistoryRange): number[] {
  const step = range === '1h' ? 10 * 60_000 : range === '24h' ? 4 * 3600_000 : 24 * 3600_000;
  const offset = new Date(start).getTimezoneOffset() * 60_000;
  // Align to local round times (midnight for days).
  let t = Math.ceil((start - offset) / step) * step + offset;
  const out: number[] = [];
  for (; t <= end; t += step) out.push(t);
  return out;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function timeAgo(since: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - since) / 1000));
  if (s < 10) return 'just now';
  if (s < 60) return `${s}s ago`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.round(h / 24)} days ago`;
}
