import type { HostState } from '../../../preload/api.js';
import type { FleetState } from '../../state/store.js';

/**
 * The board's order: what needs the user first, then boxes at work, then boxes awake and idle (the ones
 * costing money), then the rest; by name within a group, so the grid never reshuffles on a sample.
 */
export const BOARD_GROUPS = ['needs-you', 'waking', 'busy', 'idle', 'connecting', 'asleep', 'offline'] as const;
export type BoardGroup = (typeof BOARD_GROUPS)[number];

const NEEDS_YOU = new Set<HostState>(['host-key-unknown', 'host-key-changed', 'auth-failed', 'error']);

export function boardGroup(s: FleetState, name: string): BoardGroup {
  const state = s.statuses[name]?.state ?? 'offline';
  if (NEEDS_YOU.has(state)) return 'needs-you';
  if (state === 'online') return s.idle[name]?.status?.state === 'idle' ? 'idle' : 'busy';
  return state === 'waking' || state === 'connecting' || state === 'asleep' ? state : 'offline';
}

const byName = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

/** The host names in board order, as one string (zustand compares it by value; split by the caller). */
export function selectBoardOrderKey(s: FleetState): string {
  const rank = new Map(BOARD_GROUPS.map((g, i) => [g, i]));
  return s.hostNames
    .map((n) => ({ n, r: rank.get(boardGroup(s, n))! }))
    .sort((a, b) => a.r - b.r || byName.compare(a.n, b.n))
    .map((x) => x.n)
    .join('\n');
}
