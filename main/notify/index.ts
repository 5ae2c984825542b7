/**
 * Decides which native notifications to show, from the core's events. Pure: no timers, no Electron;
 * time comes from `now()`, output goes to `emit`. The Fleet core owns one Notifier, feeds it, and
 * emits each FleetNotification as the 'notification' event; the Electron shell shows it.
 *
 * Rules:
 * - slept: the host went to sleep (explicit slept(), or a status transition into 'asleep').
 * - woke: the host came back after being seen asleep or waking in this session (explicit woke(), or a
 *   transition asleep|waking -> online). Never for the first connect after the app starts.
 * - wake-timeout: wake progress reached 'failed'.
 * - host-key-changed: a transition into 'host-key-changed' (also when it is the first state seen).
 * - agent-unreachable: the agent went unreachable while its host is online (an offline or sleeping
 *   host makes every agent unreachable; that is not news).
 * - Each kind is shown only when preferences.notifications[kind] is on, and at most once per host per
 *   `dedupeMs` (default 5 min).
 */
import type { AgentState, AgentStatus, FleetNotification, HostState, HostStatus, NotificationKind, Preferences, SleepPeriod, WakeProgress } from '../../preload/api.js';

export const DEFAULT_DEDUPE_MS = 5 * 60_000;

export interface NotifierOptions {
  /** Current preferences (read on every decision, so changes apply at once). */
  preferences: () => Pick<Preferences, 'notifications'>;
  emit: (n: FleetNotification) => void;
  now?: () => number;
  dedupeMs?: number;
}

export interface SleptInfo {
  reason?: SleepPeriod['reason'];
  /** When the suspend happened (ms since epoch); default now. */
  at?: number;
  wolArmed?: boolean | null;
  wolMessage?: string;
}

export interface WokeInfo {
  /** Seconds from the magic packet to the host answering, when woken by us. */
  seconds?: number;
  /** How long it slept, when known. */
  sleptSeconds?: number;
}

function fmtDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 90) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 90) return `${m} min`;
  const h = Math.floor(m / 60);
  const rest = m % 60;
  return rest ? `${h} h ${rest} min` : `${h} h`;
}

export class Notifier {
  private readonly opts: NotifierOptions;
  private readonly now: () => number;
  private readonly dedupeMs: number;
  private readonly hostStates = new Map<string, HostState>();
  private readonly agentStates = new Map<string, AgentState>();
  /** Hosts seen asleep or waking in this session: only they may produce 'woke'. */
  private readonly sleptThisSession = new Set<string>();
  /** `${kind}\0${host}` -> when it was last shown. */
  private readonly lastShown = new Map<string, number>();

  constructor(opts: NotifierOptions) {
    this.opts = opts;
    this.now = opts.now ?? Date.now;
    this.dedupeMs = opts.dedupeMs ?? DEFAULT_DEDUPE_MS;
  }

  /** Feed every 'host-status' event. */
  hostStatus(status: HostStatus): void {
    const { name, state } = status;
    const prev = this.hostStates.get(name);
    this.hostStates.set(name, state);
    if (prev === state) return;
    if (state === 'asleep') {
      // Asleep already when the app started: remember it (a later wake is news), but say nothing now.
      if (prev === undefined) this.sleptThisSession.add(name);
      else this.slept(name);
    } else if (state === 'waking') {
      this.sleptThisSession.add(name);
    } else if (state === 'online' && (prev === 'asleep' || prev === 'waking')) {
      this.woke(name);
    } else if (state === 'host-key-changed') {
      this.notify('host-key-changed', name, `${name}: host key changed`, status.error ?? 'The server presented a different host key than the one you trusted. Check it before you connect again.');
    }
  }

  /** Feed every 'agent-status' event. */
  agentStatus(status: AgentStatus): void {
    const prev = this.agentStates.get(status.name);
    this.agentStates.set(status.name, status.state);
    if (status.state !== 'unreachable' || prev === 'unreachable') return;
    if (this.hostStates.get(status.name) !== 'online') return;
    this.notify(
      'agent-unreachable',
      status.name,
      `${status.name}: agent not reachable`,
      status.message ? `The Fleetwake agent does not answer: ${status.message}` : 'The Fleetwake agent does not answer. Metrics and idle sleep are paused on this host.',
    );
  }

  /** Feed every 'wake-progress' event. */
  wakeProgress(p: WakeProgress): void {
    this.sleptThisSession.add(p.name);
    if (p.step === 'failed' && p.failure === 'stopped') return;
    if (p.step === 'failed' && p.failure === 'needs-you') {
      // It did wake: say so, and what it waits for (a changed key also has its own notification).
      this.notify('wake-timeout', p.name, `${p.name} woke, but SSH needs you`, p.message);
    } else if (p.step === 'failed') {
      this.notify('wake-timeout', p.name, `${p.name} did not wake up`, p.message || 'No answer after the magic packet. Check that Wake-on-LAN is enabled in its BIOS and network card.');
    } else if (p.step === 'agent-up' || p.step === 'ssh-up') {
      // 'ssh-up' is final when no agent is installed; the dedupe keeps 'agent-up' from repeating it.
      this.woke(p.name);
    }
  }

  /** The agent announced a suspend ('agent.suspending'), or the core otherwise knows the host went to sleep. */
  slept(host: string, info: SleptInfo = {}): void {
    this.sleptThisSession.add(host);
    const why = info.reason === 'manual' ? 'Suspended on request.' : info.reason === 'idle' ? 'Idle long enough: suspended to save power.' : 'Suspended.';
    const wol =
      info.wolArmed === false
        ? ` Wake-on-LAN could not be armed${info.wolMessage ? ` (${info.wolMessage})` : ''}: it may not wake remotely.`
        : '';
    this.notify('slept', host, `${host} is asleep`, `${why}${wol}`, info.at);
  }

  /** The host is back after sleeping (explicit, e.g. on 'agent.resumed' or a finished wakeHost). */
  woke(host: string, info: WokeInfo = {}): void {
    if (!this.sleptThisSession.has(host)) return;
    this.sleptThisSession.delete(host);
    const parts: string[] = [];
    if (info.seconds !== undefined) parts.push(`Answered ${fmtDuration(info.seconds)} after the magic packet.`);
    if (info.sleptSeconds !== undefined) parts.push(`Slept ${fmtDuration(info.sleptSeconds)}.`);
    this.notify('woke', host, `${host} is awake`, parts.join(' ') || 'Back online.');
  }

  /** A host was removed or renamed: forget what we knew about it. */
  forget(host: string): void {
    this.hostStates.delete(host);
    this.agentStates.delete(host);
    this.sleptThisSession.delete(host);
    for (const key of [...this.lastShown.keys()]) if (key.endsWith(`\0${host}`)) this.lastShown.delete(key);
  }

  private notify(kind: NotificationKind, host: string, title: string, body: string, at?: number): void {
    if (!this.opts.preferences().notifications[kind]) return;
    const now = this.now();
    const key = `${kind}\0${host}`;
    const last = this.lastShown.get(key);
    if (last !== undefined && now - last < this.dedupeMs) return;
    this.lastShown.set(key, now);
    this.opts.emit({ kind, host, title, body, at: at ?? now });
  }
}
