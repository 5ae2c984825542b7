import type { AgentState, AgentStatus, HostStatus, MetricsBatch, MetricsHistory } from '../../preload/api.js';
import {
  PROTOCOL_VERSION,
  type AgentMethod,
  type AgentMethods,
  type HistoryRange,
  type IdleStatus,
  type MetricsSample,
  type ResumedEvent,
  type SuspendingEvent,
} from '../../remote-agent/protocol.js';
import {
  AgentUnavailableError,
  openAgentClient,
  type AgentClient,
  type AgentHostConnection,
  type OpenAgentOptions,
  type OpenedAgent,
} from './client.js';
import { agentCommand, agentEnv } from '../remote/layout.js';
import { ManifestError, readManifest, type InstallManifest } from '../remote/manifest.js';
import { MetricsBatcher } from './metrics-batcher.js';

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

interface Entry {
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

const isOnline = (conn: AgentHostConnection) => conn.status.state === 'online';

/**
 * Keeps an AgentClient to the agent of every online host: its state for the fleet card, its latest
 * metrics, its history. Event handlers never throw; clients are closed when their host goes.
 */
export class AgentManager {
  private readonly entries = new Map<string, Entry>();
  private readonly batcher: MetricsBatcher;
  private unsubscribe: (() => void) | undefined;
  private closed = false;
  private readonly open: NonNullable<AgentManagerDeps['open']>;
  private readonly readManifest: NonNullable<AgentManagerDeps['readManifest']>;
  private readonly timeoutMs: number;

  constructor(private readonly deps: AgentManagerDeps) {
    this.batcher = new MetricsBatcher((b) => this.deps.onMetrics(b), { intervalMs: deps.batchIntervalMs ?? 1000 });
    this.open = deps.open ?? openAgentClient;
    this.timeoutMs = deps.callTimeoutMs ?? 10_000;
    this.readManifest = deps.readManifest ?? ((conn) => readManifest(conn, { timeoutMs: this.timeoutMs }));
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
    const e = this.entries.get(name);
    if (!e?.client || e.client.closed || !e.metricsOk) {
      const why = e?.status.message ? `: ${e.status.message}` : '';
      throw new Error(`The agent on ${name} is not reachable (${e?.status.state ?? 'unknown'})${why}.`);
    }
    const r = await e.client.call('metrics.history', { range }, { timeoutMs: this.timeoutMs });
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
    const e = this.entries.get(name);
    return !!e?.client && !e.client.closed && e.metricsOk;
  }

  /**
   * One RPC call to the host's agent over the attached client. Throws (plain Error, message for people)
   * when there is none; RPC errors come through as AgentRpcError.
   */
  async call<M extends AgentMethod>(name: string, method: M, params: AgentMethods[M]['params'], opts: { timeoutMs?: number } = {}): Promise<AgentMethods[M]['result']> {
    const e = this.entries.get(name);
    if (!e?.client || e.client.closed || !e.metricsOk) {
      const why = e?.status.message ? `: ${e.status.message}` : '';
      throw new Error(`The agent on ${name} is not reachable (${e?.status.state ?? 'unknown'})${why}.`);
    }
    return e.client.call(method, params, { timeoutMs: opts.timeoutMs ?? this.timeoutMs });
  }

  /** Deploy/upgrade/uninstall in progress: show it, and leave the agent alone until refresh(). */
  setInstalling(name: string, message: string): void {
    const e = this.entry(name);
    e.installing = true;
    e.gen++;
    this.dropClient(e);
    this.set(e, 'installing', message);
  }

  /** Look at the host again (after deploy, upgrade, uninstall); resolves with the resulting status. */
  async refresh(name: string): Promise<AgentStatus> {
    const e = this.entry(name);
    e.installing = false;
    e.gen++;
    this.dropClient(e);
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
    this.dropClient(e);
    this.batcher.forget(name);
    this.entries.delete(name);
  }

  close(): void {
    this.closed = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    for (const e of this.entries.values()) {
      e.gen++;
      this.dropClient(e);
    }
    this.batcher.close();
  }

  // -----------------------------------------------------------------------------------------------

