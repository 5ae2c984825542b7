/**
 * The agent's kernel: lifecycle (state folder, socket, pid file), the tick loop, resume detection and
 * config reload. Everything else is a feature (kernel/feature.ts) that it composes: their RPC methods,
 * their sample, resume and config hooks, in the order the daemon lists them.
 */
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:net';
import { createLogger, type AgentConfig, type Logger } from '../config/index.js';
import { LiveConfig } from '../config/live.js';
import type { AgentPaths } from '../paths.js';
import type { AgentCapabilities, AgentMethod } from '../protocol.js';
import { toMethodSpec, type AgentMethodDef } from '../rpc/params.js';
import { RpcServer, type MethodSpec } from '../rpc/server.js';
import { listenAgentSocket, removeSocketFile } from '../rpc/socket.js';
import { VERSION } from '../version.js';
import { REAL_CLOCK, type Clock } from './clock.js';
import type { AgentCounters, AgentFeature, FeatureContext, FeatureFactory, Resume } from './feature.js';
import { readPidFile, removeOwnPidFile, writePidFile } from './pid-file.js';

export interface KernelDeps {
  clock?: Clock;
}

export interface KernelOptions<D extends KernelDeps> {
  paths: AgentPaths;
  deps: D;
  log?: Logger;
  /** Listen on paths.socket (default true). Tests pass false and use daemon.rpc.handle(stream). */
  listen?: boolean;
  /** Watch the config file's folder for changes (default true); the fingerprint check each tick runs anyway. */
  watchConfig?: boolean;
  /** Write paths.pidFile (default: same as listen). */
  pidFile?: boolean;
  env?: NodeJS.ProcessEnv;
}

/**
 * Resume detection. Each tick is due at a known wall-clock time; when its timer fires late, the process
 * did not run for that long: the box slept (Node's timers count monotonic time, which stops in suspend,
 * while the wall clock goes on), or the agent was frozen (SIGSTOP, a paused VM). A slow sample never
 * counts: the next tick is scheduled only after the previous one finished.
 *  - In general a resume is a tick later than resumeGapMs (3 x interval + 10 s): generous, so an
 *    overloaded box or a clock step does not raise a false "resumed".
 *  - While a feature expects the box to sleep (the agent ran the suspend command itself),
 *    EXPECTED_SLEEP_LATENESS_MS is enough: short sleeps are noticed too.
 */
export function resumeGapMs(intervalSeconds: number): number {
  return (3 * intervalSeconds + 10) * 1000;
}
/** Short: a box that was suspended for a few seconds (or a quick wake) must still close its period. */
export const EXPECTED_SLEEP_LATENESS_MS = 1500;

type LifecycleHook = 'restore' | 'start' | 'drain' | 'stop' | 'beforeSuspend';

export class AgentKernel<D extends KernelDeps> {
  readonly rpc: RpcServer;
  readonly log: Logger;
  readonly startedAt: number;
  readonly counters: AgentCounters = { samples: 0, sampleErrors: 0, reloads: 0, suspends: 0, resumes: 0 };

  private readonly paths: AgentPaths;
  private readonly clock: Clock;
  private readonly opts: KernelOptions<D>;
  private readonly live: LiveConfig;
  private readonly features: AgentFeature[] = [];
  private readonly byFactory = new Map<FeatureFactory<D>, AgentFeature>();
  private readonly sampler: AgentFeature;
  private server: Server | null = null;
  private timer: unknown = null;
  private tickRunning: Promise<void> | null = null;
  private stopping = false;
  private started = false;
  /** Wall-clock time the next tick is due (null before the first timer). */
  private nextDueAt: number | null = null;
  /** clock.now() and clock.monotonic() when nextDueAt was set. */
  private scheduledWall = 0;
  private scheduledMono: number | null = null;

