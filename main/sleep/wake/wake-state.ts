/**
 * What the wake feature remembers per host between runs of the app and the CLI, in its own small file
 * next to the fleet store (`wake-state.json`): the last suspend the agent announced (so a host is shown
 * 'asleep' after an app restart) and the network facts learned from the agent (MAC, subnet, broadcast).
 *
 * The fleet store's schema has no place for learned values; only HostRecord.mac is filled in (when the
 * user left it empty). This file is a cache: a missing or broken one is simply started afresh.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { acquireFileLock } from '../../store/file-lock.js';
import type { LearnedNet } from './targets.js';

export interface SleepMark {
  /** ms since epoch: when the agent announced the suspend. */
  at: number;
  reason: 'idle' | 'manual';
}

interface HostWakeState {
  asleep?: SleepMark | null;
  net?: LearnedNet | null;
  /** The MAC the app wrote into the host from the agent (not typed by the user): it may be refreshed. */
  adoptedMac?: string | null;
}

interface FileShape {
  version: 1;
  hosts: Record<string, HostWakeState>;
}

/**
 * The MAC to store for a host after the agent reported `learned`, or null to leave it: an empty MAC is
 * filled, and one the app filled itself (`adopted`) follows a new NIC; a MAC the user typed is kept.
 */
export function macToStore(current: string | null, adopted: string | null, learned: string | null): string | null {
  if (!learned || current === learned) return null;
  if (current === null || current === adopted) return learned;
  return null;
}

export class WakeState {
  private data: FileShape = { version: 1, hosts: {} };

  /** `path` null keeps everything in memory (unit tests). */
  constructor(private readonly path: string | null) {
    this.data = this.load();
  }

  private load(): FileShape {
    if (!this.path) return this.data;
    try {
      const parsed = JSON.parse(readFileSync(this.path, 'utf8')) as FileShape;
      if (parsed && parsed.version === 1 && typeof parsed.hosts === 'object' && parsed.hosts !== null) return parsed;
    } catch {
      /* missing or unreadable: start afresh */
    }
    return { version: 1, hosts: {} };
  }

  /**
   * Read-modify-write under `wake-state.json.lock` (the fleet store's lock implementation): the file is
   * read fresh, `fn` changes it and says whether anything changed, and only then is it written. So the
   * CLI and the app never undo each other's hosts, and the check is made against what is on disk now.
   */
  private change(fn: (hosts: Record<string, HostWakeState>) => boolean): void {
    if (!this.path) {
      fn(this.data.hosts);
      return;
    }
    let lock;
    try {
      mkdirSync(dirname(this.path), { recursive: true });
      lock = acquireFileLock(`${this.path}.lock`, `The wake state in ${this.path}`);
    } catch {
      // A cache: if it stays locked, keep the change for this run only.
      fn(this.data.hosts);
      return;
    }
    try {
      this.data = this.load();
      if (fn(this.data.hosts) && lock.stillHeld()) this.save();
    } finally {
      lock.release();
    }
  }

  /** Change one host; an entry left with nothing in it is dropped. */
  private update(name: string, fn: (h: HostWakeState) => boolean): void {
    this.change((hosts) => {
      const h = hosts[name] ?? {};
      if (!fn(h)) return false;
      if (!h.asleep && !h.net && !h.adoptedMac) delete hosts[name];
      else hosts[name] = h;
      return true;
    });
  }

  private save(): void {
    if (!this.path) return;
    try {
      const tmp = `${this.path}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(this.data, null, 2), { mode: 0o600 });
      renameSync(tmp, this.path);
    } catch {
      // A cache: failing to persist only loses the 'asleep' overlay after a restart.
    }
  }

  asleep(name: string): SleepMark | null {
    return this.data.hosts[name]?.asleep ?? null;
  }

  setAsleep(name: string, mark: SleepMark | null): void {
    this.update(name, (h) => {
      const cur = h.asleep ?? null;
      if (cur === mark || (cur && mark && cur.at === mark.at && cur.reason === mark.reason)) return false;
      h.asleep = mark;
      return true;
    });
  }

  net(name: string): LearnedNet | null {
    return this.data.hosts[name]?.net ?? null;
  }

  setNet(name: string, net: LearnedNet): void {
    this.update(name, (h) => {
      const cur = h.net ?? null;
      if (cur && cur.mac === net.mac && cur.ipv4 === net.ipv4 && cur.netmask === net.netmask && cur.broadcast === net.broadcast) return false;
      h.net = net;
      return true;
    });
  }

  adoptedMac(name: string): string | null {
    return this.data.hosts[name]?.adoptedMac ?? null;
  }

  setAdoptedMac(name: string, mac: string | null): void {
    this.update(name, (h) => {
      if ((h.adoptedMac ?? null) === mac) return false;
      h.adoptedMac = mac;
      return true;
    });
  }

  rename(from: string, to: string): void {
    this.change((hosts) => {
      const h = hosts[from];
      if (!h) return false;
      delete hosts[from];
      hosts[to] = h;
      return true;
    });
  }

  forget(name: string): void {
    this.change((hosts) => {
      if (!hosts[name]) return false;
      delete hosts[name];
      return true;
    });
  }
}
