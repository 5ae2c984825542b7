import type { AppInfo } from '../../preload/api.js';
import type { ConnectionState } from '../bridge/index.js';

export type DialogState =
  | { kind: 'add' }
  | { kind: 'edit'; name: string }
  | { kind: 'import' }
  | { kind: 'remove'; name: string }
  | { kind: 'host-key'; name: string }
  | { kind: 'uninstall-agent'; name: string }
  | { kind: 'suspend'; name: string }
  | null;

/** In-app routing: the fleet grid, or one host's page in its place. */
export type Route = { page: 'fleet' } | { page: 'host'; name: string } | { page: 'energy' };

/** The shell: loading, the core connection, the open page and dialog. */
export interface AppSlice {
  loaded: boolean;
  loadError: string | null;
  connection: ConnectionState;
  appInfo: AppInfo | null;
  dialog: DialogState;
  dismissedStoreProblems: boolean;
  route: Route;
}

export const appInitial: AppSlice = {
  loaded: false,
  loadError: null,
  connection: 'connecting',
  appInfo: null,
  dialog: null,
  dismissedStoreProblems: false,
  route: { page: 'fleet' },
};
