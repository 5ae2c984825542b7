import type { HostIdle, SleepPeriod, WakeProgress } from '../../../preload/api.js';
import { without } from '../../state/records.js';
import { useFleet, type FleetState } from '../../state/store.js';
import { WAKE_LOG_LIMIT } from './slice.js';

export { WAKE_LOG_LIMIT };

export function applyWakeProgress(p: WakeProgress): void {
  useFleet.setState((s) => {
    const prev = s.wake[p.name] ?? [];
    // A new magic packet starts a new run; anything older than the last step of this run is stale.
    if (p.step !== 'packet-sent' && prev.length > 0 && prev[prev.length - 1]!.at > p.at) return s;
    const run = p.step === 'packet-sent' ? [p] : [...prev.filter((q) => q.step !== p.step), p].slice(-WAKE_LOG_LIMIT);
    return { wake: { ...s.wake, [p.name]: run } };
  });
}

export function clearWakeProgress(name: string): void {
  useFleet.setState((s) => (name in s.wake ? { wake: without(s.wake, name) } : s));
}

const sameIdle = (a: HostIdle, b: HostIdle) => a.message === b.message && JSON.stringify(a.status) === JSON.stringify(b.status);

/** Only the named host's entry changes, so other hosts' panels are not re-rendered. */
export function applyIdle(idle: HostIdle): void {
  if (!idle || typeof idle.name !== 'string') return;
  useFleet.setState((s) => {
    const prev = s.idle[idle.name];
    if (prev && sameIdle(prev, idle)) return s;
    return { idle: { ...s.idle, [idle.name]: idle } };
  });
}

export function applySleepHistory(name: string, periods: SleepPeriod[]): void {
  const sorted = [...periods].sort((a, b) => b.suspendedAt - a.suspendedAt);
  useFleet.setState((s) => ({ sleepHistory: { ...s.sleepHistory, [name]: sorted } }));
}

export const selectWake = (name: string) => (s: FleetState) => s.wake[name];
export const selectIdle = (name: string) => (s: FleetState) => s.idle[name];
export const selectSleepHistory = (name: string) => (s: FleetState) => s.sleepHistory[name];
