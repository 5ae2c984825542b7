/**
 * The idle engine: PURE (no I/O, no timers; time comes in with every call). The daemon feeds it every
 * metrics sample plus the latest results of the outside checks (inhibitors, sessions, Ollama, the custom
 * check) and acts on its decision.
 *
 * States
 *   warming_up  fewer than min_samples samples in the sliding window (at start, after a resume or a
 *               suspend, after a reset): never suspends, the idle clock does not run.
 *   active      at least one LOAD gate is busy (below). Every busy load gate resets the idle clock.
 *   idle        no load gate is busy; `idleSince` is when that began.
 *
 * The box suspends only when NO gate blocks: enabled, warmed up, idle for the whole idle_timeout, every
 * load gate clear, nothing holding. `decide()` says so at most once: the engine then resets itself
 * (warming_up), so a second suspend needs a fresh window and a fresh full timeout.
 *
 * CPU / GPU / network rule (hysteresis):
 *   busy   the WINDOW AVERAGE (without its single highest reading, so one glitch can never reach it) is
 *          above the threshold, or the LAST TWO samples both are (a job that just
 *          started is caught within two samples instead of after the average catches up).
 *          Busy resets the idle clock and makes the state active.
 *   spike  only the LATEST sample is above the threshold (one noisy reading, e.g. an L40S reporting 100 %
 *          once). Not load: the gate stays clear (its reason names the spike), state and idle clock are left
 *          alone, so nothing flaps. But no suspend happens on a reading above a threshold: when the timeout
 *          is already reached, `below_timeout` blocks ("waiting for a quiet reading: ...") until the next
 *          quiet sample.
 *   clear  neither.
 *
 * Gate statuses and blocking:
 *   busy                       blocks; for a load gate, also resets the idle clock. A load gate blocks
 *                              only when busy or as below (so "high_cpu blocking" always means "active").
 *   clear, blocking false      allows sleep.
 *   unavailable, blocking true holds the suspend off without resetting the clock: a GPU read failure on a
 *                              box that has GPUs, an outside check that has not reported yet. Like a
 *                              spike, one failed GPU read only holds; two in a row also stop the idle
 *                              clock (GPUs nobody can read are not known to be idle). A box that has
 *                              reported GPUs once stays a GPU box, however long nvidia-smi fails.
 *   unavailable, blocking false  the check could not run (no systemd, no Ollama, no GPU); it does NOT keep
 *                              the box awake and its reason says so: "not checked: ..., not keeping the box
 *                              awake". Never a silent pass.
 */
import type { GateResult, IdleGate, IdleSettings, IdleState, MetricsSample } from '../protocol.js';
import { IDLE_GATES } from '../protocol.js';

/** The gates fed from outside (the daemon runs these checks; see idle/checks.ts). */
export const EXTERNAL_GATES = ['inhibit', 'sessions', 'ollama_busy', 'custom_check'] as const;
export type ExternalGate = (typeof EXTERNAL_GATES)[number];

/** Gates whose busy status is load: it makes the state active and resets the idle clock. */
export const LOAD_GATES = ['high_cpu', 'high_gpu', 'gpu_processes', 'network', ...EXTERNAL_GATES] as const satisfies readonly IdleGate[];

export interface CheckResult {
  status: 'busy' | 'clear' | 'unavailable';
  /** For unavailable: why it could not run (the engine adds "not checked: ..."). */
  reason: string;
  /**
   * For unavailable: a check the admin asked for failed to run (a custom check that timed out or is
   * missing). It holds the suspend off rather than passing by accident.
   */
  hold?: boolean;
}

export interface EngineSettings extends IdleSettings {
  intervalSeconds: number;
}

export interface EngineStatus {
  state: IdleState;
  gates: GateResult[];
  idleSince: number | null;
  suspendAt: number | null;
  settings: IdleSettings;
  samples: number;
}

export interface EngineDecision {
  status: EngineStatus;
  /** True exactly once per idle period: suspend now. The engine has already reset itself. */
  suspend: boolean;
}

interface Point {
  t: number;
  cpu: number | null;
  /** Utilisation by GPU index (null entries: unreadable). */
  gpus: Map<number, number | null>;
  /** Whether this sample had GPU data at all. */
  hasGpus: boolean;
  gpuError: string | null;
  gpuProcesses: MetricsSample['gpuProcesses'];
  /** rx+tx bytes/s, all interfaces; null when the sample had no network rates. */
  net: number | null;
}

