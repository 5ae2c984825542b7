import { dirname, join } from 'node:path';
import type { HostStatus, SleepPeriod } from '../../preload/api.js';
import type { IdleStatus, NetworkInterfaceInfo, ResumedEvent, SuspendingEvent } from '../../remote-agent/protocol.js';
import type { FleetContext } from '../core/context.js';
import { IdleDrawTracker } from './energy/idle-draw.js';
import { closeOpenPeriod, recordSleepPeriod } from './energy/index.js';
import { isCanonicalMac } from '../hosts/mac.js';
import type { Notifier } from '../notify/index.js';
import { SLEEP_LOG_LIMIT } from '../store/schema.js';
import type { FleetData } from '../store/types.js';
import { overlayStatus } from './wake/idle.js';
import { checkedNet } from './wake/targets.js';
import { macToStore, WakeState } from './wake/wake-state.js';

/** A host still sampling this long after announcing a suspend did not suspend. */
const STALE_ANNOUNCEMENT_MS = 30_000;

/**
 * The sleep/wake state machine: what the core knows of each host's sleep beyond its SSH state.
 * It hears the connection pool (online again), the agent (suspending, resumed, samples, idle state,
 * its network) and the wake (waking), keeps the announced sleeps and learned networks in
 * wake-state.json and the observed sleeps in the store's sleep log, and publishes every host status
 * with 'asleep' / 'waking' laid over it.
 */
