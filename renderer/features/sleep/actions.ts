import type { IdleSettings } from '../../../preload/api.js';
import { getBridge } from '../../bridge/index.js';
import { applyIdle, applySleepHistory, clearWakeProgress } from './store.js';

/** Send the magic packet and wait for the host (progress arrives as 'wake-progress' events). */
export async function wakeHost(name: string): Promise<void> {
  clearWakeProgress(name);
  await getBridge().wakeHost(name, { wait: true });
}

/** Stop waiting for a host being woken; its pending wakeHost then fails as 'cancelled'. */
export async function cancelWake(name: string): Promise<void> {
  await getBridge().cancelWake(name);
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
