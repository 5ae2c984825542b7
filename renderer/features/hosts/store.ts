import type { HostState, HostStatus, HostView } from '../../../preload/api.js';
import type { Route } from '../../app/slice.js';
import { sameOn, without } from '../../state/records.js';
import { useFleet, type FleetState } from '../../state/store.js';

/** How long after "add" / "connect" a host-key status still opens the dialog by itself. */
const WATCH_MS = 2 * 60_000;

/** Scalars compared as they are; the one list field (known_hosts files) by its entries. */
const sameHost = (a: HostView, b: HostView) =>
  sameOn(a, b, (Object.keys(a) as (keyof HostView)[]).filter((k) => k !== 'knownHostsFiles')) &&
  Object.keys(a).length === Object.keys(b).length &&
  a.knownHostsFiles.length === b.knownHostsFiles.length &&
  a.knownHostsFiles.every((f, i) => f === b.knownHostsFiles[i]);

export function applyHosts(list: HostView[]): void {
  useFleet.setState((s) => {
    const hostsByName: Record<string, HostView> = {};
    for (const h of list) {
      const prev = s.hostsByName[h.name];
      hostsByName[h.name] = prev && sameHost(prev, h) ? prev : h;
    }
    const names = list.map((h) => h.name);
    const hostNames =
      names.length === s.hostNames.length && names.every((n, i) => n === s.hostNames[i]) ? s.hostNames : names;
    // Statuses are kept even for names not (yet) listed: a status may arrive before its hosts-changed.
    let dialog = s.dialog;
    if (dialog && 'name' in dialog && !(dialog.name in hostsByName)) dialog = null;
    // A removed host's page goes back to the grid.
    const route: Route = s.route.page === 'host' && !(s.route.name in hostsByName) ? { page: 'fleet' } : s.route;
    return { hosts: list.map((h) => hostsByName[h.name]!), hostsByName, hostNames, dialog, route };
  });
}

const isHostKeyState = (st: HostState) => st === 'host-key-unknown' || st === 'host-key-changed';

// canWake too: adding a MAC republishes the status with nothing else changed.
const STATUS_KEYS = ['state', 'since', 'error', 'lastError', 'fingerprint', 'keyType', 'expectedFingerprint', 'canWake'] as const;

export function applyStatus(status: HostStatus): void {
  useFleet.setState((s) => {
    const prev = s.statuses[status.name];
    if (prev && (prev.since > status.since || sameOn(prev, status, STATUS_KEYS))) return s;
    const patch: Partial<FleetState> = { statuses: { ...s.statuses, [status.name]: status } };
    const watchedAt = s.watching[status.name];
    if (watchedAt !== undefined) {
      if (isHostKeyState(status.state)) {
        if (Date.now() - watchedAt < WATCH_MS && s.dialog === null) {
          patch.dialog = { kind: 'host-key', name: status.name };
        }
        patch.watching = without(s.watching, status.name);
      } else if (status.state !== 'connecting') {
        patch.watching = without(s.watching, status.name);
      }
    }
    return patch;
  });
}

export function watchHost(name: string): void {
  useFleet.setState((s) => ({ watching: { ...s.watching, [name]: Date.now() } }));
}

export const selectHost = (name: string) => (s: FleetState) => s.hostsByName[name];
export const selectStatus = (name: string) => (s: FleetState) => s.statuses[name];
export const selectHostState = (name: string) => (s: FleetState): HostState => s.statuses[name]?.state ?? 'offline';
