/**
 * A battery of load traces for the idle engine: what a GPU box's samples and outside checks look like
 * over hours of real use, each tick labelled with the ground truth (is someone or something using the
 * box?). Seeded, so every run replays the same traces.
 *
 * replayTrace() feeds a trace to a policy the way a box lives it: after a suspend the box sleeps until
 * the next tick where it is needed (someone wakes it to use it), then resumes (the agent resets its
 * window, as the daemon does on a resume). It counts:
 *   false suspends  a suspend while the box was in use at any time within the idle timeout before it
 *   missed suspends a quiet stretch long enough to suspend in (window + warm-up + timeout + 2 intervals)
 *                   during which the box stayed up
 */
import { IdleEngine, type CheckResult, type EngineSettings, type ExternalGate } from '../../remote-agent/idle/engine.js';
import { defaultConfig } from '../../remote-agent/config/index.js';
import { fileSettings } from '../../remote-agent/idle/settings.js';
import type { MetricsSample } from '../../remote-agent/protocol.js';

const DEFAULTS = defaultConfig();

/** The agent's defaults (agent.yaml without an idle section), at its default interval. */
export const DEFAULT_ENGINE_SETTINGS: EngineSettings = {
  ...fileSettings(DEFAULTS),
  intervalSeconds: DEFAULTS.metrics.intervalSeconds,
};

export interface TraceTick {
  /** ms from the start of the trace. */
  t: number;
  /** CPU % (null: the sample had none). */
  cpu: number | null;
  /** Utilisation per GPU; [] on a box without GPUs; null when nvidia-smi failed on a GPU box. */
  gpus: number[] | null;
  /** Compute processes on the GPUs. */
  procs: number;
  /** rx + tx bytes/s. */
  net: number;
  /** Outside checks that are not in their usual state this tick. */
  checks: Partial<Record<ExternalGate, CheckResult>>;
  /** Ground truth: the box is in use (a job, a login, a transfer, an inhibitor, a wake by a user). */
  busy: boolean;
  /** The box slept and resumed just before this tick (a manual suspend from the app, say). */
  resumed?: boolean;
}

export interface LoadTrace {
  name: string;
  description: string;
  ticks: TraceTick[];
}

const BUSY: CheckResult = { status: 'busy', reason: 'busy' };
/** The outside checks of a box with systemd and Ollama and no custom check, nothing going on. */
export const QUIET_CHECKS: Record<ExternalGate, CheckResult> = {
  inhibit: { status: 'clear', reason: 'no sleep inhibitors in block mode' },
  sessions: { status: 'clear', reason: 'no interactive logins' },
  ollama_busy: { status: 'clear', reason: 'Ollama has no model loaded' },
  custom_check: { status: 'unavailable', reason: 'no idle.custom_check configured' },
};

/** mulberry32: small, fast, good enough for noise, and the same on every machine. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MIN = 60_000;
const HOUR = 60 * MIN;

interface Builder {
  r: () => number;
  between(lo: number, hi: number): number;
  /** Appends ticks every `stepMs` (or per `step()`) for `ms`, each made by `fn(localMs, tick index)`. */
  span(ms: number, fn: (local: number, i: number) => Omit<TraceTick, 't'>, step?: () => number): void;
  /** A quiet box: CPU 0.5-3 %, GPUs 0-1 %, a little network. */
  quiet(extra?: Partial<Omit<TraceTick, 't'>>): Omit<TraceTick, 't'>;
  ticks: TraceTick[];
}

function build(seed: number, gpuCount: number, fn: (b: Builder) => void): TraceTick[] {
  const r = rng(seed);
  const ticks: TraceTick[] = [];
  let t = 0;
  const between = (lo: number, hi: number) => lo + (hi - lo) * r();
  const b: Builder = {
    r,
    between,
    ticks,
    span(ms, make, step = () => 5000) {
      const end = t + ms;
      let i = 0;
      while (t < end) {
        ticks.push({ t, ...make(ms - (end - t), i++) });
        t += step();
      }
    },
    quiet(extra = {}) {
      return {
        cpu: between(0.5, 3),
        gpus: Array.from({ length: gpuCount }, () => between(0, 1)),
        procs: 0,
        net: between(1_000, 20_000),
        checks: {},
        busy: false,
        ...extra,
      };
    },
  };
  fn(b);
  return ticks;
}

