import type { MetricsHistory, MetricsSample } from '../../../preload/api.js';

export interface HistoryEntry {
  history: MetricsHistory;
  /** ms since epoch, local clock, when the renderer received it. */
  fetchedAt: number;
}

export interface MetricsSlice {
  /** Latest sample per host; a batch replaces only the entries of the hosts it carries. */
  metrics: Record<string, MetricsSample>;
  /** Fetched history, keyed by historyKey(name, range). */
  history: Record<string, HistoryEntry>;
}

export const metricsInitial: MetricsSlice = { metrics: {}, history: {} };
