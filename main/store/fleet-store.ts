/**
 * fleetwake.json, read and written through conf in Node and through electron-store (a conf subclass
 * taking the same options) in the desktop app, so both open the same file the same way. In Node, conf
 * itself is loaded on the first write (LazyConf): a command that only reads never loads it.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type Conf from 'conf';
import { FleetError } from '../core/errors.js';
import { acquireFileLock, type FileLockOptions, type HeldLock } from './file-lock.js';
import { defaultPreferences } from '../preferences/index.js';
import type { FleetData, FleetStore } from './types.js';
import {
  assertValidFleetData,
  CURRENT_SCHEMA_VERSION,
  migrateFleetFile,
  SchemaError,
  schemaVersionOf,
  toFleetFile,
} from './schema.js';

export const FLEET_STORE_NAME = 'fleetwake';
export const FLEET_STORE_FILE = `${FLEET_STORE_NAME}.json`;

/** The part of conf (and electron-store) this store uses. */
export interface ConfLike {
  store: Record<string, unknown>;
  readonly path: string;
}

export interface FleetStoreOptions {
  cwd: string;
  configName: string;
  /** electron-store replaces configName with `name` (default "config"), so both are given. */
  name: string;
  fileExtension: 'json';
  /** Host names and addresses are nobody else's business on a shared machine. */
  configFileMode: number;
  /** A damaged file is moved aside by openFleetStore, never silently emptied by conf. */
  clearInvalidConfig: false;
  /** Keys are whole fields, never dotted paths. */
  accessPropertiesByDotNotation: false;
  watch: false;
}

export function fleetStorePath(dir: string): string {
  return path.join(path.resolve(dir), FLEET_STORE_FILE);
}

/** The lock every process takes to change fleetwake.json (see file-lock.ts). */
export function fleetStoreLockPath(dir: string): string {
  return `${fleetStorePath(dir)}.lock`;
}

export type FleetStoreLockOptions = FileLockOptions;

export function fleetStoreOptions(dir: string): FleetStoreOptions {
  return {
    cwd: path.resolve(dir),
    configName: FLEET_STORE_NAME,
    name: FLEET_STORE_NAME,
    fileExtension: 'json',
    configFileMode: 0o600,
    clearInvalidConfig: false,
    accessPropertiesByDotNotation: false,
    watch: false,
  };
}

/**
 * conf, made on the first write. Until then the store is read the way conf reads it with these options
 * (the file, JSON.parse; no schema, defaults, encryption or migrations are configured; a missing file
 * is {}), so `fleetwake hosts ls` never loads conf and its schema validator: about a third of the CLI
 * bundle and of its start-up time. conf is an ES module without top-level await, so require() loads it
 * synchronously (Node >= 20.19, as package.json's engines say).
 */
export class LazyConf implements ConfLike {
  readonly path: string;
  private conf: ConfLike | undefined;

  constructor(private readonly options: FleetStoreOptions) {
    this.path = path.join(path.resolve(options.cwd), `${options.configName}.${options.fileExtension}`);
  }

  get store(): Record<string, unknown> {
    if (this.conf) return this.conf.store;
    let text: string;
    try {
      text = fs.readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw err;
    }
    return JSON.parse(text) as Record<string, unknown>;
  }

  set store(value: Record<string, unknown>) {
    this.conf ??= new (loadConf())<Record<string, unknown>>(this.options);
    this.conf.store = value;
  }
}

let ConfClass: typeof Conf | undefined;
function loadConf(): typeof Conf {
  // import.meta.url of the running file: the sources, or a bundle whose build defines it (scripts/build.mjs).
  ConfClass ??= (createRequire(import.meta.url)('conf') as { default: typeof Conf }).default;
  return ConfClass;
}

const emptyData = (): FleetData => ({ hosts: [], trustedKeys: [], preferences: defaultPreferences(), sleepLog: {} });

function newerVersionError(file: string, version: number): FleetError {
  return new FleetError(
    'failed',
    `The data in ${file} was written by a newer Fleetwake (data version ${version}; this version understands up to ${CURRENT_SCHEMA_VERSION}). ` +
      'Upgrade Fleetwake to open it, or point --data-dir or FLEETWAKE_HOME at another folder.',
  );
}

type FileState =
  | { kind: 'missing' }
  | { kind: 'valid'; data: FleetData; migratedFrom: number | null }
  | { kind: 'damaged'; reason: string };

function inspectStoreFile(file: string): FileState {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    throw new FleetError('failed', `Could not read ${file} (${(err as Error).message}). Check that the file and its folder belong to you and are readable.`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return { kind: 'damaged', reason: `it is not valid JSON (${(err as Error).message})` };
  }
  try {
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
      const version = schemaVersionOf(parsed as Record<string, unknown>);
      if (version > CURRENT_SCHEMA_VERSION) throw newerVersionError(file, version);
    }
    return { kind: 'valid', ...migrateFleetFile(parsed) };
  } catch (err) {
    if (err instanceof SchemaError) return { kind: 'damaged', reason: `its content is not valid fleet data: ${err.message}` };
    throw err;
  }
}

