/**
 * What the wake feature remembers per host between runs of the app and the CLI, in its own small file
 * next to the fleet store (`wake-state.json`): the last suspend the agent announced (so a host is shown
 * 'asleep' after an app restart), the last suspend it planned (so a host that went quiet at that time is
 * shown asleep even when nobody was connected to hear the announcement) and the network facts learned
 * from the agent (MAC, subnet, broadcast).
 *
 * The fleet store's schema has no place for learned values; only HostRecord.mac is filled in (when the
 * user left it empty). This file is a cache: a missing or broken one is simply started afresh.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { acquireFileLock } from '../../store/file-lock.js';
import { isReservedHostName } from '../../hosts/validation.js';
import type { LearnedNet } from './targets.js';

export interface SleepMark {
  /** ms since epoch: when the agent announced the suspend. */
  at: number;
  reason: 'idle' | 'manual';
}

/** The agent's last word on when it will suspend if nothing changes (IdleStatus.suspendAt). */
export interface SleepPlan {
  /** ms since epoch: when the box will suspend. */
  suspendAt: number;
  /** ms since epoch: when the app heard this plan. */
  heardAt: number;
}

interface HostWakeState {
  asleep?: SleepMark | null;
  plan?: SleepPlan | null;
  net?: LearnedNet | null;
  /** The MAC the app wrote into the host from the agent (not typed by the user): it may be refreshed. */
  adoptedMac?: string | null;
}

/** In memory: a Map, so no host name reads or writes an Object.prototype member. */
interface StateShape {
  version: 1;
  hosts: Map<string, HostWakeState>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The hosts of a parsed file, by own keys only. Names no host can have (`__proto__`, `constructor`, ...)
 * and entries that are not objects are dropped: the file is a cache anyone with the folder could edit.
 */
function hostsFromFile(raw: unknown): Map<string, HostWakeState> {
  const out = new Map<string, HostWakeState>();
  if (!isObject(raw)) return out;
  for (const [name, entry] of Object.entries(raw)) {
    if (isReservedHostName(name) || !isObject(entry)) continue;
    const h: HostWakeState = {};
    if (isObject(entry.asleep) && typeof entry.asleep.at === 'number' && (entry.asleep.reason === 'idle' || entry.asleep.reason === 'manual')) {
      h.asleep = { at: entry.asleep.at, reason: entry.asleep.reason };
    }
    if (isObject(entry.plan) && Number.isFinite(entry.plan.suspendAt) && Number.isFinite(entry.plan.heardAt)) {
      h.plan = { suspendAt: entry.plan.suspendAt as number, heardAt: entry.plan.heardAt as number };
    }
    if (isObject(entry.net)) h.net = entry.net as unknown as LearnedNet;
    if (typeof entry.adoptedMac === 'string') h.adoptedMac = entry.adoptedMac;
    out.set(name, h);
  }
  return out;
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
  private data: StateShape = { version: 1, hosts: new Map() };

  /** `path` null keeps everything in memory (unit tests). */
  constructor(private readonly path: string | null) {
    this.data = this.load();
  }

  private load(): StateShape {
    if (!this.path) return this.data;
    try {
      const parsed = JSON.parse(readFileSync(this.path, 'utf8')) as unknown;
      if (isObject(parsed) && parsed.version === 1) return { version: 1, hosts: hostsFromFile(parsed.hosts) };
    } catch {
      /* missing or unreadable: start afresh */
    }
    return { version: 1, hosts: new Map() };
  }

  /**
   * Read-modify-write under `wake-state.json.lock` (the fleet store's lock implementation): the file is
   * read fresh, `fn` changes it and says whether anything changed, and only then is it written. So the
   * CLI and the app never undo each other's hosts, and the check is made against what is on disk now.
   */
  private change(fn: (hosts: Map<string, HostWakeState>) => boolean): void {
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
      const h = { ...hosts.get(name) };
      if (!fn(h)) return false;
      if (!h.asleep && !h.plan && !h.net && !h.adoptedMac) hosts.delete(name);
      else hosts.set(name, h);
      return true;
    });
  }

  private save(): void {
    if (!this.path) return;
    try {
      const tmp = `${this.path}.${process.pid}.tmp`;
      // Object.fromEntries defines own keys (never the __proto__ setter); hostsFromFile reads them back.
      const file = { version: 1, hosts: Object.fromEntries(this.data.hosts) };
      writeFileSync(tmp, JSON.stringify(file, null, 2), { mode: 0o600 });
      renameSync(tmp, this.path);
    } catch {
      // A cache: failing to persist only loses the 'asleep' overlay after a restart.
    }
  }

  asleep(name: string): SleepMark | null {
    return this.data.hosts.get(name)?.asleep ?? null;
  }

  setAsleep(name: string, mark: SleepMark | null): void {
    this.update(name, (h) => {
      const cur = h.asleep ?? null;
      if (cur === mark || (cur && mark && cur.at === mark.at && cur.reason === mark.reason)) return false;
      h.asleep = mark;
      return true;
    });
  }

  plan(name: string): SleepPlan | null {
    return this.data.hosts.get(name)?.plan ?? null;
  }

  /** Written only when the planned time changes: a plan heard again is the same plan. */
  setPlan(name: string, plan: SleepPlan | null): void {
    this.update(name, (h) => {
      const cur = h.plan ?? null;
      if (cur === plan || (cur && plan && cur.suspendAt === plan.suspendAt)) return false;
      h.plan = plan;
      return true;
    });
  }

  net(name: string): LearnedNet | null {
    return this.data.hosts.get(name)?.net ?? null;
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
    return this.data.hosts.get(name)?.adoptedMac ?? null;
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
      const h = hosts.get(from);
      if (!h) return false;
      hosts.delete(from);
      hosts.set(to, h);
      return true;
    });
  }

  forget(name: string): void {
    this.change((hosts) => {
      return hosts.delete(name);
    });
  }
}
