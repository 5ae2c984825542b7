/**
 * agent.yaml: the schema, its defaults, loading and the commented default file deploy writes.
 * Keys follow the aistack seed (idle.*, wol.*, logging.*); unknown keys are errors naming the key.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
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
  idle: {
    cpuIdleThreshold: number;
    gpuIdleThreshold: number;
    windowSeconds: number;
    idleTimeoutSeconds: number;
    minSamples: number;
    enableSuspend: boolean;
  };
  wol: { interface: string | null; enable: boolean };
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
    },
    wol: { interface: null, enable: true },
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
    cpu_idle_threshold: ['cpuIdleThreshold', number(0, 100)],
    gpu_idle_threshold: ['gpuIdleThreshold', number(0, 100)],
    window_seconds: ['windowSeconds', wholeNumber(10, 86400)],
    idle_timeout_seconds: ['idleTimeoutSeconds', wholeNumber(60, 604800)],
    min_samples: ['minSamples', wholeNumber(1, 100000)],
    enable_suspend: ['enableSuspend', bool],
  },
  wol: {
    interface: ['interface', text({ optional: true, pattern: /^[A-Za-z0-9_.:@-]{1,15}$/, what: 'a network interface name' })],
    enable: ['enable', bool],
  },
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
  if (!isMap(doc.value)) throw new ConfigError(1, 'the file must be a map of sections (metrics, gpu, logging, idle, wol)', file);
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
  min_samples: ${d.idle.minSamples}
  enable_suspend: ${d.idle.enableSuspend}

wol:
  # Interface whose MAC the app uses for Wake-on-LAN (default: the primary interface).
  # interface: eth0
  enable: ${d.wol.enable}
`;
}
