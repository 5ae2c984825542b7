import type { AgentStatus, HostStatus, MetricsHistory } from '../../preload/api.js';
import type { AgentMethod, AgentMethods, HistoryRange, MetricsSample } from '../../remote-agent/protocol.js';
import { readManifest } from '../remote/manifest.js';
import { openAgentClient } from './client.js';
import type { AgentManagerDeps, SyncContext } from './deps.js';
import { dropClient, isOnline, newHostEntry, usableClient, type HostEntry } from './host-entry.js';
import { HostStatusKeeper } from './host-status.js';
import { MetricsBatcher } from './metrics-batcher.js';
import { syncHost } from './sync.js';

// Callers import the deps type from here, as they always have.
export type { AgentManagerDeps } from './deps.js';

/**
 * Keeps an AgentClient to the agent of every online host: its state for the fleet card, its latest
 * metrics, its history. Event handlers never throw; clients are closed when their host goes.
 */
export class AgentManager {
  private readonly entries = new Map<string, HostEntry>();
  private readonly batcher: MetricsBatcher;
  private readonly hostStatus: HostStatusKeeper;
  private readonly ctx: SyncContext;
  private unsubscribe: (() => void) | undefined;
  private closed = false;

  constructor(private readonly deps: AgentManagerDeps) {
    this.batcher = new MetricsBatcher((b) => this.deps.onMetrics(b), { intervalMs: deps.batchIntervalMs ?? 1000 });
    this.hostStatus = new HostStatusKeeper(
      (s) => this.deps.onStatus(s),
      (line) => this.log(line),
      (e) => void this.ensure(e),
    );
    const timeoutMs = deps.callTimeoutMs ?? 10_000;
    this.ctx = {
      deps,
      open: deps.open ?? openAgentClient,
      readManifest: deps.readManifest ?? ((conn) => readManifest(conn, { timeoutMs })),
      timeoutMs,
      batcher: this.batcher,
      status: this.hostStatus,
      closed: () => this.closed,
      log: (line) => this.log(line),
    };
  }

  /** Subscribe to host status and look at every host already online. */
  start(): void {
    if (this.unsubscribe || this.closed) return;
    this.unsubscribe = this.deps.statusEvents((s) => this.onHostStatus(s));
    for (const name of this.deps.connections.names()) {
      const conn = this.deps.connections.get(name);
      this.onHostStatus(conn.status);
    }
  }

  status(name: string): AgentStatus {
    return this.entries.get(name)?.status ?? { name, state: 'unknown', since: Date.now() };
  }

  statuses(): AgentStatus[] {
    return this.deps.connections.names().map((n) => this.status(n));
  }

  /** The newest sample of the host, kept while it is offline. */
  latest(name: string): MetricsSample | null {
    return this.entries.get(name)?.latest ?? null;
  }

  /** How the agent is reached now, for diagnostics. */
  transport(name: string): 'streamlocal' | 'exec' | undefined {
    return this.entries.get(name)?.transport;
  }

  async history(name: string, range: HistoryRange): Promise<MetricsHistory> {
    const r = await this.call(name, 'metrics.history', { range });
    return { name, range: r.range, resolutionSeconds: r.resolutionSeconds, points: r.points };
  }

  /**
   * Connect to the agent if not connected yet (without dropping a live client) and report its state.
   * Unlike refresh(), a client that is attached is kept.
   */
  async ready(name: string): Promise<AgentStatus> {
    const e = this.entry(name);
    if (!e.installing && !e.client) {
      e.lastRestartAt = 0;
      await this.ensure(e);
    } else {
      while (e.syncing) await e.syncing;
    }
    return e.status;
  }

  /** Whether an attached, protocol-compatible client exists now. */
  connected(name: string): boolean {
    return !!usableClient(this.entries.get(name));
  }

  /**
   * One RPC call to the host's agent over the attached client. Throws (plain Error, message for people)
   * when there is none; RPC errors come through as AgentRpcError.
   */
  async call<M extends AgentMethod>(name: string, method: M, params: AgentMethods[M]['params'], opts: { timeoutMs?: number } = {}): Promise<AgentMethods[M]['result']> {
    const e = this.entries.get(name);
    const client = usableClient(e);
    if (!client) {
      const why = e?.status.message ? `: ${e.status.message}` : '';
      throw new Error(`The agent on ${name} is not reachable (${e?.status.state ?? 'unknown'})${why}.`);
    }
    return client.call(method, params, { timeoutMs: opts.timeoutMs ?? this.ctx.timeoutMs });
  }

  /** Deploy/upgrade/uninstall in progress: show it, and leave the agent alone until refresh(). */
  setInstalling(name: string, message: string): void {
    const e = this.entry(name);
    e.installing = true;
    e.gen++;
    dropClient(e);
    this.hostStatus.set(e, 'installing', message);
  }

  /** Look at the host again (after deploy, upgrade, uninstall); resolves with the resulting status. */
  async refresh(name: string): Promise<AgentStatus> {
    const e = this.entry(name);
    e.installing = false;
    e.gen++;
    dropClient(e);
    e.lastRestartAt = 0;
    const conn = this.deps.connections.get(name);
    if (!isOnline(conn)) {
      this.hostGone(e, conn.status);
      return e.status;
    }
    await this.ensure(e);
    return e.status;
  }

  /** The host was removed (or renamed): close everything of it. */
  forget(name: string): void {
    const e = this.entries.get(name);
    if (!e) return;
    e.gen++;
    dropClient(e);
    this.batcher.forget(name);
    this.entries.delete(name);
  }

  close(): void {
    this.closed = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    for (const e of this.entries.values()) {
      e.gen++;
      dropClient(e);
    }
    this.batcher.close();
  }

  // -----------------------------------------------------------------------------------------------

  private entry(name: string): HostEntry {
    let e = this.entries.get(name);
    if (!e) {
      e = newHostEntry(name);
      this.entries.set(name, e);
    }
    return e;
  }

  private onHostStatus(s: HostStatus): void {
    try {
      if (this.closed) return;
      const e = this.entry(s.name);
      if (s.state === 'online') {
        void this.ensure(e);
      } else {
        this.hostGone(e, s);
      }
    } catch (err) {
      this.log(`${s.name}: ${(err as Error).message}`);
    }
  }

  private hostGone(e: HostEntry, s: HostStatus): void {
    e.gen++;
    dropClient(e);
    if (e.installing) return;
    // Nothing known yet, or known not installed: the host card already says the host is away.
    if (e.status.state === 'unknown' || e.status.state === 'not-installed') return;
    this.hostStatus.set(e, 'unreachable', s.state === 'offline' || s.state === 'connecting' ? 'host offline' : `host ${s.state}`);
  }

  private log(line: string): void {
    try {
      this.deps.log?.(`[agent-manager] ${line}`);
    } catch {
      /* ignore */
    }
  }

  /** Connect to the agent unless connected, installing or offline; waits out a sync made stale first. */
  private async ensure(e: HostEntry): Promise<void> {
    while (e.syncing) await e.syncing;
    if (this.closed || e.installing || e.client) return;
    if (!isOnline(this.deps.connections.get(e.name))) return;
    await this.sync(e);
  }

  private sync(e: HostEntry): Promise<void> {
    if (e.syncing) return e.syncing;
    const p = syncHost(this.ctx, e)
      .catch((err: unknown) => this.log(`${e.name}: ${(err as Error)?.message ?? String(err)}`))
      .finally(() => {
        if (e.syncing === p) e.syncing = undefined;
      });
    e.syncing = p;
    return p;
  }
}
