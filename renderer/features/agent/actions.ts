import type { AgentMode } from '../../../preload/api.js';
import { getBridge } from '../../bridge/index.js';
import { applyAgentStatus } from './store.js';

/** Install the agent ('auto' picks system mode when sudo works). Progress arrives as events. */
export async function deployAgent(name: string, mode: 'auto' | AgentMode = 'auto'): Promise<void> {
  const status = await getBridge().deployAgent(name, { mode });
  if (status) applyAgentStatus(status);
}

/** Reach the agent again (Retry): nothing is reinstalled. */
export async function checkAgent(name: string): Promise<void> {
  const status = await getBridge().checkAgent(name);
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
