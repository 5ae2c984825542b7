/**
 * agent.yaml: the schema, its defaults, loading and the commented default file deploy writes.
 * Keys follow the aistack seed (idle.*, wol.*, logging.*); unknown keys are errors naming the key.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { IdleSettings } from '../protocol.js';
import { parseYaml, YamlError, type YamlMap, type YamlValue } from './yaml.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

export interface AgentConfig {
  metrics: { intervalSeconds: number };
  gpu: {
    /** 'nvidia-smi' (looked up on PATH when used) or an absolute path. */
    nvidiaSmi: string;
    timeoutSeconds: number;
  };
  logging: { level: LogLevel; file: string | null };
  /** What idle.configure may change, plus the admin-only parts that never come over RPC. */
  idle: IdleSettings & {
    /** argv of an admin's own check (exit 0 = busy), run without a shell; null = none. File only. */
    customCheck: string[] | null;
    customCheckTimeoutSeconds: number;
    /** Settings idle.configure may not change (idle.locked), in IDLE_YAML_KEYS order. File only. */
    locked: (keyof IdleSettings)[];
  };
  /** File only: never settable over RPC (root runs it). */
  suspend: { command: string[]; dryRun: boolean; timeoutSeconds: number };
  wol: { interface: string | null; enable: boolean };
  ollama: { url: string };
}

export function defaultConfig(): AgentConfig {
  return {
    metrics: { intervalSeconds: 5 },
    gpu: { nvidiaSmi: 'nvidia-smi', timeoutSeconds: 3 },
    logging: { level: 'info', file: null },
    idle: {
      cpuIdleThreshold: 10,
      gpuIdleThreshold: 5,
      windowSeconds: 300,
      idleTimeoutSeconds: 1800,
      minSamples: 30,
      enableSuspend: true,
      networkThresholdBytesPerSec: 1_000_000,
      customCheck: null,
      customCheckTimeoutSeconds: 10,
      locked: [],
    },
    suspend: { command: ['systemctl', 'suspend'], dryRun: false, timeoutSeconds: 60 },
    wol: { interface: null, enable: true },
    ollama: { url: 'http://127.0.0.1:11434' },
  };
}

type Reader = (value: YamlValue, key: string) => { ok: true; value: unknown } | { ok: false; reason: string };

const show = (v: YamlValue) => JSON.stringify(typeof v === 'string' ? v : v === null ? null : v);

function wholeNumber(min: number, max: number): Reader {
  return (v, key) =>
    typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max
      ? { ok: true, value: v }
      : { ok: false, reason: `${key} must be a whole number from ${min} to ${max} (got ${show(v)})` };
}

function number(min: number, max: number): Reader {
  return (v, key) =>
    typeof v === 'number' && v >= min && v <= max
      ? { ok: true, value: v }
      : { ok: false, reason: `${key} must be a number from ${min} to ${max} (got ${show(v)})` };
}

const bool: Reader = (v, key) =>
  typeof v === 'boolean' ? { ok: true, value: v } : { ok: false, reason: `${key} must be true or false (got ${show(v)})` };

function text(opts: { optional: boolean; pattern?: RegExp; what?: string }): Reader {
  return (v, key) => {
    if (v === null && opts.optional) return { ok: true, value: null };
    if (typeof v !== 'string' || v === '' || v.length > 4096 || /[\0\n]/.test(v)) {
      return { ok: false, reason: `${key} must be ${opts.what ?? 'a non-empty string'}${opts.optional ? ' or null' : ''} (got ${show(v)})` };
    }
    if (opts.pattern && !opts.pattern.test(v)) {
      return { ok: false, reason: `${key} must be ${opts.what ?? 'valid'}${opts.optional ? ' or null' : ''} (got ${show(v)})` };
    }
    return { ok: true, value: v };
  };
}

function oneOf(values: readonly string[]): Reader {
  return (v, key) =>
    typeof v === 'string' && values.includes(v)
      ? { ok: true, value: v }
      : { ok: false, reason: `${key} must be one of ${values.join('|')} (got ${show(v)})` };
}

const COMMAND_RE = /^(\/[^\0\n]*|[A-Za-z0-9._+-]+)$/;
const MAX_ARGS = 64;

