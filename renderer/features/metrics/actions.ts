import type { HistoryRange } from '../../../preload/api.js';
import { getBridge } from '../../bridge/index.js';
import { applyHistory } from './store.js';

export async function loadHistory(name: string, range: HistoryRange): Promise<void> {
  applyHistory(await getBridge().getMetricsHistory(name, range));
}
