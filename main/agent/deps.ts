import type { AgentStatus, HostStatus, MetricsBatch } from '../../preload/api.js';
import type { IdleStatus, ResumedEvent, SuspendingEvent } from '../../remote-agent/protocol.js';
import type { InstallManifest } from '../remote/manifest.js';
import type { AgentHostConnection, OpenAgentOptions, OpenedAgent } from './client.js';
import type { HostStatusKeeper } from './host-status.js';
import type { MetricsBatcher } from './metrics-batcher.js';

// Here rather than in manager.ts so the sync and restart modules need not import the manager.
export interface AgentManagerDeps {
  /** The shared SSH connections (a ConnectionPool plus the list of host names satisfies it). */
  connections: { get(name: string): AgentHostConnection; names(): string[] };
  /** Subscribe to every HostConnection 'status' event; returns the unsubscribe function. */
  statusEvents: (listener: (s: HostStatus) => void) => () => void;
  /** Version string of the agent bundle this app ships (as `fleetwake-agent version` prints it). */
  bundledVersion: string;
  onStatus: (s: AgentStatus) => void;
  onMetrics: (b: MetricsBatch) => void;
  /** The agent announced a suspend (pushed right before its suspend command runs). */
  onSuspending?: (name: string, ev: SuspendingEvent) => void;
  /** The agent noticed it was away (suspend/resume). */
  onResumed?: (name: string, ev: ResumedEvent) => void;
  /** The idle state or a gate changed (pushed to subscribed connections). */
  onIdleStatus?: (name: string, status: IdleStatus) => void;
  /** Batch interval of metrics events (default 1000 ms). */
  batchIntervalMs?: number;
  /** Least time between two restarts of a detached agent (default 60 s). */
  restartIntervalMs?: number;
  /** Retry of an unreachable agent while its host is online (default 30 s). */
  retryMs?: number;
  /** After a restart, how long to keep trying the socket (default 5 s). */
  restartWaitMs?: number;
  /** Timeout of RPC calls and of the execs this manager runs (default 10 s). */
  callTimeoutMs?: number;
  /** Replaceable for tests. */
  open?: (conn: AgentHostConnection, manifest: InstallManifest, opts?: OpenAgentOptions) => Promise<OpenedAgent>;
  readManifest?: (conn: AgentHostConnection) => Promise<InstallManifest | null>;
  log?: (line: string) => void;
}

/** What a sync needs of the manager, without the manager: its deps resolved to their defaults. */
export interface SyncContext {
  readonly deps: AgentManagerDeps;
  readonly open: NonNullable<AgentManagerDeps['open']>;
  readonly readManifest: NonNullable<AgentManagerDeps['readManifest']>;
  readonly timeoutMs: number;
  readonly batcher: MetricsBatcher;
  readonly status: HostStatusKeeper;
  closed(): boolean;
  log(line: string): void;
}
