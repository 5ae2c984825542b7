import type { EnergyReport, HostIdle, IdleSettings, SleepApi, SleepPeriod, SuspendResult, WakeOptions, WakeResult } from '../../preload/api.js';
import { RPC_ERRORS, type IdleStatus } from '../../remote-agent/protocol.js';
import type { AgentManager } from '../agent/manager.js';
import type { FleetContext } from '../core/context.js';
import { FleetError } from '../core/errors.js';
import { computeEnergy, mergeSleepPeriods } from './energy/index.js';
import type { Notifier } from '../notify/index.js';
import { SLEEP_LOG_LIMIT } from '../store/schema.js';
import { checkIdleSettings, idleLocked, idleRefusal } from './wake/idle.js';
import { wakeHost as runWake, WAKE_CANCELLED, type WakeDeps } from './wake/wake.js';
import type { SleepWatch } from './watch.js';

/** The energy report covers the last 30 days. */
const ENERGY_WINDOW_MS = 30 * 24 * 3_600_000;

/** Sleep and wake as the user asks for them: wake, suspend, idle settings, sleep history, energy. */
export class SleepService implements SleepApi {
  constructor(
    private readonly ctx: FleetContext,
    private readonly agents: AgentManager,
    private readonly watch: SleepWatch,
    private readonly notifier: Notifier,
  ) {}

  /** Wakes in progress, each cancellable by the user. */
  private readonly wakes = new Map<string, AbortController>();

  private wakeDeps(signal: AbortSignal = this.ctx.closing.signal): WakeDeps {
    const { ctx, agents, watch } = this;
    const w = ctx.deps.wake ?? {};
    const deps: WakeDeps = {
      host: (n) => ctx.getHost(n),
      hosts: () => ctx.data().hosts,
      net: (n) => watch.wakeState.net(n),
      sshState: (n) => ctx.pool.statusOf(n).state,
      agentConnected: (n) => agents.connected(n),
      // After close() the pool must not grow new connections from a wake still winding down.
      connectNow: async (n) => (ctx.closed ? { name: n, state: 'offline', error: 'Closed.', since: Date.now() } : ctx.pool.get(n).connectNow()),
      agentReady: (n) => agents.ready(n),
      relaySend: (relay, params) => agents.call(relay, 'wol.send', params),
      onProgress: (p) => {
        this.notifier.wakeProgress(p);
        ctx.emit('wake-progress', p);
      },
      setWaking: (n, on) => watch.setWaking(n, on),
      signal,
    };
    if (w.guard) deps.guard = w.guard;
    if (w.send) deps.send = w.send;
    if (w.networkInterfaces) deps.networkInterfaces = w.networkInterfaces;
    if (w.tcpProbe) deps.tcpProbe = w.tcpProbe;
    if (w.pollIntervalMs !== undefined) deps.pollIntervalMs = w.pollIntervalMs;
    return deps;
  }

  async wakeHost(name: string, options?: WakeOptions): Promise<WakeResult> {
    this.ctx.getHost(name);
    if (this.watch.isWaking(name)) throw new FleetError('conflict', `${name} is already being woken; wait for it to come back or time out.`, 'name');
    const cancel = new AbortController();
    this.wakes.set(name, cancel);
    let result: WakeResult;
    try {
      result = await runWake(this.wakeDeps(AbortSignal.any([this.ctx.closing.signal, cancel.signal])), name, options);
    } finally {
      if (this.wakes.get(name) === cancel) this.wakes.delete(name);
    }
    if (result.state === 'online') {
      // The refused connections while it slept were expected, not news: a good wake leaves no "last error".
      const conn = this.ctx.pool.get(name);
      if (conn.status.lastError !== undefined) {
        conn.forgetLastError();
        this.ctx.emit('host-status', this.watch.overlay(conn.status));
      }
    }
    return result;
  }

  /** The agent of a host, connected (SSH and agent) on demand; FleetError 'failed' saying why not. */
  private async agentOf(name: string): Promise<void> {
    this.ctx.getHost(name);
    const asleep = this.watch.wakeState.asleep(name);
    if (asleep && this.ctx.pool.statusOf(name).state !== 'online') {
      // Try anyway (it may have been woken by someone else), but say "asleep" when it is not there.
      const s = await this.ctx.pool.get(name).connectNow();
      if (s.state !== 'online') throw new FleetError('failed', `${name} is asleep (since ${new Date(asleep.at).toISOString()}). Wake it first: fleetwake wake ${name}`);
    }
    await this.ctx.onlineConnection(name);
    const a = await this.agents.ready(name);
    if (!this.agents.connected(name)) {
      const hint = a.state === 'not-installed' ? ` Install it with: fleetwake agent deploy ${name}` : '';
      throw new FleetError('failed', `The agent on ${name} is ${a.state}${a.message ? `: ${a.message}` : ''}.${hint}`);
    }
  }