/** Every trace of the battery. */
export function loadTraces(): LoadTrace[] {
  return [
    {
      name: 'idle-box',
      description: 'nobody uses it for 4 h',
      ticks: build(1, 1, (b) => b.span(4 * HOUR, () => b.quiet())),
    },
    {
      name: 'training-run',
      description: '3 h of training (GPU 92-100 %, 2 processes), then 1 h quiet',
      ticks: build(2, 2, (b) => {
        b.span(3 * HOUR, () => ({ ...b.quiet(), cpu: b.between(25, 60), gpus: [b.between(92, 100), b.between(92, 100)], procs: 2, busy: true }));
        b.span(HOUR, () => b.quiet());
      }),
    },
    {
      name: 'bursty-inference',
      description: 'requests every 7-12 min, 20-60 s of GPU each, for 5 h',
      ticks: build(3, 1, (b) => {
        for (let n = 0; n < 30; n++) {
          b.span(b.between(20, 60) * 1000, () => ({ ...b.quiet(), cpu: b.between(15, 40), gpus: [b.between(70, 100)], procs: 1, busy: true }));
          b.span(b.between(7, 12) * MIN, (_l, i) => b.quiet({ busy: i === 0 }));
        }
      }),
    },
    {
      name: 'flapping-cpu',
      description: 'a light job: CPU alternates 6 % / 16 % per sample (11 % average) for 4 h',
      ticks: build(4, 0, (b) => b.span(4 * HOUR, (_l, i) => ({ ...b.quiet(), gpus: [], cpu: i % 2 === 0 ? 6 : 16, busy: true }))),
    },
    {
      name: 'noise-spikes',
      description: 'quiet, with a one-sample GPU 100 % glitch every ~13 min and a CPU 40 % blip every ~9 min',
      ticks: build(5, 1, (b) =>
        b.span(4 * HOUR, (_l, i) => {
          const q = b.quiet();
          if (i % 157 === 80) q.gpus = [100];
          if (i % 109 === 50) q.cpu = 40;
          return q;
        }),
      ),
    },
    {
      name: 'gpu-process-no-util',
      description: 'a notebook holds a model in VRAM at 0 % utilisation for 3 h, then exits',
      ticks: build(6, 1, (b) => {
        b.span(3 * HOUR, () => ({ ...b.quiet(), procs: 1, busy: true }));
        b.span(HOUR, () => b.quiet());
      }),
    },
    {
      name: 'inhibitor-backup',
      description: 'a backup under systemd-inhibit for 2 h at low CPU and 0.3 MB/s, then quiet',
      ticks: build(7, 1, (b) => {
        b.span(2 * HOUR, () => ({ ...b.quiet(), cpu: b.between(3, 8), net: b.between(250_000, 350_000), checks: { inhibit: BUSY }, busy: true }));
        b.span(HOUR, () => b.quiet());
      }),
    },
    {
      name: 'ssh-session',
      description: 'someone logged in, reading logs (no load) for 90 min, then logs out',
      ticks: build(8, 1, (b) => {
        b.span(90 * MIN, () => ({ ...b.quiet(), checks: { sessions: BUSY }, busy: true }));
        b.span(HOUR, () => b.quiet());
      }),
    },
    {
      name: 'ollama-chat',
      description: 'chat with an Ollama model every 3-20 min for 3 h (loaded and in use), then quiet',
      ticks: build(9, 1, (b) => {
        for (let n = 0; n < 18; n++) {
          b.span(b.between(5, 25) * 1000, () => ({ ...b.quiet(), cpu: b.between(10, 30), gpus: [b.between(60, 100)], procs: 1, checks: { ollama_busy: BUSY }, busy: true }));
          b.span(b.between(3, 20) * MIN, () => ({ ...b.quiet(), procs: 1, checks: { ollama_busy: BUSY }, busy: true }));
        }
        b.span(HOUR, () => b.quiet());
      }),
    },
    {
      name: 'network-transfer',
      description: 'rsync at 40-80 MB/s with CPU under 9 % for 90 min, then quiet',
      ticks: build(10, 1, (b) => {
        b.span(90 * MIN, () => ({ ...b.quiet(), cpu: b.between(4, 9), net: b.between(40e6, 80e6), busy: true }));
        b.span(HOUR, () => b.quiet());
      }),
    },
    {
      name: 'resume-in-middle',
      description: 'quiet 25 min, suspended from the app and woken, 10 quiet min, 40 min of work, quiet',
      ticks: build(11, 1, (b) => {
        b.span(25 * MIN, () => b.quiet());
        // Someone woke it on purpose: that is use, and the idle clock must start over.
        b.span(10 * MIN, (_l, i) => b.quiet(i === 0 ? { busy: true, resumed: true } : {}));
        b.span(40 * MIN, () => ({ ...b.quiet(), cpu: b.between(30, 80), gpus: [b.between(50, 100)], procs: 1, busy: true }));
        b.span(HOUR, () => b.quiet());
      }),
    },
    {
      name: 'slow-ramp',
      description: 'a job ramps CPU from 2 % to 35 % over an hour, holds an hour, ends',
      ticks: build(12, 0, (b) => {
        b.span(HOUR, (l) => {
          const cpu = 2 + (33 * l) / HOUR;
          return { ...b.quiet(), gpus: [], cpu, busy: cpu > 10 };
        });
        b.span(HOUR, () => ({ ...b.quiet(), gpus: [], cpu: b.between(30, 40), busy: true }));
        b.span(HOUR, () => ({ ...b.quiet(), gpus: [] }));
      }),
    },
    {
      name: 'gpu-read-failure',
      description: 'training at 95 % GPU (CPU 6 %); nvidia-smi fails for 40 min of it; job ends at 2 h',
      ticks: build(13, 1, (b) => {
        const job = () => ({ ...b.quiet(), cpu: b.between(4, 7), gpus: [b.between(90, 99)], procs: 1, busy: true });
        b.span(HOUR, job);
        b.span(40 * MIN, () => ({ ...job(), gpus: null, procs: 0 }));
        b.span(20 * MIN, job);
        b.span(HOUR, () => b.quiet());
      }),
    },
    {
      name: 'custom-check-queue',
      description: 'a render queue is not empty (custom check busy) for 70 min with no load, then quiet',
      ticks: build(14, 1, (b) => {
        b.span(70 * MIN, () => ({ ...b.quiet(), checks: { custom_check: BUSY }, busy: true }));
        b.span(HOUR, () => b.quiet());
      }),
    },
    {
      name: 'jittery-sampling',
      description: 'samples 3-9 s apart, 1 in 20 without CPU, bursts of work every 15-25 min for 4 h',
      ticks: build(15, 1, (b) => {
        const step = () => b.between(3000, 9000);
        for (let n = 0; n < 12; n++) {
          b.span(b.between(1, 3) * MIN, () => ({ ...b.quiet(), cpu: b.between(20, 90), gpus: [b.between(20, 90)], procs: 1, busy: true }), step);
          b.span(b.between(15, 25) * MIN, (_l, i) => ({ ...b.quiet({ busy: i === 0 }), cpu: b.r() < 0.05 ? null : b.between(0.5, 3) }), step);
        }
      }),
    },
    {
      name: 'nightly-job',
      description: 'quiet 2 h (it should sleep), woken for a 30 min job, quiet again',
      ticks: build(16, 1, (b) => {
        b.span(2 * HOUR, () => b.quiet());
        b.span(30 * MIN, () => ({ ...b.quiet(), cpu: b.between(40, 90), gpus: [b.between(80, 100)], procs: 1, busy: true }));
        b.span(2 * HOUR, () => b.quiet());
      }),
    },
  ];
}