/** 750 → "12:30"; 3750 → "1:02:30". */
export function clockText(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

function rateText(bps: number): string {
  if (bps >= 1e9) return `${(bps / 1e9).toFixed(1)} GB/s`;
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(1)} MB/s`;
  if (bps >= 1e3) return `${(bps / 1e3).toFixed(1)} kB/s`;
  return `${Math.round(bps)} B/s`;
}

const pct = (n: number) => `${n < 10 ? n.toFixed(1) : n.toFixed(0)}%`;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

export function unavailableReason(reason: string): string {
  return `not checked: ${reason}, not keeping the box awake`;
}

function toPoint(t: number, s: MetricsSample): Point {
  const gpus = new Map<number, number | null>();
  for (const g of s.gpus) gpus.set(g.index, g.utilPercent);
  let net: number | null = null;
  if (s.network.length > 0) net = s.network.reduce((a, n) => a + n.rxBytesPerSec + n.txBytesPerSec, 0);
  return { t, cpu: s.cpu.percent, gpus, hasGpus: s.gpus.length > 0, gpuError: s.gpuError, gpuProcesses: s.gpuProcesses, net };
}

type Level = 'busy' | 'spike' | 'clear';

/**
 * The window average used against the thresholds: the mean WITHOUT the single highest reading (when there
 * are 3 or more), so one noisy reading can never reach the average, whatever the window size.
 */
export function robustMean(values: number[]): number {
  if (values.length < 3) return mean(values);
  let maxAt = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[maxAt]!) maxAt = i;
  return (values.reduce((a, b) => a + b, 0) - values[maxAt]!) / (values.length - 1);
}

/** The hysteresis rule above, over the values of one series in window order (oldest first). */
function level(values: number[], threshold: number): Level {
  if (values.length === 0) return 'clear';
  const last = values[values.length - 1]!;
  const prev = values.length >= 2 ? values[values.length - 2]! : null;
  if (robustMean(values) > threshold) return 'busy';
  if (last > threshold && prev !== null && prev > threshold) return 'busy';
  if (last > threshold) return 'spike';
  return 'clear';
}

export class IdleEngine {
  private settings: EngineSettings;
  private window: Point[] = [];
  private idleSince: number | null = null;
  /** This box has reported GPUs (kept across reset(): a resume does not remove hardware). */
  private gpusSeen = false;

  constructor(settings: EngineSettings) {
    this.settings = { ...settings };
  }

  /** New settings keep the window and the idle clock (a shorter window just drops older samples). */
  configure(settings: EngineSettings): void {
    this.settings = { ...settings };
  }

  getSettings(): EngineSettings {
    return { ...this.settings };
  }

  /** Forget everything: warming_up again (after a resume, a suspend, or on demand). */
  reset(): void {
    this.window = [];
    this.idleSince = null;
  }

  /** Feed one sample (taken at `now`) and the latest outside check results; get the status and decision. */
  update(now: number, sample: MetricsSample | null, checks: Partial<Record<ExternalGate, CheckResult>>): EngineDecision {
    if (sample) {
      const point = toPoint(now, sample);
      if (point.hasGpus) this.gpusSeen = true;
      this.window.push(point);
    }
    this.trim(now);
    const status = this.evaluate(now, checks);
    const suspend = status.gates.every((g) => !g.blocking);
    if (suspend) this.reset();
    return { status, suspend };
  }

  /** The status as of the last update, re-evaluated at `now` (for idle.status between samples). */
  status(now: number, checks: Partial<Record<ExternalGate, CheckResult>>): EngineStatus {
    this.trim(now);
    return this.evaluate(now, checks, false);
  }

  get sampleCount(): number {
    return this.window.length;
  }

  private trim(now: number): void {
    const from = now - this.settings.windowSeconds * 1000;
    let i = 0;
    while (i < this.window.length && this.window[i]!.t <= from) i++;
    if (i > 0) this.window.splice(0, i);
  }

  private evaluate(now: number, checks: Partial<Record<ExternalGate, CheckResult>>, advance = true): EngineStatus {
    const st = this.settings;
    const gates = new Map<IdleGate, GateResult>();
    const set = (gate: IdleGate, status: GateResult['status'], blocking: boolean, reason: string) => gates.set(gate, { gate, status, blocking, reason });
    const n = this.window.length;
    const warming = n < st.minSamples;
    const windowText = clockText(st.windowSeconds);
    const latest = this.window[n - 1] ?? null;
    /** Spikes: not load, but no suspend on this reading. */
    const holds: string[] = [];

    // --- load gates ---
    // CPU
    const cpuValues = this.window.map((p) => p.cpu).filter((v): v is number => v !== null);
    if (cpuValues.length === 0) {
      set('high_cpu', 'unavailable', false, unavailableReason('no CPU reading yet'));
    } else {
      const lv = level(cpuValues, st.cpuIdleThreshold);
      const avg = robustMean(cpuValues);
      const lastCpu = cpuValues[cpuValues.length - 1]!;
      const base = `CPU ${pct(avg)} average over ${windowText}, latest ${pct(lastCpu)} (threshold ${pct(st.cpuIdleThreshold)})`;
      if (lv === 'busy') set('high_cpu', 'busy', true, base);
      else if (lv === 'spike') {
        set('high_cpu', 'clear', false, `${base}: one reading above the threshold, not counted as load`);
        holds.push(`latest CPU reading ${pct(lastCpu)} is above ${pct(st.cpuIdleThreshold)}`);
      }
      else set('high_cpu', 'clear', false, base);
    }

    // GPU utilisation and compute processes
    const gpuSeen = this.gpusSeen;
    const readFailed = (p: Point | undefined) => p !== undefined && !p.hasGpus && p.gpuError !== null;
    const gpuReadFailed = readFailed(latest ?? undefined);
    const gpuUnreadableAWhile = gpuSeen && gpuReadFailed && readFailed(this.window[n - 2]);
    if (!gpuSeen) {
      const why = latest?.gpuError ?? 'no GPUs reported';
      set('high_gpu', 'unavailable', false, unavailableReason(`no GPU data (${why})`));
      set('gpu_processes', 'unavailable', false, unavailableReason(`no GPU data (${why})`));
    } else if (gpuReadFailed) {
      const why = `could not read the GPUs this time (${latest!.gpuError}): keeping the box awake until they read again`;
      set('high_gpu', 'unavailable', true, why);
      set('gpu_processes', 'unavailable', true, why);
    } else {
      const indices = new Set<number>();
      for (const p of this.window) for (const i of p.gpus.keys()) indices.add(i);
      let worst: { index: number; lv: Level; avg: number; last: number } | null = null;
      const rank: Record<Level, number> = { clear: 0, spike: 1, busy: 2 };
      for (const index of [...indices].sort((a, b) => a - b)) {
        const values = this.window.map((p) => p.gpus.get(index)).filter((v): v is number => typeof v === 'number');
        if (values.length === 0) continue;
        const lv = level(values, st.gpuIdleThreshold);
        const cand = { index, lv, avg: robustMean(values), last: values[values.length - 1]! };
        if (!worst || rank[lv] > rank[worst.lv] || (rank[lv] === rank[worst.lv] && cand.avg > worst.avg)) worst = cand;
      }
      if (!worst) set('high_gpu', 'unavailable', false, unavailableReason('no GPU utilisation readings'));
      else {
        const base = `GPU ${worst.index} ${pct(worst.avg)} average over ${windowText}, latest ${pct(worst.last)} (threshold ${pct(st.gpuIdleThreshold)})`;
        if (worst.lv === 'busy') set('high_gpu', 'busy', true, base);
        else if (worst.lv === 'spike') {
          set('high_gpu', 'clear', false, `${base}: one reading above the threshold, not counted as load`);
          holds.push(`latest GPU ${worst.index} reading ${pct(worst.last)} is above ${pct(st.gpuIdleThreshold)}`);
        }
        else set('high_gpu', 'clear', false, indices.size > 1 ? `every GPU below threshold; busiest: ${base}` : base);
      }
      const procs = latest?.gpuProcesses ?? [];
      if (procs.length > 0) {
        const list = procs
          .slice(0, 3)
          .map((p) => `${p.processName || '?'} (pid ${p.pid}${p.usedMemoryBytes !== null ? `, ${(p.usedMemoryBytes / 1024 ** 3).toFixed(1)} GiB` : ''})`)
          .join(', ');
        set('gpu_processes', 'busy', true, `${procs.length} compute process${procs.length === 1 ? '' : 'es'} on the GPUs: ${list}${procs.length > 3 ? ', ...' : ''}`);
      } else set('gpu_processes', 'clear', false, 'no compute processes on the GPUs');
    }

    // Network
    const netValues = this.window.map((p) => p.net).filter((v): v is number => v !== null);
    if (netValues.length === 0) set('network', 'unavailable', false, unavailableReason('no network rates yet'));
    else {
      const lv = level(netValues, st.networkThresholdBytesPerSec);
      const base = `network ${rateText(robustMean(netValues))} average over ${windowText}, latest ${rateText(netValues[netValues.length - 1]!)} (threshold ${rateText(st.networkThresholdBytesPerSec)})`;
      if (lv === 'busy') set('network', 'busy', true, base);
      else if (lv === 'spike') {
        set('network', 'clear', false, `${base}: one burst above the threshold, not counted as load`);
        holds.push(`latest network rate ${rateText(netValues[netValues.length - 1]!)} is above ${rateText(st.networkThresholdBytesPerSec)}`);
      }
      else set('network', 'clear', false, base);
    }

    // Outside checks
    for (const gate of EXTERNAL_GATES) {
      const r = checks[gate];
      if (!r) set(gate, 'unavailable', true, 'not checked yet: no suspend before the first result');
      else if (r.status === 'busy') set(gate, 'busy', true, r.reason);
      else if (r.status === 'clear') set(gate, 'clear', false, r.reason);
      else if (r.hold) set(gate, 'unavailable', true, `could not run: ${r.reason}; keeping the box awake until it runs`);
      else set(gate, 'unavailable', false, unavailableReason(r.reason));
    }

    // --- state and idle clock ---
    const loadBusy = LOAD_GATES.some((g) => gates.get(g)!.status === 'busy');
    const state: IdleState = warming ? 'warming_up' : loadBusy ? 'active' : 'idle';
    let idleSince = this.idleSince;
    if (state !== 'idle' || gpuUnreadableAWhile) idleSince = null;
    else if (idleSince === null) idleSince = now;
    if (advance) this.idleSince = idleSince;

    // --- meta gates ---
    if (st.enableSuspend) set('disabled', 'clear', false, 'suspend is enabled');
    else set('disabled', 'busy', true, 'suspend is disabled (idle.enable_suspend is false)');
    if (warming) set('warming_up', 'busy', true, `warming up: ${n} of ${st.minSamples} samples in the ${windowText} window`);
    else set('warming_up', 'clear', false, `${n} samples in the ${windowText} window (need ${st.minSamples})`);
    const timeoutText = clockText(st.idleTimeoutSeconds);
    const idleFor = idleSince === null ? 0 : (now - idleSince) / 1000;
    if (idleSince === null) {
      set('below_timeout', 'busy', true, `idle for 0:00 of ${timeoutText}: the clock starts when every check is clear`);
    } else if (idleFor < st.idleTimeoutSeconds) {
      set('below_timeout', 'busy', true, `idle for ${clockText(idleFor)} of ${timeoutText}`);
    } else if (holds.length > 0) {
      set('below_timeout', 'busy', true, `idle for ${clockText(idleFor)} of ${timeoutText}; waiting for a quiet reading: ${holds.join(', ')}`);
    } else set('below_timeout', 'clear', false, `idle for ${clockText(idleFor)} of ${timeoutText}`);

    const suspendAt = st.enableSuspend && idleSince !== null ? idleSince + st.idleTimeoutSeconds * 1000 : null;
    const { intervalSeconds: _i, ...settings } = st;
    void _i;
    return {
      state,
      gates: IDLE_GATES.map((g) => gates.get(g)!),
      idleSince,
      suspendAt,
      settings,
      samples: n,
    };
  }
}

/** What changes an idle.status push: the state, the clock, and every gate's status and blocking (not the texts). */
export function statusSignature(s: EngineStatus): string {
  return JSON.stringify([s.state, s.idleSince, s.suspendAt, s.settings, s.gates.map((g) => `${g.gate}:${g.status}:${g.blocking}`)]);
}