  constructor(opts: KernelOptions<D>, factories: readonly FeatureFactory<D>[]) {
    this.opts = opts;
    this.paths = opts.paths;
    this.clock = opts.deps.clock ?? REAL_CLOCK;
    this.log = opts.log ?? createLogger();
    this.startedAt = this.clock.now();
    this.live = new LiveConfig({ path: this.paths.configFile, log: this.log, onChange: (next, old) => this.configChanged(next, old) });
    const ctx = this.context();
    const methods: Record<string, MethodSpec> = {};
    for (const factory of factories) {
      const feature = factory(ctx);
      this.features.push(feature);
      this.byFactory.set(factory, feature);
      for (const [name, def] of Object.entries(feature.methods ?? {})) {
        if (methods[name]) throw new Error(`feature ${feature.name}: method ${name} is already served`);
        methods[name] = toMethodSpec(def as AgentMethodDef<AgentMethod>);
      }
    }
    const samplers = this.features.filter((f) => f.sample);
    if (samplers.length !== 1) throw new Error(`exactly one feature must take samples (got ${samplers.length})`);
    this.sampler = samplers[0]!;
    this.rpc = new RpcServer({ methods, log: this.log });
  }

  /** The instance a factory made, for the composition's own typed accessors. */
  protected feature<F extends AgentFeature>(factory: FeatureFactory<never, F>): F {
    const f = this.byFactory.get(factory as unknown as FeatureFactory<D>);
    if (!f) throw new Error('feature not registered');
    return f as F;
  }

  /** The config in force: the last good one. */
  get config(): AgentConfig {
    return this.live.config;
  }

  /** The last config problem while the last good config is kept, else null. */
  get configError(): string | null {
    return this.live.error;
  }

  private context(): FeatureContext<D> {
    return {
      paths: this.paths,
      deps: this.opts.deps,
      log: this.log,
      clock: this.clock,
      env: this.opts.env,
      counters: this.counters,
      startedAt: this.startedAt,
      config: () => this.live.config,
      configError: () => this.live.error,
      started: () => this.started,
      stopping: () => this.stopping,
      notify: (method, params, to) => this.rpc.broadcast(method, params, to),
      capabilities: async () => {
        const parts = await Promise.all(this.features.map((f) => f.capabilities?.() ?? {}));
        return Object.assign({}, ...parts) as Partial<AgentCapabilities>;
      },
      beforeSuspend: () => this.runHooks('beforeSuspend', { guarded: true }),
    };
  }

  /**
   * Runs a hook of every feature in list order. Unguarded (starting), a throw stops the daemon from
   * starting; guarded (stopping, suspending), it is logged and the other features still run.
   */
  private async runHooks(hook: LifecycleHook, opts: { guarded: boolean }): Promise<void> {
    for (const f of this.features) {
      if (!opts.guarded) {
        await f[hook]?.();
        continue;
      }
      try {
        await f[hook]?.();
      } catch (err) {
        this.log.error(`${f.name}: ${hook} failed`, { error: err });
      }
    }
  }

  async start(): Promise<void> {
    if (this.started) throw new Error('daemon already started');
    this.started = true;
    const { paths } = this;
    mkdirSync(paths.stateDir, { recursive: true, mode: paths.mode === 'user' ? 0o700 : 0o755 });
    await this.runHooks('restore', { guarded: false });
    if (this.configError) this.log.warn('config invalid, using defaults', { error: this.configError });
    if (this.opts.listen !== false) {
      this.server = await listenAgentSocket({
        socketPath: paths.socket,
        mode: paths.mode,
        onConnection: (sock) => {
          this.log.debug('rpc connection');
          this.rpc.handle(sock);
        },
        pidOf: async () => readPidFile(paths.pidFile),
        log: this.log,
      });
    }
    if (this.writesPidFile()) writePidFile(paths.pidFile);
    await this.runHooks('start', { guarded: false });
    if (this.opts.watchConfig !== false) {
      this.live.watch(() => {
        if (!this.stopping) this.checkConfig();
      });
    }
    this.log.info('fleetwake-agent started', {
      version: VERSION,
      mode: paths.mode,
      socket: this.opts.listen === false ? undefined : paths.socket,
      config: paths.configFile,
      interval: this.config.metrics.intervalSeconds,
      pid: process.pid,
    });
    // First sample now (cpu percent is null on it), then on interval boundaries.
    this.runTick();
  }

