import type { HostStatus, HostView } from '../../../preload/api.js';

export interface HostsSlice {
  /** In the order the core lists them. */
  hosts: HostView[];
  /** Same hosts, for per-card selectors. Unchanged hosts keep their object identity. */
  hostsByName: Record<string, HostView>;
  /** Host names in order; a new array only when the list of names changes. */
  hostNames: string[];
  statuses: Record<string, HostStatus>;
  /** Hosts the user just added or asked to connect: a host-key status for them opens the dialog. */
  watching: Record<string, number>;
}

export const hostsInitial: HostsSlice = {
  hosts: [],
  hostsByName: {},
  hostNames: [],
  statuses: {},
  watching: {},
};