/** A command as an argv list, or a string split on whitespace (never a shell: no quoting, no globbing). */
function argv(opts: { optional: boolean }): Reader {
  return (v, key) => {
    if (v === null && opts.optional) return { ok: true, value: null };
    const what = `${key} must be a command: a list of arguments or a string split on spaces, starting with a command name or an absolute path${opts.optional ? ', or null' : ''}`;
    let list: YamlValue[];
    if (typeof v === 'string') list = v.trim().split(/\s+/).filter((a) => a !== '');
    else if (Array.isArray(v)) list = v;
    else return { ok: false, reason: `${what} (got ${show(v)})` };
    if (list.length === 0 || list.length > MAX_ARGS) return { ok: false, reason: `${what}, with 1 to ${MAX_ARGS} arguments (got ${list.length})` };
    const out: string[] = [];
    for (const [i, a] of list.entries()) {
      const arg = typeof a === 'number' || typeof a === 'boolean' ? String(a) : a;
      if (typeof arg !== 'string' || arg === '' || arg.length > 4096 || /[\0\n]/.test(arg)) {
        return { ok: false, reason: `${key} argument ${i + 1} must be a non-empty string (got ${show(a as YamlValue)})` };
      }
      out.push(arg);
    }
    if (!COMMAND_RE.test(out[0]!)) return { ok: false, reason: `${what} (got ${show(out[0]!)})` };
    return { ok: true, value: out };
  };
}

const httpUrl: Reader = (v, key) => {
  const bad = { ok: false as const, reason: `${key} must be an http:// or https:// URL (got ${show(v)})` };
  if (typeof v !== 'string' || v.length > 2048) return bad;
  try {
    const u = new URL(v);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return bad;
    if (u.username || u.password) return { ok: false, reason: `${key} must not carry a user or password (got a URL with credentials)` };
    return { ok: true, value: v.replace(/\/+$/, '') };
  } catch {
    return bad;
  }
};

export interface IdleBound {
  min: number;
  max: number;
  integer: boolean;
  /** The lower bound over RPC (idle.configure), where `min` is only for agent.yaml; absent: `min`. */
  rpcMin?: number;
}

/**
 * Bounds shared by agent.yaml and idle.configure (idle/settings.ts). The file's lower bounds are small so
 * an admin or a test can run the whole cycle in seconds; over the socket, where anyone in the agent's
 * group may call, a window under 10 s or a timeout under a minute is refused.
 */
export const IDLE_BOUNDS = {
  cpuIdleThreshold: { min: 0, max: 100, integer: false },
  gpuIdleThreshold: { min: 0, max: 100, integer: false },
  windowSeconds: { min: 2, max: 86400, integer: true, rpcMin: 10 },
  idleTimeoutSeconds: { min: 1, max: 604800, integer: true, rpcMin: 60 },
  minSamples: { min: 1, max: 100000, integer: true },
  networkThresholdBytesPerSec: { min: 1000, max: 100_000_000_000, integer: false },
} as const satisfies Record<string, IdleBound>;

/** The agent.yaml key (in the idle section) of each setting idle.configure may change, in file order. */
export const IDLE_YAML_KEYS: Readonly<Record<keyof IdleSettings, string>> = {
  cpuIdleThreshold: 'cpu_idle_threshold',
  gpuIdleThreshold: 'gpu_idle_threshold',
  windowSeconds: 'window_seconds',
  idleTimeoutSeconds: 'idle_timeout_seconds',
  minSamples: 'min_samples',
  enableSuspend: 'enable_suspend',
  networkThresholdBytesPerSec: 'network_threshold_bytes_per_sec',
};

const bounded = (b: IdleBound) => (b.integer ? wholeNumber(b.min, b.max) : number(b.min, b.max));

const LOCKABLE = Object.entries(IDLE_YAML_KEYS) as [keyof IdleSettings, string][];
/** Idle keys that only agent.yaml sets anyway: nothing over the socket can change them. */
const FILE_ONLY_IDLE_KEYS = ['custom_check', 'custom_check_timeout_seconds', 'locked'];

/** idle.locked: `all`, one setting name, or a list of them (null or [] locks nothing). */
const lockList: Reader = (v, key) => {
  if (v === null) return { ok: true, value: [] };
  if (v === 'all' || (Array.isArray(v) && v.length === 1 && v[0] === 'all')) return { ok: true, value: LOCKABLE.map(([field]) => field) };
  const names = typeof v === 'string' ? [v] : Array.isArray(v) ? v : null;
  if (names === null) return { ok: false, reason: `${key} must be all, a setting name or a list of setting names (got ${show(v)})` };
  const chosen = new Set<string>();
  for (const name of names) {
    if (name === 'all') return { ok: false, reason: `${key}: "all" stands alone, not in a list` };
    if (typeof name === 'string' && FILE_ONLY_IDLE_KEYS.includes(name)) {
      return { ok: false, reason: `${key}: ${name} is set only in agent.yaml and never over the socket; it needs no lock` };
    }
    if (typeof name !== 'string' || !LOCKABLE.some(([, yaml]) => yaml === name)) {
      return { ok: false, reason: `${key}: unknown setting ${show(name)} (lockable: ${LOCKABLE.map(([, yaml]) => yaml).join(', ')}; or all)` };
    }
    chosen.add(name);
  }
  return { ok: true, value: LOCKABLE.filter(([, yaml]) => chosen.has(yaml)).map(([field]) => field) };
};

