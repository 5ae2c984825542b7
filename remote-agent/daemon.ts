/**
 * The agent daemon: config (with last-good reloads), the sampling loop, metrics history, the idle engine
 * and suspend (idle/), and the JSON-RPC methods of protocol.ts, served on the unix socket. Everything it touches outside itself is injected
 * (DaemonDeps) so tests run it with fakes and a fake clock; cli.ts wires the real modules.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, unlinkSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import type { Server } from 'node:net';
import { hostname as osHostname } from 'node:os';
import { basename, dirname } from 'node:path';
import { createLogger, loadConfig, type AgentConfig, type Logger } from './config/index.js';
import { CheckRunner, realChecks, realExec, type Exec, type IdleChecks } from './idle/checks.js';
import { IdleEngine, statusSignature, type EngineSettings, type EngineStatus } from './idle/engine.js';
import { SleepHistory } from './idle/sleep-history.js';
import { crossFieldProblem, effectiveSettings, fileSettings, IDLE_SETTING_KEYS, SettingsStore, validateIdleSettings, YAML_KEYS } from './idle/settings.js';
import { armWol, parseMac, sendMagicPacket, WOL_DEFAULT_PORT, wolSendProblem } from './idle/wol.js';
import type { AgentPaths } from './paths.js';
import { resolveOnPath } from './paths.js';
import {
  PROTOCOL_VERSION,
  RPC_ERRORS,
  type AgentCapabilities,
  type AgentInfo,
  type AgentMethods,
  type HistoryPoint,
  type HistoryRange,
  type IdleSettings,
  type IdleStatus,
  type MetricsSample,
  type NetworkInterfaceInfo,
  type ResumedEvent,
  type SleepPeriod,
  type SuspendingEvent,
} from './protocol.js';
import { listenAgentSocket, removeSocketFile } from './rpc/socket.js';
import { noParams, RpcError, RpcServer, type MethodSpec, type RpcConnection } from './rpc/server.js';
import { VERSION } from './version.js';

export interface Sampler {
  sample(): Promise<MetricsSample>;
  capabilities(): { gpu: boolean; gpuReason: string | null; rapl: boolean };
}

export interface HistoryQueryResult {
  range: HistoryRange;
  resolutionSeconds: number;
  points: HistoryPoint[];
}

export interface History {
  add(sample: MetricsSample): unknown;
  query(range: HistoryRange): HistoryQueryResult | Promise<HistoryQueryResult>;
  flush(): unknown;
  close(): unknown;
}

export interface HostCapabilities {
  systemd: boolean;
  docker: boolean;
  sudo: boolean;
}

export interface Clock {
  now(): number;
  /**
   * A clock that stops while the box is suspended (CLOCK_MONOTONIC; performance.now() in Node), in ms.
   * Against now() it tells a suspend (only the wall clock moved) from a frozen process (both moved).
   */
  monotonic?(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface DaemonDeps {
  createSampler(opts: { nvidiaSmiPath: string; nvidiaSmiTimeoutMs: number; stateDir: string }): Sampler;
  createHistory(opts: { stateDir: string }): History;
  probeGpu(path: string, timeoutMs: number): Promise<{ gpu: boolean; reason: string | null }>;
  primaryInterface(): NetworkInterfaceInfo | null;
  /** Defaults to detectHostCapabilities(). */
  detectHost?(): Promise<HostCapabilities>;
  hostname?(): string;
  clock?: Clock;
  /** The outside idle checks (inhibitors, sessions, Ollama, custom); default: the real ones (idle/checks.ts). */
  idleChecks?: IdleChecks;
  /** Runs ethtool and the suspend command (execFile, no shell); default: the real one. */
  exec?: Exec;
  /** Sends magic packets for wol.send; default: dgram (idle/wol.ts). */
  sendWol?(opts: { mac: Buffer; address: string; port: number }): Promise<number>;
}

export interface DaemonOptions {
  paths: AgentPaths;
  deps: DaemonDeps;
  log?: Logger;
  /** Listen on paths.socket (default true). Tests pass false and use daemon.rpc.handle(stream). */
  listen?: boolean;
  /** Watch the config file's folder for changes (default true); the mtime check each sample runs anyway. */
  watchConfig?: boolean;
  /** Write paths.pidFile (default: same as listen). */
  pidFile?: boolean;
  env?: NodeJS.ProcessEnv;
  /** How long agent.suspending gets to reach the clients before the suspend command runs (default 300 ms). */
  suspendFlushMs?: number;
}

const REAL_CLOCK: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

const HISTORY_FLUSH_MS = 60_000;
/** How long a tick waits for the outside idle checks before using their previous results. */
const CHECK_WAIT_MS = 1500;

/**
 * Resume detection. Each tick is due at a known wall-clock time; when its timer fires late, the process
 * did not run for that long: the box slept (Node's timers count monotonic time, which stops in suspend,
 * while the wall clock goes on), or the agent was frozen (SIGSTOP, a paused VM). A slow sample never
 * counts: the next tick is scheduled only after the previous one finished.
 *  - In general a resume is a tick later than resumeGapMs (3 x interval + 10 s): generous, so an
 *    overloaded box or a clock step does not raise a false "resumed".
 *  - After the agent itself ran the suspend command (a sleep period is open), it expects to be frozen, and
 *    EXPECTED_SLEEP_LATENESS_MS is enough: short sleeps are noticed too.
 */
export function resumeGapMs(intervalSeconds: number): number {
  return (3 * intervalSeconds + 10) * 1000;
}
/** Short: a box that was suspended for a few seconds (or a quick wake) must still close its period. */
export const EXPECTED_SLEEP_LATENESS_MS = 1500;
const HISTORY_RANGES: readonly HistoryRange[] = ['1h', '24h', '7d'];

/** systemd: /run/systemd/system exists; docker: `docker` on PATH or /var/run/docker.sock; sudo: root or `sudo -n true`. */
export async function detectHostCapabilities(env: NodeJS.ProcessEnv = process.env): Promise<HostCapabilities> {
  const systemd = existsSync('/run/systemd/system');
  const docker = resolveOnPath('docker', env) !== null || existsSync('/var/run/docker.sock');
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  let sudo = root;
  if (!root && resolveOnPath('sudo', env) !== null) {
    sudo = await new Promise<boolean>((resolve) => {
      try {
        execFile('sudo', ['-n', 'true'], { timeout: 3000, killSignal: 'SIGKILL', env }, (err) => resolve(!err));
      } catch {
        resolve(false);
      }
    });
  }
  return { systemd, docker, sudo };
}

function configFingerprint(path: string): string {
  try {
    const st = statSync(path);
    return `${st.mtimeMs}:${st.size}:${st.ino}`;
  } catch (err) {
    return `missing:${(err as NodeJS.ErrnoException).code ?? ''}`;
  }
}

export class AgentDaemon {
  readonly rpc: RpcServer;
  readonly log: Logger;
  readonly startedAt: number;
  /** The config in force: the last good one. */
  config: AgentConfig;
  /** The last config problem while the last good config is kept, else null. */
  configError: string | null = null;
  latest: MetricsSample | null = null;
  /** Samples taken and failed (for tests and debugging). */
  readonly counters = { samples: 0, sampleErrors: 0, reloads: 0, suspends: 0, resumes: 0 };
  readonly engine: IdleEngine;

  private readonly paths: AgentPaths;
  private readonly deps: DaemonDeps;
  private readonly clock: Clock;
  private readonly opts: DaemonOptions;
  private sampler: Sampler | null = null;
  private history: History | null = null;
  private server: Server | null = null;
  private timer: unknown = null;
  private tickRunning: Promise<void> | null = null;
  private stopping = false;
  private started = false;
  private fingerprint = '';
  private watcher: FSWatcher | null = null;
  private watchDebounce: NodeJS.Timeout | null = null;
  private lastFlush = 0;
  private gpuProbe: { gpu: boolean; reason: string | null } = { gpu: false, reason: 'not probed yet' };
  private gpuProbePromise: Promise<void> = Promise.resolve();
  private hostCaps: HostCapabilities = { systemd: false, docker: false, sudo: false };
  private hostCapsPromise: Promise<void> = Promise.resolve();
  private readonly settingsStore: SettingsStore;
  private readonly sleepHistory: SleepHistory;
  private readonly checks: CheckRunner;
  private readonly exec: Exec;
  /** Wall-clock time the next tick is due (null before the first timer). */
  private nextDueAt: number | null = null;
  /** clock.now() and clock.monotonic() when nextDueAt was set. */
  private scheduledWall = 0;
  private scheduledMono: number | null = null;
  /** The first sample after a resume spans the sleep (its CPU % and rates are meaningless): not fed. */
  private skipIdleSample = false;
  private lastIdleSignature = '';
  private suspending: Promise<void> | null = null;

  constructor(opts: DaemonOptions) {
    this.opts = opts;
    this.paths = opts.paths;
    this.deps = opts.deps;
    this.clock = opts.deps.clock ?? REAL_CLOCK;
    this.log = opts.log ?? createLogger();
    this.startedAt = this.clock.now();
    const loaded = loadConfig(this.paths.configFile);
    this.config = loaded.config;
    this.configError = loaded.error;
    this.fingerprint = configFingerprint(this.paths.configFile);
    this.log.configure({ level: this.config.logging.level, file: this.config.logging.file });
    this.settingsStore = new SettingsStore(this.paths.stateDir);
    this.settingsStore.load();
    if (this.settingsStore.loadError) this.log.warn('idle settings file problem', { error: this.settingsStore.loadError });
    this.sleepHistory = new SleepHistory(this.paths.stateDir);
    this.exec = opts.deps.exec ?? realExec;
    this.checks = new CheckRunner(opts.deps.idleChecks ?? realChecks({ exec: this.exec, env: opts.env }));
    this.engine = new IdleEngine(this.engineSettings());
    this.rpc = new RpcServer({ methods: this.methods(), log: this.log });
  }

  /** agent.yaml's idle section with the RPC overrides on top. */
  idleSettings(): IdleSettings {
    return effectiveSettings(this.config, this.settingsStore.overrides);
  }

  private engineSettings(): EngineSettings {
    return { ...this.idleSettings(), intervalSeconds: this.config.metrics.intervalSeconds };
  }

  private toIdleStatus(s: EngineStatus): IdleStatus {
    return { ...s, dryRun: this.config.suspend.dryRun, suspendCommand: [...this.config.suspend.command] };
  }

  idleStatus(): IdleStatus {
    return this.toIdleStatus(this.engine.status(this.clock.now(), this.checks.results()));
  }

  private pushIdleStatus(s: EngineStatus, force = false): void {
    const sig = statusSignature(s);
    if (!force && sig === this.lastIdleSignature) return;
    this.lastIdleSignature = sig;
    this.rpc.broadcast('idle.status', this.toIdleStatus(s), (c) => c.subscribed);
  }

  private methods(): Record<keyof AgentMethods, MethodSpec> {
    return {
      'agent.info': { validate: noParams, handler: () => this.info() },
      'metrics.latest': { validate: noParams, handler: () => this.latest },
      'metrics.history': {
        validate: (p) => {
          if (typeof p !== 'object' || p === null || Array.isArray(p)) return 'params must be an object';
          const keys = Object.keys(p);
          const extra = keys.find((k) => k !== 'range');
          if (extra !== undefined) return `unexpected param "${extra.slice(0, 50)}"`;
          const range = (p as { range?: unknown }).range;
          return HISTORY_RANGES.includes(range as HistoryRange) ? null : `range must be one of ${HISTORY_RANGES.join(', ')}`;
        },
        handler: async (p: { range: HistoryRange }) => {
          if (!this.history) throw new RpcError(RPC_ERRORS.UNAVAILABLE, 'history is not available yet');
          return await this.history.query(p.range);
        },
      },
      'metrics.subscribe': {
        validate: noParams,
        handler: (_p, conn: RpcConnection) => {
          conn.subscribed = true;
          return { intervalSeconds: this.config.metrics.intervalSeconds };
        },
      },
      'metrics.unsubscribe': {
        validate: noParams,
        handler: (_p, conn: RpcConnection) => {
          conn.subscribed = false;
          return { ok: true };
        },
      },
      'idle.status': { validate: noParams, handler: () => this.idleStatus() },
      'idle.configure': {
        validate: (p) => {
          if (typeof p !== 'object' || p === null || Array.isArray(p)) return 'params must be an object';
          const extra = Object.keys(p).find((k) => k !== 'settings');
          if (extra !== undefined) return `unexpected param "${extra.slice(0, 50)}"`;
          const r = validateIdleSettings((p as { settings?: unknown }).settings);
          return r.ok ? null : r.problems.join('; ');
        },
        handler: (p: { settings: Partial<IdleSettings> }) => this.configureIdle(p.settings),
      },
      'suspend.now': { validate: noParams, handler: () => this.suspendNow() },
      'sleep.history': {
        validate: (p) => {
          if (typeof p !== 'object' || p === null || Array.isArray(p)) return 'params must be an object';
          const extra = Object.keys(p).find((k) => k !== 'limit');
          if (extra !== undefined) return `unexpected param "${extra.slice(0, 50)}"`;
          const limit = (p as { limit?: unknown }).limit;
          if (limit === undefined) return null;
          return typeof limit === 'number' && Number.isInteger(limit) && limit >= 1 && limit <= 10000 ? null : 'limit must be a whole number from 1 to 10000';
        },
        handler: (p: { limit?: number }): SleepPeriod[] => this.sleepHistory.list(p.limit),
      },
      'wol.send': {
        validate: wolSendProblem,
        handler: (p: { mac: string; address?: string; port?: number }) => this.wolSend(p),
      },
    };
  }

  /** idle.configure: validated params in; cross-field check, persisted, applied. */
  configureIdle(changes: Partial<IdleSettings>): IdleStatus {
    const next = { ...this.idleSettings(), ...changes };
    const problem = crossFieldProblem(next, this.config.metrics.intervalSeconds);
    if (problem) throw new RpcError(RPC_ERRORS.INVALID_PARAMS, `invalid params: ${problem}`);
    if (Object.keys(changes).length > 0) {
      try {
        this.settingsStore.save(changes);
      } catch (err) {
        this.log.error('cannot save idle settings', { file: this.settingsStore.path, error: err });
        throw new RpcError(RPC_ERRORS.UNAVAILABLE, `cannot save the settings in ${this.settingsStore.path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      this.engine.configure(this.engineSettings());
      this.log.info('idle settings changed over RPC', { changes: Object.keys(changes).map((k) => `${YAML_KEYS[k as keyof IdleSettings]}=${String(changes[k as keyof IdleSettings])}`).join(',') });
    }
    const status = this.engine.status(this.clock.now(), this.checks.results());
    this.pushIdleStatus(status);
    return this.toIdleStatus(status);
  }

  private suspendNow(): { at: number; dryRun: boolean } {
    if (this.suspending) throw new RpcError(RPC_ERRORS.UNAVAILABLE, 'a suspend is already in progress');
    const at = this.clock.now();
    const dryRun = this.config.suspend.dryRun;
    // The answer goes out first (the handler's result is written before setImmediate callbacks run).
    this.suspending = new Promise<void>((r) => setImmediate(r)).then(() => this.runSuspend('manual', at));
    return { at, dryRun };
  }

  private startIdleSuspend(at: number): void {
    if (this.suspending || this.stopping) return;
    this.suspending = this.runSuspend('idle', at);
  }

  /** The pre-suspend steps and the command: arm WoL, record, tell every client, let it flush, run. */
  private async runSuspend(reason: 'idle' | 'manual', at: number): Promise<void> {
    try {
      const cfg = this.config;
      const dryRun = cfg.suspend.dryRun;
      // Not again until a fresh window and a full timeout (the engine resets itself on an idle decision).
      this.engine.reset();
      let iface = cfg.wol.interface;
      if (!iface) {
        try {
          iface = this.deps.primaryInterface()?.name ?? null;
        } catch {
          iface = null;
        }
      }
      const wol = await armWol(this.exec, iface, { enable: cfg.wol.enable, dryRun, env: this.opts.env });
      const period: SleepPeriod = { suspendedAt: at, resumedAt: dryRun ? at : null, reason, wolArmed: wol.armed, wolMessage: wol.message };
      try {
        this.sleepHistory.append(period);
      } catch (err) {
        this.log.error('cannot write the sleep history', { error: err });
      }
      this.counters.suspends++;
      const event: SuspendingEvent = { at, reason, wolArmed: wol.armed, wolMessage: wol.message, dryRun };
      const told = this.rpc.broadcast('agent.suspending', event);
      this.log.info(dryRun ? 'dry run: would suspend now' : 'suspending', { reason, clients: told, wol: wol.message, command: cfg.suspend.command.join(' ') });
      try {
        await this.history?.flush();
      } catch (err) {
        this.log.warn('history flush before suspend failed', { error: err });
      }
      await new Promise<void>((r) => this.clock.setTimeout(r, this.opts.suspendFlushMs ?? 300));
      if (dryRun || this.stopping) return;
      const [file, ...args] = cfg.suspend.command;
      const r = await this.exec(file!, args, { timeoutMs: cfg.suspend.timeoutSeconds * 1000, env: this.opts.env });
      if (r.code === 0) {
        this.log.info('suspend command finished', { command: cfg.suspend.command.join(' ') });
        return;
      }
      const why = r.failure ?? `exit ${r.code}${r.stderr.trim() ? `: ${r.stderr.trim().split('\n')[0]!.slice(0, 200)}` : ''}`;
      this.log.error('suspend command failed: the box stays up', { command: cfg.suspend.command.join(' '), error: why });
      // It did not sleep: close the period and tell the clients the box is (still) up.
      const now = this.clock.now();
      try {
        this.sleepHistory.close(now);
      } catch (err) {
        this.log.error('cannot write the sleep history', { error: err });
      }
      const resumed: ResumedEvent = { at: now, sleptSeconds: 0 };
      this.rpc.broadcast('agent.resumed', resumed);
    } catch (err) {
      this.log.error('suspend failed', { error: err });
    } finally {
      this.suspending = null;
    }
  }

  /** A gap between ticks: the box slept (or the agent was frozen). Fresh start for the idle decision. */
  private onResume(now: number, awayMs: number, suspendedMs: number | null): void {
    this.counters.resumes++;
    this.engine.reset();
    this.checks.clear();
    this.skipIdleSample = true;
    let closed: SleepPeriod | null = null;
    try {
      closed = this.sleepHistory.close(now);
      // Not our suspend, and mostly a real one (not a frozen agent): someone else put the box to sleep.
      if (closed === null && suspendedMs !== null && suspendedMs > awayMs / 2) {
        this.sleepHistory.append({ suspendedAt: now - suspendedMs, resumedAt: now, reason: 'external', wolArmed: null, wolMessage: '' });
      }
    } catch (err) {
      this.log.error('cannot write the sleep history', { error: err });
    }
    const event: ResumedEvent = { at: now, sleptSeconds: Math.round(awayMs / 1000) };
    const told = this.rpc.broadcast('agent.resumed', event);
    this.log.info('resume detected', { sleptSeconds: event.sleptSeconds, closedPeriod: closed !== null, clients: told });
  }

  private async wolSend(p: { mac: string; address?: string; port?: number }): Promise<{ sent: number; address: string; port: number }> {
    const mac = parseMac(p.mac);
    let address = p.address ?? null;
    if (address === null) {
      try {
        address = this.deps.primaryInterface()?.broadcast ?? null;
      } catch {
        address = null;
      }
    }
    if (address === null) throw new RpcError(RPC_ERRORS.UNAVAILABLE, 'this host has no directed broadcast address on its primary interface; pass address');
    const port = p.port ?? WOL_DEFAULT_PORT;
    try {
      const sent = await (this.deps.sendWol ?? sendMagicPacket)({ mac, address, port });
      this.log.info('magic packet relayed', { mac: p.mac, address, port, sent });
      return { sent, address, port };
    } catch (err) {
      throw new RpcError(RPC_ERRORS.UNAVAILABLE, `cannot send the magic packet to ${address}:${port}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }

  async info(): Promise<AgentInfo> {
    await Promise.all([this.gpuProbePromise, this.hostCapsPromise]);
    let rapl = false;
    try {
      rapl = this.sampler?.capabilities().rapl ?? false;
    } catch {
      rapl = false;
    }
    const capabilities: AgentCapabilities = {
      gpu: this.gpuProbe.gpu,
      gpuReason: this.gpuProbe.gpu ? null : this.gpuProbe.reason,
      ...this.hostCaps,
      rapl,
    };
    let primaryInterface: NetworkInterfaceInfo | null = null;
    try {
      primaryInterface = this.deps.primaryInterface();
    } catch (err) {
      this.log.warn('cannot read the primary interface', { error: err });
    }
    return {
      version: VERSION,
      protocolVersion: PROTOCOL_VERSION,
      mode: this.paths.mode,
      capabilities,
      hostname: (this.deps.hostname ?? osHostname)(),
      primaryInterface,
      pid: process.pid,
      startedAt: this.startedAt,
      nodeVersion: process.version,
      configPath: this.paths.configFile,
      stateDir: this.paths.stateDir,
      configError: this.configError,
    };
  }

  async start(): Promise<void> {
    if (this.started) throw new Error('daemon already started');
    this.started = true;
    const { paths } = this;
    mkdirSync(paths.stateDir, { recursive: true, mode: paths.mode === 'user' ? 0o700 : 0o755 });
    const badLines = this.sleepHistory.load();
    if (badLines > 0) this.log.warn('sleep history: skipped unreadable lines', { lines: badLines });
    if (this.sleepHistory.open()) {
      // Left open by a previous run (it never saw the resume): the best we know is "back by now".
      try {
        this.sleepHistory.close(this.clock.now());
      } catch (err) {
        this.log.error('cannot write the sleep history', { error: err });
      }
      this.log.info('closed a sleep period left open by a previous run');
    }
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
    if (this.opts.pidFile ?? this.opts.listen !== false) writeFileSync(paths.pidFile, `${process.pid}\n`, { mode: 0o644 });
    this.history = this.deps.createHistory({ stateDir: paths.stateDir });
    this.lastFlush = this.clock.now();
    this.createSampler();
    this.hostCapsPromise = (this.deps.detectHost ?? (() => detectHostCapabilities(this.opts.env)))()
      .then((caps) => {
        this.hostCaps = caps;
      })
      .catch((err) => this.log.warn('host capability check failed', { error: err }));
    if (this.opts.watchConfig !== false) this.watchConfigFile();
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

  private nvidiaSmiPath(): string {
    const name = this.config.gpu.nvidiaSmi;
    return resolveOnPath(name, this.opts.env ?? process.env) ?? name;
  }

  private createSampler(): void {
    const nvidiaSmiPath = this.nvidiaSmiPath();
    const timeoutMs = Math.round(this.config.gpu.timeoutSeconds * 1000);
    this.sampler = this.deps.createSampler({ nvidiaSmiPath, nvidiaSmiTimeoutMs: timeoutMs, stateDir: this.paths.stateDir });
    this.gpuProbePromise = this.deps
      .probeGpu(nvidiaSmiPath, timeoutMs)
      .then((probe) => {
        this.gpuProbe = probe;
        this.log.info(probe.gpu ? 'GPU found' : 'no GPU data', { nvidiaSmi: nvidiaSmiPath, reason: probe.reason ?? undefined });
      })
      .catch((err) => {
        this.gpuProbe = { gpu: false, reason: `GPU probe failed: ${(err as Error).message}` };
      });
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

  /** One loop step: resume check, config check, a sample, history, push, idle decision. Never throws. */
  async tick(): Promise<void> {
    const tickAt = this.clock.now();
    if (this.nextDueAt !== null) {
      const late = tickAt - this.nextDueAt;
      this.nextDueAt = null;
      const expected = this.sleepHistory.open() !== null;
      // Time the box spent suspended: the wall clock ran on, the monotonic one did not (null: unknown).
      const mono = this.clock.monotonic?.();
      const suspendedMs = mono !== undefined && this.scheduledMono !== null ? tickAt - this.scheduledWall - (mono - this.scheduledMono) : null;
      if (late > resumeGapMs(this.config.metrics.intervalSeconds) || (expected && late > EXPECTED_SLEEP_LATENESS_MS)) this.onResume(tickAt, late, suspendedMs);
    }
    this.checkConfig();
    const sampler = this.sampler;
    if (!sampler) return;
    const checksDone = this.checks.start({
      ollamaUrl: this.config.ollama.url,
      customCheck: this.config.idle.customCheck,
      customCheckTimeoutSeconds: this.config.idle.customCheckTimeoutSeconds,
    });
    let sample: MetricsSample;
    try {
      sample = await sampler.sample();
    } catch (err) {
      this.counters.sampleErrors++;
      this.log.error('sampling failed', { error: err });
      return;
    }
    if (this.stopping) return;
    this.counters.samples++;
    this.latest = sample;
    try {
      this.history?.add(sample);
      if (this.clock.now() - this.lastFlush >= HISTORY_FLUSH_MS) {
        this.lastFlush = this.clock.now();
        await this.history?.flush();
      }
    } catch (err) {
      this.log.error('history update failed', { error: err });
    }
    const sent = this.rpc.broadcast('metrics.sample', sample, (c) => c.subscribed);
    this.log.debug('sample', { subscribers: sent, gpuError: sample.gpuError ?? undefined });
    await this.idleStep(sample, checksDone);
  }

  private async idleStep(sample: MetricsSample, checksDone: Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([checksDone, new Promise<void>((r) => (timer = setTimeout(r, CHECK_WAIT_MS)))]);
    clearTimeout(timer);
    if (this.stopping) return;
    const skip = this.skipIdleSample;
    this.skipIdleSample = false;
    const now = this.clock.now();
    const decision = this.engine.update(now, skip ? null : sample, this.checks.results());
    this.pushIdleStatus(decision.status);
    if (decision.suspend) {
      this.log.info('idle for the whole timeout: suspending', { idleTimeoutSeconds: decision.status.settings.idleTimeoutSeconds });
      this.startIdleSuspend(now);
    }
  }

  /** Reloads when the config file changed since the last look (mtime, size, inode). */
  checkConfig(): void {
    const fp = configFingerprint(this.paths.configFile);
    if (fp === this.fingerprint) return;
    this.reloadConfig();
  }

  /** Re-reads agent.yaml; keeps the last good config when it is invalid. Returns the error, or null. */
  reloadConfig(): string | null {
    this.fingerprint = configFingerprint(this.paths.configFile);
    this.counters.reloads++;
    const loaded = loadConfig(this.paths.configFile);
    if (loaded.error) {
      if (loaded.error !== this.configError) this.log.warn('config invalid, keeping the last good config', { error: loaded.error });
      this.configError = loaded.error;
      return loaded.error;
    }
    const old = this.config;
    const next = loaded.config;
    this.config = next;
    // A value edited in agent.yaml after the app (or `suspend enable|disable`) set it: the file, newer, wins.
    const before = fileSettings(old);
    const after = fileSettings(next);
    const edited = IDLE_SETTING_KEYS.filter((k) => before[k] !== after[k] && this.settingsStore.overrides[k] !== undefined);
    if (edited.length > 0) {
      try {
        this.settingsStore.drop(edited);
        this.log.info('agent.yaml changed settings the app had set: the file wins', { keys: edited.map((k) => YAML_KEYS[k]).join(',') });
      } catch (err) {
        this.log.error('cannot update the idle settings file', { file: this.settingsStore.path, error: err });
      }
    }
    if (this.configError) this.log.info('config valid again');
    this.configError = null;
    this.log.configure({ level: next.logging.level, file: next.logging.file });
    this.engine.configure(this.engineSettings());
    if (old.gpu.nvidiaSmi !== next.gpu.nvidiaSmi || old.gpu.timeoutSeconds !== next.gpu.timeoutSeconds) {
      if (this.started) this.createSampler();
    }
    if (old.metrics.intervalSeconds !== next.metrics.intervalSeconds && this.timer !== null && !this.tickRunning) {
      this.clock.clearTimeout(this.timer);
      this.timer = null;
      this.scheduleNext();
    }
    this.log.info('config loaded', { interval: next.metrics.intervalSeconds, exists: loaded.exists });
    return null;
  }

  private watchConfigFile(): void {
    const dir = dirname(this.paths.configFile);
    const name = basename(this.paths.configFile);
    try {
      this.watcher = watch(dir, { persistent: false }, (_event, file) => {
        if (file !== null && file !== name) return;
        if (this.watchDebounce) clearTimeout(this.watchDebounce);
        this.watchDebounce = setTimeout(() => {
          this.watchDebounce = null;
          if (!this.stopping) this.checkConfig();
        }, 100);
        this.watchDebounce.unref();
      });
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = null;
      });
    } catch {
      // No folder yet, or no inotify: the check on every sample covers it.
      this.watcher = null;
    }
  }

  /** Graceful stop: no more samples, history flushed and closed, socket closed and removed, pid file gone. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    if (this.watchDebounce) clearTimeout(this.watchDebounce);
    this.watcher?.close();
    this.watcher = null;
    const running = this.tickRunning;
    if (running) await Promise.race([running, new Promise((r) => setTimeout(r, 5000).unref())]);
    const suspending = this.suspending;
    if (suspending) await Promise.race([suspending, new Promise((r) => setTimeout(r, 2000).unref())]);
    this.rpc.closeAll();
    if (this.server) {
      const server = this.server;
      this.server = null;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      removeSocketFile(this.paths.socket);
    }
    try {
      await this.history?.flush();
      await this.history?.close();
    } catch (err) {
      this.log.error('history flush failed', { error: err });
    }
    this.history = null;
    if (this.opts.pidFile ?? this.opts.listen !== false) {
      if (readPidFile(this.paths.pidFile) === process.pid) {
        try {
          unlinkSync(this.paths.pidFile);
        } catch {
          /* gone */
        }
      }
    }
    this.log.info('fleetwake-agent stopped');
  }
}

export function readPidFile(path: string): number | null {
  try {
    const n = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}
