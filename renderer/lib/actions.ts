import type { AgentMode, HistoryRange, IdleSettings, Preferences } from '../../preload/api.js';
import { getBridge } from '../bridge/index.js';
import {
  applyAgentStatus,
  applyEnergy,
  applyHistory,
  applyIdle,
  applyPreferences,
  applySleepHistory,
  applyStatus,
  clearWakeProgress,
  watchHost,
} from '../state/store.js';

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

/** Send the magic packet and wait for the host (progress arrives as 'wake-progress' events). */
export async function wakeHost(name: string): Promise<void> {
  clearWakeProgress(name);
  await getBridge().wakeHost(name, { wait: true });
}

export async function suspendHost(name: string): Promise<void> {
  await getBridge().suspendHost(name);
}

export async function loadIdle(name: string): Promise<void> {
  applyIdle(await getBridge().getIdleStatus(name));
}

/** Throws FleetApiError with `field` on a bad value; the panel shows it next to that field. */
export async function configureIdle(name: string, settings: Partial<IdleSettings>): Promise<void> {
  applyIdle(await getBridge().configureIdle(name, settings));
}

export async function loadSleepHistory(name: string): Promise<void> {
  applySleepHistory(name, await getBridge().getSleepHistory(name));
}

export async function loadEnergy(): Promise<void> {
  const bridge = getBridge();
  const [energy, prefs] = await Promise.all([bridge.getEnergyReport(), bridge.getPreferences()]);
  applyEnergy(energy);
  applyPreferences(prefs);
}

/** Save preferences, then refresh the report (watts and price change it). Throws with `field` on a bad value. */
export async function savePreferences(patch: Partial<Preferences>): Promise<void> {
  const bridge = getBridge();
  applyPreferences(await bridge.setPreferences(patch));
  applyEnergy(await bridge.getEnergyReport());
}
