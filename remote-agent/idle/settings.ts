/**
 * Idle settings changed over RPC (idle.configure): validated per field, persisted in the state folder as
 * overrides on top of agent.yaml (STATE/settings.json, written atomically), kept across restarts.
 * Commands (suspend.command, idle.custom_check) are never among them: those come only from the file.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../atomic-file.js';
import { IDLE_BOUNDS, IDLE_YAML_KEYS, minSamplesProblem, type AgentConfig, type IdleBound } from '../config/index.js';
import type { IdleSettings } from '../protocol.js';

export const SETTINGS_FILE = 'settings.json';

const NUMERIC = Object.keys(IDLE_BOUNDS) as (keyof typeof IDLE_BOUNDS)[];
export const IDLE_SETTING_KEYS: readonly (keyof IdleSettings)[] = [...NUMERIC, 'enableSuspend'];

/** The agent.yaml key of each setting, for messages that an admin can act on. */
export const YAML_KEYS = Object.fromEntries(Object.entries(IDLE_YAML_KEYS).map(([k, yaml]) => [k, `idle.${yaml}`])) as Record<keyof IdleSettings, string>;

const show = (v: unknown) => (JSON.stringify(v) ?? String(v)).slice(0, 60);

/**
 * Checks a partial IdleSettings as it comes over RPC (the RPC floors apply): every problem, one per
 * field, or the value. Keys in `skip` are passed over, whatever their value (the caller refuses them).
 */
export function validateIdleSettings(input: unknown, skip: readonly string[] = []): { ok: true; value: Partial<IdleSettings> } | { ok: false; problems: string[] } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return { ok: false, problems: ['settings must be an object'] };
  const problems: string[] = [];
  const value: Partial<IdleSettings> = {};
  for (const [key, v] of Object.entries(input)) {
    if (skip.includes(key)) continue;
    if (key === 'enableSuspend') {
      if (typeof v === 'boolean') value.enableSuspend = v;
      else problems.push(`enableSuspend must be true or false (got ${show(v)})`);
      continue;
    }
    const b = (IDLE_BOUNDS as Record<string, IdleBound>)[key];
    if (!b) {
      problems.push(`unknown setting "${key.slice(0, 50)}" (known: ${IDLE_SETTING_KEYS.join(', ')}; commands are set only in agent.yaml)`);
      continue;
    }
    const min = b.rpcMin ?? b.min;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > b.max || (b.integer && !Number.isInteger(v))) {
      const fileOnly = b.rpcMin !== undefined && typeof v === 'number' && v >= b.min && v < b.rpcMin && (!b.integer || Number.isInteger(v));
      const floor = fileOnly ? `; shorter only in agent.yaml: ${YAML_KEYS[key as keyof IdleSettings]}` : '';
      problems.push(`${key} must be ${b.integer ? 'a whole number' : 'a number'} from ${min} to ${b.max} (got ${show(v)}${floor})`);
      continue;
    }
    (value as Record<string, number>)[key] = v;
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value };
}

export function fileSettings(config: AgentConfig): IdleSettings {
  const i = config.idle;
  return {
    cpuIdleThreshold: i.cpuIdleThreshold,
    gpuIdleThreshold: i.gpuIdleThreshold,
    windowSeconds: i.windowSeconds,
    idleTimeoutSeconds: i.idleTimeoutSeconds,
    minSamples: i.minSamples,
    enableSuspend: i.enableSuspend,
    networkThresholdBytesPerSec: i.networkThresholdBytesPerSec,
  };
}

/** agent.yaml's settings with the app's overrides on top, except where agent.yaml locks a setting. */
export function effectiveSettings(config: AgentConfig, overrides: Partial<IdleSettings>): IdleSettings {
  const free = Object.fromEntries(Object.entries(overrides).filter(([k]) => !config.idle.locked.includes(k as keyof IdleSettings)));
  return { ...fileSettings(config), ...free };
}

/** Why these settings cannot work together at this interval, or null. */
export function crossFieldProblem(s: IdleSettings, intervalSeconds: number): string | null {
  const p = minSamplesProblem(s.minSamples, s.windowSeconds, intervalSeconds);
  return p ? `minSamples: ${p}` : null;
}

export class SettingsStore {
  readonly path: string;
  overrides: Partial<IdleSettings> = {};
  /** Why the file could not be used at load (then overrides are empty), else null. */
  loadError: string | null = null;

  constructor(stateDir: string) {
    this.path = join(stateDir, SETTINGS_FILE);
  }

  load(): Partial<IdleSettings> {
    this.loadError = null;
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.loadError = `cannot read ${this.path}: ${(err as NodeJS.ErrnoException).code}`;
      this.overrides = {};
      return this.overrides;
    }
    try {
      const doc = JSON.parse(text) as { idle?: unknown };
      const raw = doc && typeof doc === 'object' && doc.idle && typeof doc.idle === 'object' ? (doc.idle as Record<string, unknown>) : {};
      // Keep the fields that are still valid (bounds may have changed between versions); drop the rest.
      const kept: Partial<IdleSettings> = {};
      const dropped: string[] = [];
      for (const [k, v] of Object.entries(raw)) {
        const r = validateIdleSettings({ [k]: v });
        if (r.ok) Object.assign(kept, r.value);
        else dropped.push(...r.problems);
      }
      if (dropped.length > 0) this.loadError = `${this.path}: ignored ${dropped.join('; ')}`;
      this.overrides = kept;
    } catch {
      this.loadError = `${this.path} is not valid JSON; ignoring it`;
      this.overrides = {};
    }
    return this.overrides;
  }

  /** Merges `changes` into the overrides and writes them (temp file, fsync, rename). */
  save(changes: Partial<IdleSettings>): Partial<IdleSettings> {
    return this.write({ ...this.overrides, ...changes });
  }

  /** Removes overrides (an admin edited those keys in agent.yaml since: the newest change wins). */
  drop(keys: readonly (keyof IdleSettings)[]): Partial<IdleSettings> {
    const next = { ...this.overrides };
    for (const k of keys) delete next[k];
    return this.write(next);
  }

  private write(next: Partial<IdleSettings>): Partial<IdleSettings> {
    writeFileAtomic(this.path, JSON.stringify({ version: 1, idle: next }, null, 2) + '\n');
    this.overrides = next;
    return next;
  }
}
