/**
 * Metrics history for the charts: the last hour at full resolution in memory, and one-minute averages
 * for 7 days, kept in memory and appended to disk so they survive restarts.
 */
import path from 'node:path';
import { toHistoryPoint, type HistoryPoint, type HistoryRange, type MetricsSample } from '../protocol.js';
import { averagePoints, downsample } from './point.js';
import { Ring } from './ring.js';
import { SegmentFiles } from './segments.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
const KEEP_MS = 7 * DAY_MS;
/** Above this many minute points a 7-day answer is averaged to 5 minutes (charts cannot show more). */
const MAX_POINTS = 2500;
const COARSE_MS = 5 * MINUTE_MS;

const RANGE_MS: Record<HistoryRange, number> = { '1h': HOUR_MS, '24h': DAY_MS, '7d': KEEP_MS };

export interface MetricsHistoryOptions {
  stateDir: string;
  /** Cap on the history folder; the oldest data goes first. */
  maxDiskBytes?: number;
  now?: () => number;
  /** Full-resolution points kept for the last hour (one a second by default). */
  maxMemoryPoints?: number;
}

export interface HistoryAnswer {
  range: HistoryRange;
  resolutionSeconds: number;
  points: HistoryPoint[];
}

export class MetricsHistory {
  private readonly now: () => number;
  private readonly disk: SegmentFiles;
  private readonly recent: Ring<HistoryPoint>;
  /** Finished minutes, oldest first. */
  private minutes: HistoryPoint[];
  private current: { minute: number; points: HistoryPoint[] } | null = null;
  private closed = false;

  constructor(opts: MetricsHistoryOptions) {
    this.now = opts.now ?? Date.now;
    this.disk = new SegmentFiles(path.join(opts.stateDir, 'history'), opts.maxDiskBytes ?? 8 * 1024 * 1024);
    this.recent = new Ring(opts.maxMemoryPoints ?? 3600);
    const since = this.now() - KEEP_MS;
    this.disk.prune(since);
    this.minutes = this.disk.load(since);
  }

  /** The last disk problem, for diagnostics; history keeps working in memory regardless. */
  get diskError(): string | null {
    return this.disk.lastError;
  }

  add(sample: MetricsSample): void {
    if (this.closed) return;
    const point = toHistoryPoint(sample);
    this.recent.push(point);
    const minute = Math.floor(point.t / MINUTE_MS) * MINUTE_MS;
    // Any change of minute closes the bucket, including a clock stepped backwards.
    if (this.current && this.current.minute !== minute) this.finishMinute();
    if (!this.current) this.current = { minute, points: [] };
    this.current.points.push(point);
  }

  query(range: HistoryRange): HistoryAnswer {
    const since = this.now() - RANGE_MS[range];
    if (range === '1h') return this.queryHour(since);
    const points = this.minutePoints(since);
    if (points.length > MAX_POINTS) return { range, resolutionSeconds: COARSE_MS / 1000, points: downsample(points, COARSE_MS) };
    return { range, resolutionSeconds: MINUTE_MS / 1000, points };
  }

  /** Writes the minute in progress once it is over (sampling may have stopped) and prunes the folder. */
  flush(): void {
    if (this.current && this.now() >= this.current.minute + MINUTE_MS) this.finishMinute();
    this.disk.prune(this.now() - KEEP_MS);
  }

  /** Writes even the unfinished minute, so a restart loses nothing; later adds are ignored. */
  close(): void {
    if (this.closed) return;
    if (this.current) this.finishMinute();
    this.closed = true;
  }

  private finishMinute(): void {
    const cur = this.current;
    this.current = null;
    if (!cur || cur.points.length === 0) return;
    const point = averagePoints(cur.points, cur.minute);
    const last = this.minutes[this.minutes.length - 1];
    // The same minute again (restart within it): the newer average replaces the older in memory.
    if (last && last.t === point.t) this.minutes[this.minutes.length - 1] = point;
    else if (last && last.t > point.t) this.minutes = [...this.minutes.filter((p) => p.t !== point.t), point].sort((a, b) => a.t - b.t);
    else this.minutes.push(point);
    const cutoff = this.now() - KEEP_MS;
    while (this.minutes.length > 0 && this.minutes[0]!.t < cutoff) this.minutes.shift();
    this.disk.append(point);
    this.disk.prune(cutoff);
  }

  /** Finished minutes plus the one in progress, so the newest minute is on the chart before it ends. */
  private minutePoints(since: number): HistoryPoint[] {
    const out = this.minutes.filter((p) => p.t >= since);
    if (this.current && this.current.points.length > 0 && this.current.minute >= since) {
      const partial = averagePoints(this.current.points, this.current.minute);
      if (out.length > 0 && out[out.length - 1]!.t === partial.t) out[out.length - 1] = partial;
      else out.push(partial);
    }
    return out;
  }

  /**
   * Full resolution where memory has it; before that (just after a restart) the minute points from
   * disk, so the last hour is never blank.
   */
  private queryHour(since: number): HistoryAnswer {
    const full = this.recent.toArray().filter((p) => p.t >= since);
    const firstFull = full[0]?.t ?? Number.POSITIVE_INFINITY;
    const older = this.minutes.filter((p) => p.t >= since && p.t + MINUTE_MS <= firstFull);
    return { range: '1h', resolutionSeconds: full.length > 1 ? medianIntervalSeconds(full) : 60, points: [...older, ...full] };
  }
}

function medianIntervalSeconds(points: HistoryPoint[]): number {
  const gaps = points.slice(1).map((p, i) => p.t - points[i]!.t).sort((a, b) => a - b);
  return Math.max(1, Math.round(gaps[Math.floor(gaps.length / 2)]! / 1000));
}
