import type { Preferences, SleepPeriod } from '../../preload/api.js';
import type { HostRecord } from '../hosts/types.js';

/** A host key the user confirmed, keyed like known_hosts: the address and port that were dialled. */
export interface TrustedKey {
  host: string;
  port: number;
  keyType: string;
  fingerprint: string;
  /** Base64 of the public key blob, as in known_hosts. */
  key: string;
  addedAt: string;
}

export interface FleetData {
  hosts: HostRecord[];
  trustedKeys: TrustedKey[];
  /** User preferences (schema v2). */
  preferences: Preferences;
  /**
   * Sleep periods per host name, oldest first, at most SLEEP_LOG_LIMIT each (schema v2): what the core
   * observed plus what the agents' sleep.history reported, merged (main/sleep/energy/sleep-log.ts).
   */
  sleepLog: Record<string, SleepPeriod[]>;
}

/** The persisted fleet data, whatever backs it (conf in Node, electron-store in the app). */
export interface FleetStore {
  read(): FleetData;
  /**
   * Replace the data atomically; the store validates before writing and throws if invalid. A blind
   * write: data read earlier and written back here undoes what another process saved in between.
   * To change part of the data, use update().
   */
  write(data: FleetData): void;
  /**
   * Read-modify-write, safe across processes (the CLI and the desktop app on one folder): takes the
   * store's lock file, reads the file fresh, calls `change` with that data, validates and writes what it
   * returns, then releases the lock. Returns the data saved. If `change` throws, or what it returns is
   * invalid, nothing is saved. `change` must not call write() or update().
   */
  update(change: (data: FleetData) => FleetData): FleetData;
  /** Problems found while opening (a corrupt file moved aside, etc.), for the fronts to report. */
  readonly problems: string[];
  readonly path: string;
}
