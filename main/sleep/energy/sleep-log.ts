/**
 * The per-host sleep log (FleetData.sleepLog): merging the agent's sleep.history with what the core saw.
 * Pure functions over SleepPeriod lists, oldest first.
 */
import type { SleepPeriod } from '../../../preload/api.js';

/** Two records whose suspend times are this close describe the same sleep (agent vs core clocks, event delays). */
export const SLEEP_MERGE_TOLERANCE_MS = 2 * 60_000;

/** One began after the other ended: two sleeps, however close (a quick wake and suspend again). */
const disjoint = (a: SleepPeriod, b: SleepPeriod) => (a.resumedAt !== null && b.suspendedAt >= a.resumedAt) || (b.resumedAt !== null && a.suspendedAt >= b.resumedAt);
const sameSleep = (a: SleepPeriod, b: SleepPeriod, tol: number) => Math.abs(a.suspendedAt - b.suspendedAt) <= tol && !disjoint(a, b);

/** `primary` wins field by field, except that a known resumedAt fills a null one. */
function combine(primary: SleepPeriod, other: SleepPeriod): SleepPeriod {
  return {
    ...primary,
    resumedAt: primary.resumedAt ?? other.resumedAt,
    wolArmed: primary.wolArmed ?? other.wolArmed,
    wolMessage: primary.wolMessage || other.wolMessage,
  };
}

/**
 * Merge two period lists (any order) into one, oldest first, at most `limit` (the newest kept).
 * Periods from `primary` (the agent's own record) win over `secondary` (the core's observations) when
 * both describe the same sleep (suspend times within `toleranceMs`).
 */
export function mergeSleepPeriods(
  primary: readonly SleepPeriod[],
  secondary: readonly SleepPeriod[],
  limit = Infinity,
  toleranceMs = SLEEP_MERGE_TOLERANCE_MS,
): SleepPeriod[] {
  const out: SleepPeriod[] = [...primary].sort((a, b) => a.suspendedAt - b.suspendedAt);
  for (const s of secondary) {
    const i = out.findIndex((p) => sameSleep(p, s, toleranceMs));
    if (i >= 0) out[i] = combine(out[i]!, s);
    else out.push(s);
  }
  out.sort((a, b) => a.suspendedAt - b.suspendedAt);
  return out.length > limit ? out.slice(out.length - limit) : out;
}

/** Add or update one period (e.g. on the agent's 'agent.suspending'), newest wins for the same sleep. */
export function recordSleepPeriod(list: readonly SleepPeriod[], period: SleepPeriod, limit = Infinity): SleepPeriod[] {
  return mergeSleepPeriods([period], list, limit);
}

/**
 * The host is back (online after asleep / waking): close its newest open period at `at`.
 * Returns the same array when nothing is open.
 */
export function closeOpenPeriod(list: readonly SleepPeriod[], at: number): readonly SleepPeriod[] {
  const last = list.at(-1);
  if (!last || last.resumedAt !== null) return list;
  return [...list.slice(0, -1), { ...last, resumedAt: Math.max(at, last.suspendedAt) }];
}
