/**
 * The agent daemon: config (with last-good reloads), the sampling loop, metrics history, and the JSON-RPC
 * methods of protocol.ts, served on the unix socket. Everything it touches outside itself is injected
 * (DaemonDeps) so tests run it with fakes and a fake clock; cli.ts wires the real modules.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, unlinkSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import type { Server } from 'node:net';
import { hostname as osHostname } from 'node:os';
import { basename, dirname } from 'node:path';
import { createLogger, loadConfig, type AgentConfig, type Logger } from './config/index.js';
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
  type MetricsSample,
  type NetworkInterfaceInfo,
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
}

const REAL_CLOCK: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

const HISTORY_FLUSH_MS = 60_000;
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
  readonly counters = { samples: 0, sampleErrors: 0, reloads: 0 };

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
    this.rpc = new RpcServer({ methods: this.methods(), log: this.log });
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
    };
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

  /** One loop step: config check, a sample, history, push to subscribers. Never throws. */
  async tick(): Promise<void> {
    this.checkConfig();
    const sampler = this.sampler;
    if (!sampler) return;
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
    if (this.configError) this.log.info('config valid again');
    this.configError = null;
    this.log.configure({ level: next.logging.level, file: next.logging.file });
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