export class SleepWatch {
  /** Announced suspends and learned network facts, persisted beside the store. */
  readonly wakeState: WakeState;
  /** Idle draw per host from its samples while idle, for the energy report. */
  readonly idleDraw = new IdleDrawTracker();
  /** Hosts a magic packet was sent to and that are not back yet: since when. */
  private readonly waking = new Map<string, number>();
  /** The state last pushed per host, so an asleep host retrying its connection does not flood events. */
  private readonly lastPushed = new Map<string, string>();
  /** Hosts unreachable before their planned suspend: a timer to show them asleep once it is due. */
  private readonly planTimers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly ctx: FleetContext,
    private readonly notifier: Notifier,
  ) {
    const w = ctx.deps.wake;
    const statePath = w?.statePath !== undefined ? w.statePath : join(dirname(ctx.deps.store.path), 'wake-state.json');
    this.wakeState = new WakeState(statePath);
  }

  isWaking(name: string): boolean {
    return this.waking.has(name);
  }

  /** 'asleep' / 'waking' laid over what the SSH connection says (HostState docs in preload/api.ts). */
  overlay(s: HostStatus): HostStatus {
    const mac = this.ctx.data().hosts.find((h) => h.name === s.name)?.mac ?? null;
    return overlayStatus(s, this.wakeState.asleep(s.name), this.waking.get(s.name), mac, this.wakeState.plan(s.name));
  }

  private push(s: HostStatus): void {
    const out = this.overlay(s);
    this.armPlanTimer(out);
    // A host asleep or waking keeps retrying its connection: one event per overlay state is enough.
    const key = out.state === 'asleep' || out.state === 'waking' ? out.state : `${out.state}|${out.since}|${out.error ?? ''}`;
    if ((out.state === 'asleep' || out.state === 'waking') && this.lastPushed.get(s.name) === key) return;
    this.lastPushed.set(s.name, key);
    this.notifier.hostStatus(out);
    this.ctx.emit('host-status', out);
  }

  /** An unreachable host whose planned suspend is still ahead is looked at again when it falls due. */
  private armPlanTimer(out: HostStatus): void {
    clearTimeout(this.planTimers.get(out.name));
    this.planTimers.delete(out.name);
    const plan = this.wakeState.plan(out.name);
    if ((out.state !== 'offline' && out.state !== 'connecting') || !plan || plan.suspendAt <= Date.now()) return;
    const timer = setTimeout(() => {
      this.planTimers.delete(out.name);
      if (!this.ctx.closed) this.push(this.ctx.pool.statusOf(out.name));
    }, Math.min(plan.suspendAt - Date.now() + 500, 2 ** 31 - 1));
    timer.unref();
    this.planTimers.set(out.name, timer);
  }

  /** Every status of the connection pool comes through here on its way out. */
  onPoolStatus(s: HostStatus): void {
    // Back online: whatever was announced is over, and so is a plan whose time has passed.
    if (s.state === 'online' && this.wakeState.asleep(s.name)) {
      this.wakeState.setAsleep(s.name, null);
      this.updateSleepLog(s.name, (list) => closeOpenPeriod(list, Date.now()));
    }
    const plan = this.wakeState.plan(s.name);
    if (s.state === 'online' && plan && plan.suspendAt <= Date.now()) this.wakeState.setPlan(s.name, null);
    this.push(s);
  }

  /**
   * Keep the agent's plan (suspend at T if nothing changes), so a host that goes quiet at T is known to
   * be asleep even when no app was connected to hear it announce the suspend. A status without a plan
   * (busy, suspend off, dry run) clears it; no status at all (the agent went away) says nothing.
   */
  notePlan(name: string, status: IdleStatus | null): void {
    if (!status) return;
    const planned = status.suspendAt !== null && !status.dryRun && status.settings.enableSuspend;
    this.wakeState.setPlan(name, planned ? { suspendAt: status.suspendAt!, heardAt: Date.now() } : null);
  }

  onSuspending(name: string, ev: SuspendingEvent): void {
    if (ev.dryRun) return; // the agent only says what it would have done
    this.wakeState.setAsleep(name, { at: ev.at, reason: ev.reason });
    this.wakeState.setPlan(name, null);
    this.updateSleepLog(name, (list) =>
      recordSleepPeriod(list, { suspendedAt: ev.at, resumedAt: null, reason: ev.reason, wolArmed: ev.wolArmed, wolMessage: ev.wolMessage }, SLEEP_LOG_LIMIT),
    );
    this.notifier.slept(name, { reason: ev.reason, wolArmed: ev.wolArmed, wolMessage: ev.wolMessage, at: ev.at });
    const status = this.ctx.pool.statusOf(name);
    if (status.state !== 'online') this.push(status);
  }

  /**
   * An announced suspend that did not happen (the suspend command failed) must not leave the host
   * marked: samples still arriving well after the announcement, over a live connection, clear it.
   */
  noteSamples(samples: { name: string; sample: { sampledAt: number } }[]): void {
    for (const { name, sample } of samples) {
      const mark = this.wakeState.asleep(name);
      const online = () => this.ctx.pool.statusOf(name).state === 'online';
      if (mark && sample.sampledAt > mark.at + STALE_ANNOUNCEMENT_MS && online()) {
        this.wakeState.setAsleep(name, null);
      }
      // Likewise a plan the box outlived (its suspend failed) says nothing about it any more.
      const plan = this.wakeState.plan(name);
      if (plan && sample.sampledAt > plan.suspendAt + STALE_ANNOUNCEMENT_MS && online()) this.wakeState.setPlan(name, null);
    }
  }

  onResumed(name: string, ev: ResumedEvent): void {
    this.updateSleepLog(name, (list) => closeOpenPeriod(list, ev.at));
    this.wakeState.setPlan(name, null);
    this.notifier.woke(name, { sleptSeconds: ev.sleptSeconds });
    if (this.wakeState.asleep(name)) {
      this.wakeState.setAsleep(name, null);
      this.push(this.ctx.pool.statusOf(name));
    }
  }

  setWaking(name: string, on: boolean): void {
    if (on) this.waking.set(name, Date.now());
    else if (!this.waking.delete(name)) return;
    if (!this.ctx.closed) this.push(this.ctx.pool.statusOf(name));
  }

  /**
   * Keep what the agent reports about the host's network: the MAC goes into the host record only when
   * the user left it empty (a user-set MAC is never overwritten); MAC, subnet and broadcast also go
   * into wake-state.json, refreshed on every connect.
   */
  learn(name: string, pi: NetworkInterfaceInfo | null): void {
    if (!pi) return;
    try {
      const mac = isCanonicalMac(pi.mac) ? pi.mac : null;
      // Packets go to the learned broadcast: only one that belongs to the reported subnet is kept.
      const learned = checkedNet({ mac, ipv4: pi.ipv4, netmask: pi.netmask, broadcast: pi.broadcast }, Date.now()).net;
      this.wakeState.setNet(name, learned);
      const adopted = this.wakeState.adoptedMac(name);
      let next = null as string | null;
      const needed = (hosts: readonly { name: string; mac: string | null }[]): string | null => {
        const host = hosts.find((h) => h.name === name);
        return host ? macToStore(host.mac, adopted, mac) : null;
      };
      if (needed(this.ctx.data().hosts)) {
        // Decided again on the data on disk now: a MAC the user typed meanwhile (in the CLI) is kept.
        this.ctx.deps.store.update((data) => {
          next = needed(data.hosts);
          return next ? { ...data, hosts: data.hosts.map((h) => (h.name === name ? { ...h, mac: next } : h)) } : data;
        });
      }
      if (next) {
        this.wakeState.setAdoptedMac(name, next);
        this.ctx.publishHosts();
      }
    } catch {
      // Learning is best effort; the wake asks for a MAC when none is known.
    }
  }

  /** What the core saw of a host's sleeps, kept in the store for the energy report. */
  private updateSleepLog(name: string, change: (list: readonly SleepPeriod[]) => readonly SleepPeriod[]): void {
    try {
      const peek = this.ctx.data();
      if (!peek.hosts.some((h) => h.name === name)) return;
      const own = (data: FleetData) => (Object.hasOwn(data.sleepLog, name) ? data.sleepLog[name]! : []);
      if (change(own(peek)) === own(peek)) return;
      // Applied to the log on disk now, under the store's lock: another process's observations stay.
      this.ctx.deps.store.update((data) => {
        if (!data.hosts.some((h) => h.name === name)) return data;
        const before = own(data);
        const after = change(before);
        return after === before ? data : { ...data, sleepLog: { ...data.sleepLog, [name]: [...after] } };
      });
    } catch {
      // Losing one observation only makes the energy estimate smaller; never fail an event for it.
    }
  }

  /** The host was renamed: its announced sleep and learned network move with it. */
  renamed(from: string, to: string): void {
    this.wakeState.rename(from, to);
    this.lastPushed.delete(from);
    clearTimeout(this.planTimers.get(from));
    this.planTimers.delete(from);
  }

  /** The host is gone under this name (removed, or renamed away): drop what was kept for it. */
  forget(name: string): void {
    clearTimeout(this.planTimers.get(name));
    this.planTimers.delete(name);
    this.idleDraw.forget(name);
    this.wakeState.forget(name);
    this.lastPushed.delete(name);
  }
}