/** A MetricsSample as the agent's sampler would produce it for `tick`. */
export function traceSample(tick: TraceTick, at: number): MetricsSample {
  const gpus = tick.gpus ?? [];
  return {
    sampledAt: at,
    cpu: { percent: tick.cpu, perCore: [], load: [0, 0, 0] },
    memory: { totalBytes: 64 * 2 ** 30, usedBytes: 8 * 2 ** 30, availableBytes: 56 * 2 ** 30, swapTotalBytes: 0, swapUsedBytes: 0 },
    disks: [],
    network: [{ iface: 'eth0', rxBytesPerSec: tick.net / 2, txBytesPerSec: tick.net / 2 }],
    uptimeSeconds: 1,
    gpus: gpus.map((u, index) => ({ index, uuid: `GPU-${index}`, name: 'NVIDIA L40S', utilPercent: u, memUsedBytes: 0, memTotalBytes: 48 * 2 ** 30, tempC: 35, powerW: 40, powerLimitW: 350 })),
    gpuProcesses: Array.from({ length: tick.procs }, (_, i) => ({ gpuUuid: 'GPU-0', pid: 4000 + i, processName: 'python', usedMemoryBytes: 10 * 2 ** 30 })),
    gpuError: tick.gpus === null ? 'nvidia-smi failed: exit 9 (NVML: Unknown Error)' : null,
    cpuPowerW: null,
  };
}

