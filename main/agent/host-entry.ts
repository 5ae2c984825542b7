import type { AgentStatus } from '../../preload/api.js';
import type { MetricsSample } from '../../remote-agent/protocol.js';
import type { InstallManifest } from '../remote/manifest.js';
import type { AgentClient, AgentHostConnection } from './client.js';

/** What AgentManager holds for one host; shared by the manager, the sync and the status keeper. */
export interface HostEntry {
  name: string;
  status: AgentStatus;
  /** Bumped whenever what we are doing for the host becomes stale (offline, refresh, installing, forget). */
  gen: number;
  client: AgentClient | undefined;
  transport: 'streamlocal' | 'exec' | undefined;
  manifest: InstallManifest | undefined;
  /** Metrics calls allowed (protocol matches). */
  metricsOk: boolean;
  latest: MetricsSample | null;
  installing: boolean;
  lastRestartAt: number;
  retryTimer: NodeJS.Timeout | undefined;
  /** The sync in flight, so refresh() can wait for it. */
  syncing: Promise<void> | undefined;
}

export function newHostEntry(name: string): HostEntry {
  return {
    name,
    status: { name, state: 'unknown', since: Date.now() },
    gen: 0,
    client: undefined,
    transport: undefined,
    manifest: undefined,
    metricsOk: false,
    latest: null,
    installing: false,
    lastRestartAt: 0,
    retryTimer: undefined,
    syncing: undefined,
  };
}

export const isOnline = (conn: AgentHostConnection) => conn.status.state === 'online';

/** The client only while it is open and speaks our protocol; anything else must not be called. */
export function usableClient(e: HostEntry | undefined): AgentClient | undefined {
  return e?.client && !e.client.closed && e.metricsOk ? e.client : undefined;
}

export function forgetClient(e: HostEntry): void {
  e.client = undefined;
  e.transport = undefined;
  e.metricsOk = false;
}

/** Forget the client (and a pending retry) before closing it, so its 'close' event reads as on purpose. */
export function dropClient(e: HostEntry): void {
  if (e.retryTimer) clearTimeout(e.retryTimer);
  e.retryTimer = undefined;
  const c = e.client;
  forgetClient(e);
  c?.close();
}