  private async agentCall<T>(name: string, what: string, fn: () => Promise<T>): Promise<T> {
    await this.agentOf(name);
    try {
      return await fn();
    } catch (e) {
      if (e instanceof FleetError) throw e;
      const msg = (e as Error)?.message ?? String(e);
      const code = (e as { code?: number }).code;
      // The agent validates settings itself: its refusal is the user's input being wrong.
      if (code === RPC_ERRORS.INVALID_PARAMS) throw idleRefusal(name, msg);
      if (code === RPC_ERRORS.LOCKED) throw idleLocked(name, msg, (e as { data?: unknown }).data);
      if (code === -32601) throw new FleetError('failed', `The agent on ${name} cannot ${what} (it is too old: upgrade it with fleetwake agent upgrade ${name}).`);
      throw new FleetError('failed', `${name}: could not ${what}: ${msg}`);
    }
  }

  async cancelWake(name: string): Promise<void> {
    this.ctx.getHost(name);
    const wake = this.wakes.get(name);
    if (!wake) throw new FleetError('not-found', `${name} is not being woken, so there is nothing to cancel.`, 'name');
    wake.abort(WAKE_CANCELLED);
  }

  async suspendHost(name: string): Promise<SuspendResult> {
    const r = await this.agentCall(name, 'suspend', () => this.agents.call(name, 'suspend.now', {}));
    // Remembered now as well: a CLI exits before the agent's announcement would reach it.
    if (!r.dryRun) this.watch.wakeState.setAsleep(name, { at: r.at, reason: 'manual' });
    return { name, at: r.at, dryRun: r.dryRun };
  }

  async getIdleStatus(name: string): Promise<HostIdle> {
    this.ctx.getHost(name);
    let status: IdleStatus;
    try {
      status = await this.agentCall(name, 'read the idle status', () => this.agents.call(name, 'idle.status', {}));
    } catch (e) {
      if (e instanceof FleetError && e.code === 'failed') return { name, status: null, message: e.message };
      throw e;
    }
    this.watch.notePlan(name, status);
    return { name, status };
  }

  async configureIdle(name: string, settings: Partial<IdleSettings>): Promise<HostIdle> {
    this.ctx.getHost(name);
    const checked = checkIdleSettings(settings);
    const status = await this.agentCall(name, 'change the idle settings', () => this.agents.call(name, 'idle.configure', { settings: checked }));
    this.watch.notePlan(name, status);
    const idle: HostIdle = { name, status };
    this.ctx.emit('idle-status', idle);
    return idle;
  }

  /** Newest first. From the agent when it answers; from what the core saw while the host sleeps or is away. */
  async getSleepHistory(name: string): Promise<SleepPeriod[]> {
    this.ctx.getHost(name);
    const own = () => {
      const log = this.ctx.data().sleepLog;
      return Object.hasOwn(log, name) ? [...log[name]!].reverse() : [];
    };
    // A sleeping host cannot answer, and trying would cost a connect timeout.
    if (this.watch.wakeState.asleep(name) && this.ctx.pool.statusOf(name).state !== 'online') return own();
    try {
      return await this.agentCall(name, 'read the sleep history', () => this.agents.call(name, 'sleep.history', {}));
    } catch (e) {
      if (!(e instanceof FleetError && e.code === 'failed') || this.agents.connected(name)) throw e;
      const seen = own();
      if (seen.length === 0) throw e;
      return seen;
    }
  }

  async getEnergyReport(): Promise<EnergyReport> {
    const until = Date.now();
    const since = until - ENERGY_WINDOW_MS;
    const data = this.ctx.data();
    const periods = new Map<string, SleepPeriod[]>();
    const measuredIdleWatts = new Map<string, number | null>();
    await Promise.all(
      data.hosts.map(async (h) => {
        const own = Object.hasOwn(data.sleepLog, h.name) ? data.sleepLog[h.name]! : [];
        let fromAgent: SleepPeriod[] = [];
        if (this.agents.connected(h.name)) {
          // The agent's record wins where both saw the same sleep; an unreachable agent leaves ours.
          fromAgent = await this.agents.call(h.name, 'sleep.history', {}).catch(() => []);
        }
        periods.set(h.name, mergeSleepPeriods(fromAgent, own, SLEEP_LOG_LIMIT));
        measuredIdleWatts.set(h.name, this.watch.idleDraw.watts(h.name));
      }),
    );
    return computeEnergy({ periods, since, until, prefs: data.preferences, measuredIdleWatts, hosts: data.hosts.map((h) => h.name) });
  }
}
