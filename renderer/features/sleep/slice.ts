import type { HostIdle, SleepPeriod, WakeProgress } from '../../../preload/api.js';

/** Wake steps kept per host. */
export const WAKE_LOG_LIMIT = 20;

export interface SleepSlice {
  /** The steps of each host's latest wake, oldest first; a new 'packet-sent' starts a new list. */
  wake: Record<string, WakeProgress[]>;
  /** Idle status per host (getIdleStatus, then 'idle-status' events); replaced per host. */
  idle: Record<string, HostIdle>;
  /** Sleep periods per host, newest first, as fetched for the host page. */
  sleepHistory: Record<string, SleepPeriod[]>;
}

export const sleepInitial: SleepSlice = { wake: {}, idle: {}, sleepHistory: {} };