/** How many samples a window can hold at an interval (the window keeps samples newer than now - window). */
export function windowCapacity(windowSeconds: number, intervalSeconds: number): number {
  return Math.floor(windowSeconds / intervalSeconds);
}

/** Why min_samples can never be reached with this window and interval, or null. */
export function minSamplesProblem(minSamples: number, windowSeconds: number, intervalSeconds: number): string | null {
  const cap = windowCapacity(windowSeconds, intervalSeconds);
  return minSamples > cap
    ? `min_samples ${minSamples} can never be reached: a ${windowSeconds} s window holds at most ${cap} samples at a ${intervalSeconds} s interval`
    : null;
}

/** YAML key → [field in AgentConfig, reader]. */
const SCHEMA: Record<string, Record<string, [string, Reader]>> = {
  metrics: { interval_seconds: ['intervalSeconds', wholeNumber(1, 3600)] },
  gpu: {
    nvidia_smi: ['nvidiaSmi', text({ optional: false, pattern: /^(\/[^\0]*|[A-Za-z0-9._+-]+)$/, what: 'a command name or an absolute path' })],
    timeout_seconds: ['timeoutSeconds', number(0.5, 60)],
  },
  logging: {
    level: ['level', oneOf(LOG_LEVELS)],
    file: ['file', text({ optional: true, pattern: /^\//, what: 'an absolute path' })],
  },
  idle: {
    cpu_idle_threshold: ['cpuIdleThreshold', bounded(IDLE_BOUNDS.cpuIdleThreshold)],
    gpu_idle_threshold: ['gpuIdleThreshold', bounded(IDLE_BOUNDS.gpuIdleThreshold)],
    window_seconds: ['windowSeconds', bounded(IDLE_BOUNDS.windowSeconds)],
    idle_timeout_seconds: ['idleTimeoutSeconds', bounded(IDLE_BOUNDS.idleTimeoutSeconds)],
    min_samples: ['minSamples', bounded(IDLE_BOUNDS.minSamples)],
    enable_suspend: ['enableSuspend', bool],
    network_threshold_bytes_per_sec: ['networkThresholdBytesPerSec', bounded(IDLE_BOUNDS.networkThresholdBytesPerSec)],
    custom_check: ['customCheck', argv({ optional: true })],
    custom_check_timeout_seconds: ['customCheckTimeoutSeconds', number(0.5, 300)],
    locked: ['locked', lockList],
  },
  suspend: {
    command: ['command', argv({ optional: false })],
    dry_run: ['dryRun', bool],
    timeout_seconds: ['timeoutSeconds', number(1, 600)],
  },
  wol: {
    interface: ['interface', text({ optional: true, pattern: /^[A-Za-z0-9_.:@-]{1,15}$/, what: 'a network interface name' })],
    enable: ['enable', bool],
  },
  ollama: { url: ['url', httpUrl] },
};

export class ConfigError extends Error {
  constructor(
    readonly line: number | null,
    readonly reason: string,
    file = 'agent.yaml',
  ) {
    super(line === null ? `${file}: ${reason}` : `${file} line ${line}: ${reason}`);
    this.name = 'ConfigError';
  }
}

function isMap(v: YamlValue): v is YamlMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validates agent.yaml text; throws ConfigError with the line of the offending key. */
export function parseConfig(source: string, file = 'agent.yaml'): AgentConfig {
  let doc;
  try {
    doc = parseYaml(source);
  } catch (err) {
    if (err instanceof YamlError) throw new ConfigError(err.line, err.reason, file);
    throw err;
  }
  const config = defaultConfig();
  if (doc.value === null) return config;
  if (!isMap(doc.value)) throw new ConfigError(1, `the file must be a map of sections (${Object.keys(SCHEMA).join(', ')})`, file);
  for (const [section, body] of Object.entries(doc.value)) {
    const fields = SCHEMA[section];
    const line = doc.lines.get(section) ?? null;
    if (!fields) throw new ConfigError(line, `unknown key "${section}" (known: ${Object.keys(SCHEMA).join(', ')})`, file);
    if (body === null) continue; // an empty section keeps its defaults
    if (!isMap(body)) throw new ConfigError(line, `${section} must be a section of keys (got ${show(body as YamlValue)})`, file);
    const target = (config as unknown as Record<string, Record<string, unknown>>)[section]!;
    for (const [key, value] of Object.entries(body)) {
      const path = `${section}.${key}`;
      const keyLine = doc.lines.get(path) ?? line;
      const spec = fields[key];
      if (!spec) throw new ConfigError(keyLine, `unknown key "${path}" (known in ${section}: ${Object.keys(fields).join(', ')})`, file);
      const [field, read] = spec;
      const result = read(value, path);
      if (!result.ok) throw new ConfigError(keyLine, result.reason, file);
      target[field] = result.value;
    }
  }
  const problem = minSamplesProblem(config.idle.minSamples, config.idle.windowSeconds, config.metrics.intervalSeconds);
  if (problem) {
    const line = doc.lines.get('idle.min_samples') ?? doc.lines.get('idle.window_seconds') ?? doc.lines.get('metrics.interval_seconds') ?? null;
    throw new ConfigError(line, `idle.${problem}`, file);
  }
  return config;
}

export interface LoadedConfig {
  config: AgentConfig;
  /** Why the file could not be used (then `config` is the defaults), else null. */
  error: string | null;
  /** False when there was no file (defaults). */
  exists: boolean;
}

/** Reads agent.yaml: a missing file gives the defaults; an invalid one gives the defaults and an error. */
export function loadConfig(path: string): LoadedConfig {
  let source: string;
  try {
    source = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { config: defaultConfig(), error: null, exists: false };
    return { config: defaultConfig(), error: `${basename(path)}: cannot read ${path} (${code ?? String(err)})`, exists: true };
  }
  if (source.length > 256 * 1024) return { config: defaultConfig(), error: `${basename(path)}: file is larger than 256 KiB`, exists: true };
  try {
    return { config: parseConfig(source, basename(path)), error: null, exists: true };
  } catch (err) {
    if (err instanceof ConfigError) return { config: defaultConfig(), error: err.message, exists: true };
    throw err;
  }
}

/** The commented agent.yaml deploy writes when a server has none. Parses to exactly defaultConfig(). */
export function renderDefaultConfig(): string {
  const d = defaultConfig();
  return `# fleetwake-agent configuration.
# Edit and run \`systemctl reload fleetwake-agent\` (or send SIGHUP); the agent also notices changes on its own.
# An invalid file is reported in the app while the agent keeps its last good settings.

metrics:
  # Seconds between samples (1..3600).
  interval_seconds: ${d.metrics.intervalSeconds}

gpu:
  # nvidia-smi command (looked up on PATH) or an absolute path.
  nvidia_smi: ${d.gpu.nvidiaSmi}
  # Give up on one nvidia-smi call after this many seconds.
  timeout_seconds: ${d.gpu.timeoutSeconds}

logging:
  # debug | info | warn | error
  level: ${d.logging.level}
  # Also append log lines to this absolute path (optional).
  # file: /var/log/fleetwake-agent.log

idle:
  # A sample counts as idle when CPU busy % and every GPU's utilisation % are below these.
  cpu_idle_threshold: ${d.idle.cpuIdleThreshold}
  gpu_idle_threshold: ${d.idle.gpuIdleThreshold}
  # Sliding window the idle decision looks at, in seconds.
  window_seconds: ${d.idle.windowSeconds}
  # Suspend after the box has been idle this long, in seconds.
  idle_timeout_seconds: ${d.idle.idleTimeoutSeconds}
  # Never decide on fewer samples than this.
  # (window_seconds / metrics.interval_seconds must be at least this.)
  min_samples: ${d.idle.minSamples}
  # Suspend when idle (the app can switch this; its choice is kept in the state folder).
  enable_suspend: ${d.idle.enableSuspend}
  # rx+tx of all interfaces (lo excluded) above this many bytes/s counts as busy (a download, a copy).
  network_threshold_bytes_per_sec: ${d.idle.networkThresholdBytesPerSec}
  # Your own check, run without a shell each sample: exit 0 means "busy, stay awake".
  # custom_check: [/usr/local/bin/backup-running]
  custom_check_timeout_seconds: ${d.idle.customCheckTimeoutSeconds}
  # Settings the app (or anyone who may use the agent's socket) cannot change: all, or some of
  # cpu_idle_threshold, gpu_idle_threshold, window_seconds, idle_timeout_seconds, min_samples,
  # enable_suspend, network_threshold_bytes_per_sec. A locked setting is the value in this file.
  # locked: [enable_suspend, idle_timeout_seconds]

suspend:
  # Run (without a shell) to suspend; a list of arguments or a string split on spaces.
  # Set only here, never over the network.
  command: ${d.suspend.command.join(' ')}
  # Log and record a suspend but do not run the command.
  dry_run: ${d.suspend.dryRun}
  # Give up on the command after this many seconds.
  timeout_seconds: ${d.suspend.timeoutSeconds}

wol:
  # Interface armed for Wake-on-LAN (ethtool -s IFACE wol g) before suspending (default: the primary interface).
  # interface: eth0
  enable: ${d.wol.enable}

ollama:
  # Asked (GET /api/ps) whether a model is in use.
  url: ${d.ollama.url}
`;
}