/** Decides, one tick at a time, whether to suspend. reset() is a resume. */
export interface SuspendPolicy {
  tick(t: number, tick: TraceTick): boolean;
  reset(): void;
}

/** Fleetwake's idle engine, fed exactly as the daemon feeds it. */
export function enginePolicy(settings: EngineSettings = DEFAULT_ENGINE_SETTINGS): SuspendPolicy {
  const engine = new IdleEngine(settings);
  return {
    tick: (t, tick) => engine.update(t, traceSample(tick, t), { ...QUIET_CHECKS, ...tick.checks }).suspend,
    reset: () => engine.reset(),
  };
}

/**
 * The peer: the usual cron script. Every `everyMs` it reads CPU and GPU once; below the thresholds
 * counts as an idle check, anything else starts over; enough idle checks in a row to cover the timeout
 * suspends. It knows nothing of processes, logins, inhibitors, transfers or resumes (its count lives
 * in a file and survives them).
 */
export function cronScriptPolicy(settings: EngineSettings = DEFAULT_ENGINE_SETTINGS, everyMs = 5 * MIN): SuspendPolicy {
  let nextCheck: number | null = null;
  let idleChecks = 0;
  const needed = Math.ceil((settings.idleTimeoutSeconds * 1000) / everyMs);
  return {
    tick(t, tick) {
      nextCheck ??= t;
      if (t < nextCheck) return false;
      nextCheck = t + everyMs;
      const gpuIdle = (tick.gpus ?? []).every((u) => u < settings.gpuIdleThreshold);
      const idle = (tick.cpu ?? 0) < settings.cpuIdleThreshold && gpuIdle;
      idleChecks = idle ? idleChecks + 1 : 0;
      if (idleChecks < needed) return false;
      idleChecks = 0;
      return true;
    },
    reset() {
      nextCheck = null;
    },
  };
}

export interface ReplayResult {
  trace: string;
  /** Times (ms into the trace) of every suspend. */
  suspends: number[];
  falseSuspends: number[];
  /** Start (ms) of every quiet stretch the box stayed up through. */
  missed: number[];
  /** Length of the trace, ms. */
  spanMs: number;
}

export function replayTrace(trace: LoadTrace, policy: SuspendPolicy, settings: EngineSettings = DEFAULT_ENGINE_SETTINGS): ReplayResult {
  const { ticks } = trace;
  const timeoutMs = settings.idleTimeoutSeconds * 1000;
  const suspends: number[] = [];
  const falseSuspends: number[] = [];
  let asleep = false;
  /** Whether the box was asleep at each tick (before acting on it). */
  const asleepAt: boolean[] = [];
  let lastBusyAt = -Infinity;
  for (const tick of ticks) {
    asleepAt.push(asleep);
    if (tick.busy) lastBusyAt = tick.t;
    if (asleep) {
      if (!tick.busy) continue;
      asleep = false; // someone needs it: woken, and the agent sees a resume
      policy.reset();
    } else if (tick.resumed) {
      policy.reset();
    }
    if (policy.tick(tick.t, tick)) {
      suspends.push(tick.t);
      if (tick.t - lastBusyAt < timeoutMs) falseSuspends.push(tick.t);
      asleep = true;
    }
  }

  // Quiet stretches long enough to fall asleep in, that ended with the box still up.
  const allowance = (settings.windowSeconds + (settings.minSamples + 2) * settings.intervalSeconds) * 1000 + timeoutMs;
  const missed: number[] = [];
  let i = 0;
  while (i < ticks.length) {
    if (ticks[i]!.busy) {
      i++;
      continue;
    }
    const start = ticks[i]!.t;
    let j = i;
    while (j < ticks.length && !ticks[j]!.busy) j++;
    const end = j < ticks.length ? ticks[j]!.t : ticks.at(-1)!.t;
    const alreadyAsleep = asleepAt[i]! || (i > 0 && suspends.includes(ticks[i - 1]!.t));
    if (end - start >= allowance && !alreadyAsleep && !suspends.some((s) => s >= start && s <= start + allowance)) missed.push(start);
    i = j;
  }
  return { trace: trace.name, suspends, falseSuspends, missed, spanMs: ticks.at(-1)!.t - ticks[0]!.t };
}