  private entry(name: string): Entry {
    let e = this.entries.get(name);
    if (!e) {
      e = {
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

  private hostGone(e: Entry, s: HostStatus): void {
    e.gen++;
    this.dropClient(e);
    if (e.installing) return;
    // Nothing known yet, or known not installed: the host card already says the host is away.
    if (e.status.state === 'unknown' || e.status.state === 'not-installed') return;
    this.set(e, 'unreachable', s.state === 'offline' || s.state === 'connecting' ? 'host offline' : `host ${s.state}`);
  }

  private dropClient(e: Entry): void {
    if (e.retryTimer) clearTimeout(e.retryTimer);
    e.retryTimer = undefined;
    const c = e.client;
    e.client = undefined;
    e.transport = undefined;
    e.metricsOk = false;
    c?.close();
  }

  private set(e: Entry, state: AgentState, message?: string, extra: Partial<AgentStatus> = {}): void {
    const prev = e.status;
    const next: AgentStatus = { name: e.name, state, since: prev.state === state ? prev.since : Date.now() };
    if (message) next.message = message;
    Object.assign(next, extra);
    if (
      prev.state === next.state &&
      prev.message === next.message &&
      prev.version === next.version &&
      prev.mode === next.mode &&
      JSON.stringify(prev.info) === JSON.stringify(next.info)
    ) {
      return;
    }
    e.status = next;
    try {
      this.deps.onStatus(next);
    } catch (err) {
      this.log(`onStatus listener failed: ${(err as Error).message}`);
    }
  }

  private log(line: string): void {
    try {
      this.deps.log?.(`[agent-manager] ${line}`);
    } catch {
      /* ignore */
    }
  }

  private scheduleRetry(e: Entry, ms: number): void {
    if (e.retryTimer) clearTimeout(e.retryTimer);
    const gen = e.gen;
    e.retryTimer = setTimeout(() => {
      e.retryTimer = undefined;
      if (gen !== e.gen) return;
      void this.ensure(e);
    }, ms);
    e.retryTimer.unref?.();
  }

  /** Connect to the agent unless connected, installing or offline; waits out a sync made stale first. */
  private async ensure(e: Entry): Promise<void> {
    while (e.syncing) await e.syncing;
    if (this.closed || e.installing || e.client) return;
    if (!isOnline(this.deps.connections.get(e.name))) return;
    await this.sync(e);
  }

  private sync(e: Entry): Promise<void> {
    if (e.syncing) return e.syncing;
    const p = this.doSync(e)
      .catch((err: unknown) => this.log(`${e.name}: ${(err as Error)?.message ?? String(err)}`))
      .finally(() => {
        if (e.syncing === p) e.syncing = undefined;
      });
    e.syncing = p;
    return p;
  }

  private async doSync(e: Entry): Promise<void> {
    const gen = ++e.gen;
    const stale = () => gen !== e.gen || this.closed;
    const conn = this.deps.connections.get(e.name);
    if (!isOnline(conn)) return;

    let manifest: InstallManifest | null;
    try {
      manifest = await this.readManifest(conn);
    } catch (err) {
      if (stale()) return;
      if (err instanceof ManifestError) {
        this.set(e, 'not-installed', err.message);
        return;
      }
      if (!isOnline(conn)) return;
      this.set(e, 'unreachable', `cannot read the install manifest: ${(err as Error).message}`);
      this.scheduleRetry(e, this.deps.retryMs ?? 30_000);
      return;
    }
    if (stale()) return;
    if (!manifest) {
      e.manifest = undefined;
      this.set(e, 'not-installed', 'No agent installed on this host.');
      return;
    }
    e.manifest = manifest;

    let opened: OpenedAgent;
    try {
      opened = await this.open(conn, manifest, { timeoutMs: this.timeoutMs });
    } catch (err) {
      if (stale()) return;
      const restarted = await this.maybeRestart(e, conn, manifest, err, stale);
      if (stale()) {
        restarted?.client.close();
        return;
      }
      if (!restarted) return;
      opened = restarted;
    }
    if (stale()) {
      opened.client.close();
      return;
    }
    await this.attach(e, opened, stale);
  }

  /** The agent could not be opened: restart a detached one (once per interval) or report why. */
  private async maybeRestart(
    e: Entry,
    conn: AgentHostConnection,
    manifest: InstallManifest,
    err: unknown,
    stale: () => boolean,
  ): Promise<OpenedAgent | undefined> {
    const message = (err as Error)?.message ?? String(err);
    const notRunning = err instanceof AgentUnavailableError && err.reason === 'not-running';
    const retryMs = this.deps.retryMs ?? 30_000;
    if (!notRunning || manifest.supervisor !== 'detached') {
      if (isOnline(conn)) {
        this.set(e, 'unreachable', message, { mode: manifest.mode, version: manifest.version });
        this.scheduleRetry(e, retryMs);
      }
      return undefined;
    }
    const interval = this.deps.restartIntervalMs ?? 60_000;
    const since = Date.now() - e.lastRestartAt;
    if (e.lastRestartAt && since < interval) {
      this.set(e, 'unreachable', `${message} (restarted ${Math.round(since / 1000)} s ago; trying again later)`, {
        mode: manifest.mode,
        version: manifest.version,
      });
      this.scheduleRetry(e, Math.min(retryMs, interval - since + 10));
      return undefined;
    }
    e.lastRestartAt = Date.now();
    this.log(`${e.name}: agent not running, starting it (${manifest.agentPath} run --detach)`);
    try {
      // Same files as the deploy recorded, whatever this session's XDG_RUNTIME_DIR says.
      const command = agentCommand(manifest, ['run', '--mode', manifest.mode, '--detach'], { env: agentEnv(manifest) });
      const r = await conn.exec(command, { timeoutMs: this.timeoutMs });
      if (stale()) return undefined;
      if (r.code !== 0) {
        const why = (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ') || `exit ${r.code ?? r.signal}`;
        this.set(e, 'unreachable', `${message}; restarting it failed: ${why}`, { mode: manifest.mode, version: manifest.version });
        this.scheduleRetry(e, retryMs);
        return undefined;
      }
    } catch (startErr) {
      if (stale()) return undefined;
      if (isOnline(conn)) {
        this.set(e, 'unreachable', `${message}; restarting it failed: ${(startErr as Error).message}`);
        this.scheduleRetry(e, retryMs);
      }
      return undefined;
    }
    // `run --detach` may return before the socket is bound: try it for a little while.
    const deadline = Date.now() + (this.deps.restartWaitMs ?? 5_000);
    let last: unknown;
    for (;;) {
      if (stale() || !isOnline(conn)) return undefined;
      try {
        return await this.open(conn, manifest, { timeoutMs: this.timeoutMs });
      } catch (again) {
        last = again;
        if (!(again instanceof AgentUnavailableError && again.reason === 'not-running') || Date.now() >= deadline) break;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    if (stale()) return undefined;
    this.set(e, 'unreachable', `restarted the agent, but it is still not reachable: ${(last as Error)?.message ?? String(last)}`, {
      mode: manifest.mode,
      version: manifest.version,
    });
    this.scheduleRetry(e, retryMs);
    return undefined;
  }

  private async attach(e: Entry, opened: OpenedAgent, stale: () => boolean): Promise<void> {
    const { client, info } = opened;
    e.client = client;
    e.transport = opened.transport;
    const protocolOk = info.protocolVersion === PROTOCOL_VERSION;
    e.metricsOk = protocolOk;
    client.on('close', (reason: Error) => {
      try {
        if (e.client !== client) return; // closed on purpose
        e.client = undefined;
        e.transport = undefined;
        e.metricsOk = false;
        if (this.closed || e.installing) return;
        const conn = this.deps.connections.get(e.name);
        if (!isOnline(conn)) return; // the status handler says "host offline"
        this.set(e, 'unreachable', `agent connection lost: ${reason.message}`, { mode: info.mode, version: info.version });
        // Reconnect soon: a detached agent that died is restarted there, a systemd one comes back by itself.
        this.scheduleRetry(e, Math.min(1_000, this.deps.retryMs ?? 30_000));
      } catch (err) {
        this.log(`${e.name}: ${(err as Error).message}`);
      }
    });

    const extra: Partial<AgentStatus> = { version: info.version, mode: info.mode, info };
    let state: AgentState = 'running';
    let message: string | undefined;
    if (!protocolOk) {
      state = 'outdated';
      message = `Agent speaks protocol ${info.protocolVersion}, this app needs ${PROTOCOL_VERSION}. Upgrade the agent.`;
    } else if (info.version !== this.deps.bundledVersion) {
      state = 'outdated';
      message = `Agent ${info.version} is installed, this app ships ${this.deps.bundledVersion}. Upgrade the agent.`;
    } else if (info.configError) {
      message = `Config problem: ${info.configError}`;
    }
    if (opened.transport === 'exec' && opened.streamlocalError) {
      this.log(`${e.name}: using the exec bridge (streamlocal: ${opened.streamlocalError})`);
    }
    this.set(e, state, message, extra);
    if (!protocolOk) return;

    client.onNotification('metrics.sample', (sample) => {
      if (e.client !== client) return;
      e.latest = sample;
      this.batcher.push(e.name, sample);
    });
    // Pushed to every connection (suspending, resumed) or to subscribers (idle.status); listeners never throw out.
    const relay = <T>(what: string, fn: ((name: string, v: T) => void) | undefined) => (v: T) => {
      if (e.client !== client || !fn) return;
      try {
        fn(e.name, v);
      } catch (err) {
        this.log(`${e.name}: ${what} listener failed: ${(err as Error).message}`);
      }
    };
    client.onNotification('agent.suspending', relay('agent.suspending', this.deps.onSuspending));
    client.onNotification('agent.resumed', relay('agent.resumed', this.deps.onResumed));
    client.onNotification('idle.status', relay('idle.status', this.deps.onIdleStatus));
    try {
      const latest = await client.call('metrics.latest', {}, { timeoutMs: this.timeoutMs });
      if (latest && !stale() && e.client === client && (!e.latest || latest.sampledAt >= e.latest.sampledAt)) {
        e.latest = latest;
        this.batcher.push(e.name, latest);
      }
      await client.call('metrics.subscribe', {}, { timeoutMs: this.timeoutMs });
    } catch (err) {
      if (stale() || e.client !== client) return;
      this.log(`${e.name}: metrics subscription failed: ${(err as Error).message}`);
      return;
    }
    // idle.status is pushed on changes only: start from the current one (energy, tray and UI need it).
    try {
      const idle = await client.call('idle.status', {}, { timeoutMs: this.timeoutMs });
      if (!stale()) relay('idle.status', this.deps.onIdleStatus)(idle);
    } catch (err) {
      if (!stale() && e.client === client) this.log(`${e.name}: idle status failed: ${(err as Error).message}`);
    }
  }
}
