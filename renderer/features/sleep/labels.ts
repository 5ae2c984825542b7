/** Labels and formatting for wake, idle gates, sleep history and energy. Pure. */
import type { GateResult, IdleGate, IdleSettings, IdleState, IdleStatus, NotificationKind, WakeProgress, WakeStep } from '../../../preload/api.js';

export const IDLE_STATE_LABEL: Record<IdleState, string> = {
  warming_up: 'Warming up',
  active: 'Active',
  idle: 'Idle',
};

export const GATE_LABEL: Record<IdleGate, string> = {
  disabled: 'Suspend enabled',
  warming_up: 'Enough samples',
  below_timeout: 'Idle long enough',
  high_cpu: 'CPU',
  high_gpu: 'GPU utilisation',
  gpu_processes: 'GPU processes',
  inhibit: 'Sleep inhibitors',
  sessions: 'Logged-in sessions',
  network: 'Network traffic',
  ollama_busy: 'Ollama',
  custom_check: 'Custom check',
};

export const NOTIFICATION_LABEL: Record<NotificationKind, { label: string; hint: string }> = {
  slept: { label: 'A host went to sleep', hint: 'Idle long enough, or suspended by you.' },
  woke: { label: 'A host woke up', hint: 'After Wake-on-LAN or by itself; never for the first connect after start.' },
  'wake-timeout': { label: 'A host did not wake', hint: 'No answer after the magic packet.' },
  'host-key-changed': { label: 'A host key changed', hint: 'Possible man-in-the-middle, or a reinstalled server.' },
  'agent-unreachable': { label: 'An agent stopped answering', hint: 'While its host is online.' },
};

/** The steps a wake goes through, in order ('failed' ends a run early). */
export const WAKE_STEPS: { step: Exclude<WakeStep, 'failed'>; label: string }[] = [
  { step: 'packet-sent', label: 'Magic packet sent' },
  { step: 'network-up', label: 'Network up' },
  { step: 'ssh-up', label: 'SSH answers' },
  { step: 'agent-up', label: 'Agent answers' },
];

export type WakeStepState = 'done' | 'running' | 'pending' | 'failed';

export interface WakeStepView {
  step: WakeStep;
  label: string;
  state: WakeStepState;
  message: string;
  /** Seconds from the packet, for reached steps. */
  seconds: number | null;
}

/** The wake run as rows: reached steps done, the next one running (or failed), the rest pending. */
export function wakeStepViews(run: readonly WakeProgress[], finished: boolean): WakeStepView[] {
  const start = run[0]?.at ?? 0;
  const failed = run.find((p) => p.step === 'failed');
  const reached = new Map(run.filter((p) => p.step !== 'failed').map((p) => [p.step, p]));
  let nextMarked = false;
  return WAKE_STEPS.map(({ step, label }) => {
    const p = reached.get(step);
    if (p) return { step, label, state: 'done', message: p.message, seconds: Math.max(0, (p.at - start) / 1000) };
    if (!nextMarked && !finished) {
      nextMarked = true;
      return { step, label, state: failed ? 'failed' : 'running', message: failed?.message ?? '', seconds: failed ? Math.max(0, (failed.at - start) / 1000) : null };
    }
    if (!nextMarked && failed) {
      nextMarked = true;
      return { step, label, state: 'failed', message: failed.message, seconds: Math.max(0, (failed.at - start) / 1000) };
    }
    return { step, label, state: 'pending', message: '', seconds: null };
  });
}

/** 12:30, or 1:02:03 past an hour; 0:00 when due. */
export function fmtCountdown(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** 45 s, 12 min, 5 h 16 min, 3 d 4 h */
export function fmtDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

const sameDay = (a: Date, b: Date) => a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();

/** "14:05" today, "Tue 14:05" this week, "3 Nov 14:05" before. */
export function fmtWhen(t: number, now = Date.now()): string {
  const d = new Date(t);
  const time = d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  if (sameDay(d, new Date(now))) return time;
  if (now - t < 6 * 86_400_000) return `${d.toLocaleDateString(undefined, { weekday: 'short' })} ${time}`;
  return `${d.toLocaleDateString(undefined, { day: 'numeric', month: 'short' })} ${time}`;
}

export function fmtHours(h: number): string {
  if (h === 0) return '0 h';
  if (h < 10) return `${h.toFixed(1)} h`;
  return `${Math.round(h).toLocaleString()} h`;
}

export function fmtKwh(kwh: number): string {
  if (kwh === 0) return '0 kWh';
  if (kwh < 10) return `${kwh.toFixed(2)} kWh`;
  if (kwh < 1000) return `${kwh.toFixed(1)} kWh`;
  return `${Math.round(kwh).toLocaleString()} kWh`;
}

/** Money in the user's currency: a 3-letter code through Intl, anything else as a prefix symbol. */
export function fmtMoney(v: number, currency: string): string {
  if (/^[A-Z]{3}$/.test(currency)) {
    try {
      return new Intl.NumberFormat(undefined, { style: 'currency', currency, maximumFractionDigits: 2, minimumFractionDigits: 2 }).format(v);
    } catch {
      // unknown code: fall through
    }
  }
  return `${currency}${v.toFixed(2)}`;
}

/** The gate that keeps the box awake now, first in the agent's order. */
export const firstBlocking = (gates: readonly GateResult[]) => gates.find((g) => g.blocking);

/** The settings the host's agent.yaml locks (shown read-only) and the note that says so; null when none. */
export function idleLocks(status: IdleStatus): { keys: ReadonlySet<keyof IdleSettings>; isLocked(key: keyof IdleSettings): boolean; note: string | null } {
  const keys = new Set(status.locked ?? []);
  return {
    keys,
    isLocked: (key) => keys.has(key),
    note: keys.size === 0 ? null : `Locked by the administrator in ${status.configFile ?? "the agent's agent.yaml"}`,
  };
}