  private writesPidFile(): boolean {
    return this.opts.pidFile ?? this.opts.listen !== false;
  }

  private scheduleNext(): void {
    if (this.stopping) return;
    const intervalMs = this.config.metrics.intervalSeconds * 1000;
    const now = this.clock.now();
    // Aligned to multiples of the interval: no drift, and a slow sample skips a slot instead of overlapping.
    let delay = intervalMs - (now % intervalMs);
    if (delay < Math.min(50, intervalMs / 10)) delay += intervalMs;
    this.nextDueAt = now + delay;
    this.scheduledWall = now;
    this.scheduledMono = this.clock.monotonic?.() ?? null;
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      this.runTick();
    }, delay);
  }

  private runTick(): void {
    if (this.stopping || this.tickRunning) return;
    this.tickRunning = this.tick()
      .catch((err) => this.log.error('sample tick failed', { error: err }))
      .finally(() => {
        this.tickRunning = null;
        this.scheduleNext();
      });
  }

  /** One loop step: resume check, config check, a sample, then every feature's sample hook. */
  async tick(): Promise<void> {
    const tickAt = this.clock.now();
    if (this.nextDueAt !== null) {
      const late = tickAt - this.nextDueAt;
      this.nextDueAt = null;
      const expected = this.features.some((f) => f.expectsSleep?.() === true);
      // Time the box spent suspended: the wall clock ran on, the monotonic one did not (null: unknown).
      const mono = this.clock.monotonic?.();
      const suspendedMs = mono !== undefined && this.scheduledMono !== null ? tickAt - this.scheduledWall - (mono - this.scheduledMono) : null;
      if (late > resumeGapMs(this.config.metrics.intervalSeconds) || (expected && late > EXPECTED_SLEEP_LATENESS_MS)) this.resumed({ at: tickAt, awayMs: late, suspendedMs });
    }
    this.checkConfig();
    for (const f of this.features) f.beforeSample?.();
    let sample;
    try {
      sample = await this.sampler.sample!();
    } catch (err) {
      this.counters.sampleErrors++;
      this.log.error('sampling failed', { error: err });
      return;
    }
    if (this.stopping) return;
    this.counters.samples++;
    for (const f of this.features) await f.onSample?.(sample);
  }

  private resumed(resume: Resume): void {
    this.counters.resumes++;
    const fields: Record<string, unknown> = {};
    for (const f of this.features) Object.assign(fields, f.onResume?.(resume));
    const sleptSeconds = Math.round(resume.awayMs / 1000);
    const told = this.rpc.broadcast('agent.resumed', { at: resume.at, sleptSeconds });
    this.log.info('resume detected', { sleptSeconds, ...fields, clients: told });
  }

  /** Reloads when the config file changed since the last look. */
  checkConfig(): void {
    if (this.live.changedOnDisk()) this.reloadConfig();
  }

  /** Re-reads agent.yaml; keeps the last good config when it is invalid. Returns the error, or null. */
  reloadConfig(): string | null {
    this.counters.reloads++;
    return this.live.reload();
  }

  private configChanged(next: AgentConfig, old: AgentConfig): void {
    for (const f of this.features) f.onConfig?.(old);
    if (old.metrics.intervalSeconds !== next.metrics.intervalSeconds && this.timer !== null && !this.tickRunning) {
      this.clock.clearTimeout(this.timer);
      this.timer = null;
      this.scheduleNext();
    }
  }

  /** Graceful stop: no more ticks, work in flight waited for, socket closed and removed, files flushed, pid file gone. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.live.unwatch();
    const running = this.tickRunning;
    if (running) await Promise.race([running, new Promise((r) => setTimeout(r, 5000).unref())]);
    await this.runHooks('drain', { guarded: true });
    this.rpc.closeAll();
    if (this.server) {
      const server = this.server;
      this.server = null;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      removeSocketFile(this.paths.socket);
    }
    await this.runHooks('stop', { guarded: true });
    if (this.writesPidFile()) removeOwnPidFile(this.paths.pidFile);
    this.log.info('fleetwake-agent stopped');
  }
}
