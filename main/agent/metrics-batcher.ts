import type { MetricsBatch } from '../../preload/api.js';
import type { MetricsSample } from '../../remote-agent/protocol.js';

export interface MetricsBatcherOptions {
  /** Least time between two batches (default 1000 ms). */
  intervalMs?: number;
}

/**
 * Keeps the newest sample per host and pushes them as ONE MetricsBatch at most once per interval,
 * holding only the hosts that reported since the previous batch. 50 hosts at 1 Hz = 1 event a second.
 * The first sample after a quiet period goes out at once (next tick), later ones wait for the interval.
 */
export class MetricsBatcher {
  private readonly pending = new Map<string, MetricsSample>();
  private timer: NodeJS.Timeout | undefined;
  private lastFlush = -Infinity;
  private closed = false;
  readonly intervalMs: number;

  constructor(
    private readonly emit: (batch: MetricsBatch) => void,
    opts: MetricsBatcherOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 1000;
  }

  push(name: string, sample: MetricsSample): void {
    if (this.closed) return;
    // Re-inserting moves the host to the end: batches list hosts in the order they last reported.
    this.pending.delete(name);
    this.pending.set(name, sample);
    if (this.timer) return;
    const wait = Math.max(0, this.lastFlush + this.intervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, wait);
    this.timer.unref?.();
  }

  /** Drop a host's unsent sample (host removed). */
  forget(name: string): void {
    this.pending.delete(name);
  }

  /** Send what is pending now (no-op when nothing is). */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.pending.size === 0) return;
    const samples = [...this.pending].map(([name, sample]) => ({ name, sample }));
    this.pending.clear();
    this.lastFlush = Date.now();
    try {
      this.emit({ samples });
    } catch {
      /* a listener's failure must not stop the metrics */
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }
}
