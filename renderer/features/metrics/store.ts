import type { HistoryRange, MetricsBatch, MetricsHistory, MetricsSample } from '../../../preload/api.js';
import { mergeEntries } from '../../state/records.js';
import { useFleet, type FleetState } from '../../state/store.js';

export type { HistoryEntry } from './slice.js';

/**
 * One store update for a whole batch. Only the hosts in the batch get a new entry, so a card
 * selecting its own host's sample is not re-rendered for another host's batch. Samples older than
 * the one held (a late reply to getLatestMetrics) are ignored.
 */
export function applyMetricsBatch(batch: MetricsBatch): void {
  if (!batch || !Array.isArray(batch.samples) || batch.samples.length === 0) return;
  useFleet.setState((s) => {
    const metrics = mergeEntries(
      s.metrics,
      batch.samples.flatMap(({ name, sample }) => (sample ? [[name, sample] as const] : [])),
      (prev: MetricsSample, next) => prev.sampledAt >= next.sampledAt,
    );
    return metrics ? { metrics } : s;
  });
}

export const historyKey = (name: string, range: HistoryRange) => `${name}\u0000${range}`;

export function applyHistory(history: MetricsHistory, fetchedAt = Date.now()): void {
  useFleet.setState((s) => ({ history: { ...s.history, [historyKey(history.name, history.range)]: { history, fetchedAt } } }));
}

export const selectMetrics = (name: string) => (s: FleetState) => s.metrics[name];
export const selectHistory = (name: string, range: HistoryRange) => (s: FleetState) => s.history[historyKey(name, range)];