function backupPathFor(file: string, now: Date): string {
  const stamp = now.toISOString().replace(/:/g, '-');
  const base = path.join(path.dirname(file), `${FLEET_STORE_NAME}.corrupt-${stamp}`);
  let candidate = `${base}.json`;
  for (let n = 2; fs.existsSync(candidate); n++) candidate = `${base}-${n}.json`;
  return candidate;
}

class ConfFleetStore implements FleetStore {
  private updating = false;

  constructor(
    private readonly conf: ConfLike,
    readonly problems: string[],
    private readonly lockOptions: FleetStoreLockOptions,
  ) {}

  get path(): string {
    return this.conf.path;
  }

  read(): FleetData {
    let raw: Record<string, unknown>;
    try {
      raw = this.conf.store;
    } catch (err) {
      throw new FleetError('failed', `Could not read ${this.path} (${(err as Error).message}). Restart Fleetwake: it moves a damaged file aside and starts with an empty fleet.`);
    }
    // conf hands back {} for a file that was never written.
    if (Object.keys(raw).length === 0) return emptyData();
    try {
      const version = schemaVersionOf(raw);
      if (version > CURRENT_SCHEMA_VERSION) throw newerVersionError(this.path, version);
      return migrateFleetFile(raw).data;
    } catch (err) {
      if (err instanceof SchemaError) {
        throw new FleetError('failed', `${this.path} was changed outside Fleetwake and is no longer valid (${err.message}). Restart Fleetwake: it moves the file aside and starts with an empty fleet.`);
      }
      throw err;
    }
  }

  write(data: FleetData): void {
    this.locked(() => {
      this.save(data);
    });
  }

  update(change: (data: FleetData) => FleetData): FleetData {
    return this.locked((lock) => {
      const next = change(this.read());
      if (typeof next !== 'object' || next === null) {
        throw new Error('FleetStore.update: the change function must return the new FleetData (it returned nothing); nothing was saved.');
      }
      if (!lock.stillHeld()) {
        throw new FleetError(
          'failed',
          `Nothing was saved: this Fleetwake held the lock on ${this.path} for so long that another process took it over. Try again.`,
        );
      }
      return this.save(next);
    });
  }

  /** Validates, then replaces the file (conf writes a temporary file and renames it over). */
  private save(data: FleetData): FleetData {
    const valid = assertValidFleetData(data);
    this.conf.store = toFleetFile(valid) as unknown as Record<string, unknown>;
    return valid;
  }

  private locked<T>(body: (lock: HeldLock) => T): T {
    if (this.updating) {
      throw new Error('FleetStore: write() or update() was called inside an update() change function; return the new data from it instead.');
    }
    const lock = acquireFileLock(`${this.path}.lock`, `The fleet data in ${this.path}`, this.lockOptions);
    this.updating = true;
    try {
      return body(lock);
    } finally {
      this.updating = false;
      lock.release();
    }
  }
}

/**
 * Opens the fleet store in `dir`, creating the folder (0700) if needed.
 * A damaged file is moved aside to fleetwake.corrupt-<time>.json and reported in `problems`; a file from
 * a newer Fleetwake is left alone and opening throws.
 */
export function openFleetStore(
  dir: string,
  createConf: (options: FleetStoreOptions) => ConfLike = (options) => new LazyConf(options),
  lockOptions: FleetStoreLockOptions = {},
): FleetStore {
  const file = fleetStorePath(dir);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  // Moving a damaged file aside and rewriting a migrated one are changes too: another process opening
  // the same folder at the same moment must not do them twice or undo them.
  const lock = acquireFileLock(fleetStoreLockPath(dir), `The fleet data in ${file}`, lockOptions);
  try {
    return openLocked(dir, file, createConf, lockOptions);
  } finally {
    lock.release();
  }
}

function openLocked(
  dir: string,
  file: string,
  createConf: (options: FleetStoreOptions) => ConfLike,
  lockOptions: FleetStoreLockOptions,
): FleetStore {
  const state = inspectStoreFile(file);
  const problems: string[] = [];
  if (state.kind === 'damaged') {
    const backup = backupPathFor(file, new Date());
    fs.renameSync(file, backup);
    problems.push(
      `The fleet data in ${file} could not be used: ${state.reason}. It was moved to ${backup} and Fleetwake started with an empty fleet. ` +
        `To recover, repair that file and copy it back to ${file} while Fleetwake is closed.`,
    );
  }
  const conf = createConf(fleetStoreOptions(dir));
  if (path.resolve(conf.path) !== file) {
    throw new Error(`The store backend opened ${conf.path} instead of ${file}; pass fleetStoreOptions(dir) to it unchanged.`);
  }
  const store = new ConfFleetStore(conf, problems, lockOptions);
  // Already under the lock: save directly.
  if (state.kind === 'valid' && state.migratedFrom !== null) conf.store = toFleetFile(assertValidFleetData(state.data)) as unknown as Record<string, unknown>;
  return store;
}
