import type { AgentMode, HistoryRange } from '../../preload/api.js';
import { getBridge } from '../bridge/index.js';
import { applyAgentStatus, applyHistory, applyStatus, watchHost } from '../state/store.js';

/** Connect (or retry now); a host-key status that comes back opens the key dialog by itself. */
export async function connectHost(name: string): Promise<void> {
  watchHost(name);
  const status = await getBridge().connectHost(name);
  if (status) applyStatus(status);
}

export async function disconnectHost(name: string): Promise<void> {
  await getBridge().disconnectHost(name);
}

/** Install the agent ('auto' picks system mode when sudo works). Progress arrives as events. */
export async function deployAgent(name: string, mode: 'auto' | AgentMode = 'auto'): Promise<void> {
  const status = await getBridge().deployAgent(name, { mode });
  if (status) applyAgentStatus(status);
}

export async function upgradeAgent(name: string): Promise<void> {
  const status = await getBridge().upgradeAgent(name);
  if (status) applyAgentStatus(status);
}

export async function uninstallAgent(name: string, purge: boolean): Promise<void> {
  const status = await getBridge().uninstallAgent(name, purge ? { purge: true } : undefined);
  if (status) applyAgentStatus(status);
}

export async function loadHistory(name: string, range: HistoryRange): Promise<void> {
  applyHistory(await getBridge().getMetricsHistory(name, range));
}
