import { describe, expect, it } from 'vitest';
import { clockText, EXTERNAL_GATES, IdleEngine, statusSignature, type CheckResult, type EngineSettings, type ExternalGate } from '../../remote-agent/idle/engine.js';
import { IDLE_GATES, type GpuProcess, type MetricsSample } from '../../remote-agent/protocol.js';
import { gpuSample, metricsSample } from '../support/builders.js';

const SETTINGS: EngineSettings = {
  cpuIdleThreshold: 10,
  gpuIdleThreshold: 5,
  windowSeconds: 60,
  idleTimeoutSeconds: 120,
  minSamples: 6,
  enableSuspend: true,
  networkThresholdBytesPerSec: 1_000_000,
  intervalSeconds: 5,
};
const STEP = 5000;

interface Tick {
  cpu?: number | null;
  gpu?: number[] | null;
  procs?: GpuProcess[];
  net?: number;
  gpuError?: string | null;
  checks?: Partial<Record<ExternalGate, CheckResult>>;
}

const CLEAR: Record<ExternalGate, CheckResult> = {
  inhibit: { status: 'clear', reason: 'no sleep inhibitors in block mode' },
  sessions: { status: 'clear', reason: 'no interactive logins' },
  ollama_busy: { status: 'clear', reason: 'Ollama has no model loaded' },
  custom_check: { status: 'unavailable', reason: 'no idle.custom_check configured' },
};

function sample(t: number, x: Tick): MetricsSample {
  const gpus = x.gpu === null ? [] : (x.gpu ?? [0]);
  return metricsSample(t, {
    cpu: { percent: x.cpu === undefined ? 1 : x.cpu, perCore: [] },
    network: [{ iface: 'eth0', rxBytesPerSec: (x.net ?? 2000) / 2, txBytesPerSec: (x.net ?? 2000) / 2 }],
    gpus: gpus.map((u, index) => gpuSample(index, { name: 'NVIDIA L40S', utilPercent: u, powerW: 30, powerLimitW: 350 })),
    gpuProcesses: x.procs ?? [],
    gpuError: x.gpuError ?? (x.gpu === null ? 'nvidia-smi not found' : null),
  });
}

/** Runs a trace; returns every decision with its time. */
function run(trace: Tick[], settings: Partial<EngineSettings> = {}, engine = new IdleEngine({ ...SETTINGS, ...settings }), t0 = 1_000_000) {
  const out = trace.map((x, i) => {
    const t = t0 + i * STEP;
    const d = engine.update(t, sample(t, x), { ...CLEAR, ...x.checks });
    return { t, i, ...d, gate: (g: string) => d.status.gates.find((r) => r.gate === g)! };
  });
  return { out, engine, suspends: out.filter((d) => d.suspend) };
}

const quiet = (n: number, x: Tick = {}): Tick[] => Array.from({ length: n }, () => ({ ...x }));
const proc: GpuProcess = { gpuUuid: 'GPU-0', pid: 4242, processName: 'python', usedMemoryBytes: 10 * 1024 ** 3 };

describe('idle engine', () => {
  it('warms up until min_samples are in the window, and never suspends meanwhile', () => {
    const { out } = run(quiet(5));
    for (const d of out) {
      expect(d.status.state).toBe('warming_up');
      expect(d.suspend).toBe(false);
      expect(d.status.idleSince).toBeNull();
      expect(d.gate('warming_up')).toMatchObject({ status: 'busy', blocking: true });
    }
    expect(out[4]!.gate('warming_up').reason).toBe('warming up: 5 of 6 samples in the 1:00 window');
    expect(out[4]!.status.gates.map((g) => g.gate)).toEqual([...IDLE_GATES]);
  });

  it('an idle box suspends exactly once, after the whole timeout, then warms up again', () => {
    const { out, suspends } = run(quiet(60));
    const firstIdle = out.find((d) => d.status.state === 'idle')!;
    expect(firstIdle.i).toBe(5); // the 6th sample
    expect(firstIdle.status.suspendAt).toBe(firstIdle.t + 120_000);
    expect(firstIdle.gate('below_timeout').reason).toBe('idle for 0:00 of 2:00');
    expect(out[firstIdle.i + 12]!.gate('below_timeout').reason).toBe('idle for 1:00 of 2:00');
    expect(suspends.map((s) => s.t)).toEqual([firstIdle.t + 120_000, firstIdle.t + 120_000 + 6 * STEP + 120_000]);
    const after = out[suspends[0]!.i + 1]!;
    expect(after.status.state).toBe('warming_up');
    expect(after.status.samples).toBe(1);
    // On the deciding tick every gate is non-blocking.
    for (const s of suspends) expect(s.status.gates.filter((g) => g.blocking)).toEqual([]);
  });

  it('a busy box never suspends (high_cpu from the window average)', () => {
    const { out, suspends } = run(quiet(800, { cpu: 80 }));
    expect(suspends).toEqual([]);
    expect(out[100]!.status.state).toBe('active');
    expect(out[100]!.gate('high_cpu')).toMatchObject({ status: 'busy', blocking: true });
    expect(out[100]!.gate('high_cpu').reason).toBe('CPU 80% average over 1:00, latest 80% (threshold 10%)');
  });

  it('flapping load (50 % every other sample) stays active: the average is above the threshold', () => {
    const trace = Array.from({ length: 400 }, (_, i) => ({ cpu: i % 2 ? 50 : 0 }));
    const { out, suspends } = run(trace);
    expect(suspends).toEqual([]);
    expect(out.slice(10).every((d) => d.status.state === 'active')).toBe(true);
  });

  it('one noisy reading (an L40S reporting 100 % once) does not flap the state nor reset the clock, but no suspend on it', () => {
    const trace = quiet(40);
    trace[20] = { gpu: [100] };
    const { out } = run(trace, { idleTimeoutSeconds: 3600 });
    const before = out[19]!;
    const spike = out[20]!;
    expect(before.status.state).toBe('idle');
    expect(spike.status.state).toBe('idle');
    expect(spike.status.idleSince).toBe(before.status.idleSince);
    expect(spike.gate('high_gpu')).toMatchObject({ status: 'clear', blocking: false });
    expect(spike.gate('high_gpu').reason).toMatch(/: one reading above the threshold, not counted as load$/);
    expect(spike.gate('below_timeout')).toMatchObject({ status: 'busy', blocking: true }); // (timeout not reached anyway)
    expect(statusSignature(out[21]!.status)).toBe(statusSignature(out[19]!.status));

    // A spike exactly when the timeout is reached holds the suspend to the next quiet sample.
    const t2 = quiet(40);
    const firstIdle = 5;
    const due = firstIdle + 120_000 / STEP;
    t2[due] = { cpu: 95 };
    const r2 = run(t2);
    expect(r2.out[due]!.suspend).toBe(false);
    expect(r2.out[due]!.gate('below_timeout')).toEqual({
      gate: 'below_timeout',
      status: 'busy',
      blocking: true,
      reason: 'idle for 2:00 of 2:00; waiting for a quiet reading: latest CPU reading 95% is above 10%',
    });
    expect(r2.out[due]!.gate('high_cpu').blocking).toBe(false);
    expect(r2.out[due]!.status.state).toBe('idle');
    expect(r2.suspends[0]!.i).toBe(due + 1);
  });

  it('two readings above the threshold in a row are load: active, and the idle clock restarts', () => {
    const trace = quiet(40);
    trace[20] = { cpu: 90 };
    trace[21] = { cpu: 90 };
    const { out } = run(trace, { idleTimeoutSeconds: 3600 });
    expect(out[21]!.status.state).toBe('active');
    expect(out[21]!.gate('high_cpu').status).toBe('busy');
    // The two-in-a-row rule made it busy (the average without its top reading stays under 10 %);
    // the next quiet sample ends it, with a fresh idle clock.
    const back = out.findIndex((d, i) => i > 21 && d.status.state === 'idle');
    expect(out[back]!.status.idleSince).toBe(out[back]!.t);
    expect(out[back]!.t).toBeGreaterThan(out[20]!.t);
  });

  it('a GPU compute process appearing makes the box active and resets the clock', () => {
    const trace = quiet(60);
    for (let i = 25; i < 30; i++) trace[i] = { procs: [proc] };
    const { out, suspends } = run(trace);
    expect(out[25]!.status.state).toBe('active');
    expect(out[25]!.gate('gpu_processes')).toEqual({ gate: 'gpu_processes', status: 'busy', blocking: true, reason: '1 compute process on the GPUs: python (pid 4242, 10.0 GiB)' });
    expect(out[30]!.status.idleSince).toBe(out[30]!.t);
    for (const s of suspends) expect(s.t - out[29]!.t).toBeGreaterThanOrEqual(120_000);
  });

  it.each([
    ['inhibit', { status: 'busy', reason: '1 sleep inhibitor: backup (pid 7: nightly backup)' }],
    ['sessions', { status: 'busy', reason: '1 interactive login: alice on pts/0 from 10.0.0.5' }],
    ['ollama_busy', { status: 'busy', reason: 'Ollama model in use: llama3 (keep-alive extended)' }],
    ['custom_check', { status: 'busy', reason: 'custom check /usr/local/bin/busy exited 0 (busy)' }],
  ] as const)('an outside check (%s) that says busy keeps the box active', (gate, result) => {
    const trace = quiet(100);
    for (let i = 10; i < 100; i += 7) trace[i] = { checks: { [gate]: result } };
    const { out, suspends } = run(trace);
    expect(suspends).toEqual([]);
    expect(out[10]!.status.state).toBe('active');
    expect(out[10]!.gate(gate)).toEqual({ gate, status: 'busy', blocking: true, reason: result.reason });
  });

  it('an unavailable check does not keep the box awake, and says so', () => {
    const trace = quiet(60, { checks: { inhibit: { status: 'unavailable', reason: 'systemd-inhibit not found' } } });
    const { out, suspends } = run(trace);
    expect(out[10]!.gate('inhibit')).toEqual({
      gate: 'inhibit',
      status: 'unavailable',
      blocking: false,
      reason: 'not checked: systemd-inhibit not found, not keeping the box awake',
    });
    expect(suspends.length).toBeGreaterThan(0);
  });

  it('a check that has not reported yet holds the suspend (never a silent pass)', () => {
    const engine = new IdleEngine(SETTINGS);
    let last;
    for (let i = 0; i < 60; i++) {
      const t = 1_000_000 + i * STEP;
      const { ollama_busy: _o, ...rest } = CLEAR;
      last = engine.update(t, sample(t, {}), rest);
      expect(last.suspend).toBe(false);
    }
    expect(last!.status.state).toBe('idle');
    expect(last!.status.gates.find((g) => g.gate === 'ollama_busy')).toMatchObject({ status: 'unavailable', blocking: true });
  });

  it('a network burst is load; a single short burst only holds', () => {
    const trace = quiet(60);
    for (let i = 20; i < 23; i++) trace[i] = { net: 50_000_000 };
    trace[40] = { net: 5_000_000 };
    const { out } = run(trace, { idleTimeoutSeconds: 3600 });
    expect(out[21]!.status.state).toBe('active');
    expect(out[21]!.gate('network').reason).toMatch(/^network .* average over 1:00, latest 50\.0 MB\/s \(threshold 1\.0 MB\/s\)$/);
    expect(out[40]!.gate('network')).toMatchObject({ status: 'clear', blocking: false });
    expect(out[40]!.status.state).toBe('idle');
  });

  it('a resume in the middle resets the window: warming up again, and a full timeout before the next suspend', () => {
    const engine = new IdleEngine(SETTINGS);
    const first = run(quiet(20), {}, engine);
    expect(first.out[19]!.status.state).toBe('idle');
    engine.reset();
    const t0 = 5_000_000;
    const second = run(quiet(60), {}, engine, t0);
    expect(second.out[0]!.status.state).toBe('warming_up');
    expect(second.out[0]!.status.samples).toBe(1);
    expect(second.suspends[0]!.t).toBe(t0 + 5 * STEP + 120_000);
  });

  it('disabled: idle is shown, the clock runs, but no suspend', () => {
    const { out, suspends } = run(quiet(100), { enableSuspend: false });
    expect(suspends).toEqual([]);
    expect(out[50]!.status.state).toBe('idle');
    expect(out[50]!.status.suspendAt).toBeNull();
    expect(out[50]!.gate('disabled')).toEqual({ gate: 'disabled', status: 'busy', blocking: true, reason: 'suspend is disabled (idle.enable_suspend is false)' });
  });

  it('no GPU at all: the GPU gates are unavailable and do not block; a GPU box that fails one read holds without resetting', () => {
    const none = run(quiet(40, { gpu: null }));
    expect(none.out[10]!.gate('high_gpu')).toMatchObject({ status: 'unavailable', blocking: false });
    expect(none.out[10]!.gate('high_gpu').reason).toBe('not checked: no GPU data (nvidia-smi not found), not keeping the box awake');
    expect(none.suspends.length).toBeGreaterThan(0);

    const trace = quiet(40);
    trace[20] = { gpu: null, gpuError: 'nvidia-smi timed out after 3 s' };
    const { out } = run(trace, { idleTimeoutSeconds: 3600 });
    expect(out[20]!.gate('high_gpu')).toMatchObject({ status: 'unavailable', blocking: true });
    expect(out[20]!.status.idleSince).toBe(out[19]!.status.idleSince);
    expect(out[21]!.gate('high_gpu').blocking).toBe(false);
  });

  it('GPUs that stay unreadable stop the idle clock, even once the window has no GPU reading left', () => {
    const failing: Tick = { gpu: null, gpuError: 'nvidia-smi failed: exit 9 (NVML: Unknown Error)' };
    // 60 s window, 120 s timeout: 200 failed reads are 1000 s, far past both.
    const { out, suspends } = run([...quiet(10), ...quiet(200, failing)]);
    expect(suspends).toEqual([]);
    expect(out[11]!.status.idleSince).toBeNull();
    expect(out[209]!.gate('high_gpu')).toMatchObject({ status: 'unavailable', blocking: true });
    expect(out[209]!.gate('high_gpu').reason).toMatch(/keeping the box awake until they read again/);
    // Readable again: a fresh full timeout before a suspend.
    const after = run(quiet(40), {}, (() => {
      const e = new IdleEngine(SETTINGS);
      [...quiet(10), ...quiet(200, failing)].forEach((x, i) => e.update(1_000_000 + i * STEP, sample(1_000_000 + i * STEP, x), CLEAR));
      return e;
    })(), 1_000_000 + 210 * STEP);
    expect(after.suspends[0]!.t - after.out[0]!.t).toBeGreaterThanOrEqual(120_000);
  });

  it('a configured custom check that cannot run holds the suspend; an absent one does not', () => {
    const failing: Tick = { checks: { custom_check: { status: 'unavailable', reason: 'custom check /opt/q did not answer within 10 s', hold: true } } };
    const { out, suspends } = run(quiet(80, failing));
    expect(suspends).toEqual([]);
    expect(out[79]!.gate('custom_check')).toMatchObject({ status: 'unavailable', blocking: true });
    expect(out[79]!.gate('custom_check').reason).toBe('could not run: custom check /opt/q did not answer within 10 s; keeping the box awake until it runs');
    expect(run(quiet(80)).suspends.length).toBeGreaterThan(0);
  });

  it('the window slides: old load falls out after window_seconds', () => {
    const trace = [...quiet(3, { cpu: 100 }), ...quiet(40)];
    const { out } = run(trace);
    // 3 x 100 % needs 30+ samples of 1 % to dilute below 10 %, but the 60 s window only holds 12.
    expect(out[14]!.status.state).toBe('idle');
    expect(out[14]!.status.samples).toBe(12);
  });

  it('settings changes keep the window; a larger min_samples warms up again', () => {
    const { engine, out } = run(quiet(10));
    expect(out[9]!.status.state).toBe('idle');
    engine.configure({ ...SETTINGS, minSamples: 12 });
    expect(engine.status(out[9]!.t, CLEAR).state).toBe('warming_up');
  });

  it('formats clocks', () => {
    expect(clockText(750)).toBe('12:30');
    expect(clockText(1800)).toBe('30:00');
    expect(clockText(3750)).toBe('1:02:30');
  });

  // 90,000 engine steps: pure CPU, so a loaded 2-core machine needs more than the default 5 s.
  describe('battery of random traces', { timeout: 60_000 }, () => {
    function rng(seed: number) {
      let s = seed >>> 0;
      return () => {
        s = (s * 1664525 + 1013904223) >>> 0;
        return s / 2 ** 32;
      };
    }

    it('ZERO suspends while work is going on, over 300 random busy traces', () => {
      for (let seed = 1; seed <= 300; seed++) {
        const r = rng(seed);
        const len = 200 + Math.floor(r() * 300);
        const trace: Tick[] = [];
        for (let i = 0; i < len; i++) {
          // Every tick has at least one kind of real work, chosen at random; the rest is noise.
          const kind = Math.floor(r() * 7);
          const x: Tick = { cpu: r() * 8, gpu: [r() * 4], net: r() * 100_000 };
          if (kind === 0) x.cpu = 30 + r() * 70;
          if (kind === 1) x.gpu = [50 + r() * 50];
          if (kind === 2) x.procs = [proc];
          if (kind === 3) x.checks = { inhibit: { status: 'busy', reason: 'x' } };
          if (kind === 4) x.checks = { sessions: { status: 'busy', reason: 'x' } };
          if (kind === 5) x.checks = { ollama_busy: { status: 'busy', reason: 'x' } };
          if (kind === 6) x.checks = { custom_check: { status: 'busy', reason: 'x' } };
          // Keep CPU/GPU sustained when chosen: the sample before is as hot.
          if ((kind === 0 || kind === 1) && trace.length > 0) trace[trace.length - 1] = { ...trace[trace.length - 1]!, cpu: x.cpu, gpu: x.gpu };
          trace.push(x);
        }
        const { suspends } = run(trace, { minSamples: 1 + Math.floor(r() * 10), idleTimeoutSeconds: 5 + Math.floor(r() * 100) });
        expect(suspends, `seed ${seed}`).toEqual([]);
      }
    });

    it('a suspend only ever follows a whole timeout without any work, over 300 random mixed traces', () => {
      let total = 0;
      for (let seed = 1000; seed < 1300; seed++) {
        const r = rng(seed);
        const timeout = 10 + Math.floor(r() * 120);
        const len = 300;
        const busyRate = r() * 0.1;
        const trace: Tick[] = [];
        for (let i = 0; i < len; i++) {
          const x: Tick = { cpu: r() * 5, gpu: [r() * 3], net: r() * 10_000 };
          if (r() < busyRate) {
            const kind = Math.floor(r() * 4);
            if (kind === 0) x.procs = [proc];
            if (kind === 1) x.checks = { sessions: { status: 'busy', reason: 'x' } };
            if (kind === 2) x.cpu = 100;
            if (kind === 3) x.gpu = [100];
          }
          trace.push(x);
        }
        const { out, suspends } = run(trace, { idleTimeoutSeconds: timeout });
        total += suspends.length;
        for (const d of out) {
          // A clear gate never blocks; "active" exactly when a load gate is busy.
          expect(d.status.gates.filter((g) => g.status === 'clear' && g.blocking)).toEqual([]);
          const loadBusy = d.status.gates.some((g) => g.status === 'busy' && !['disabled', 'warming_up', 'below_timeout'].includes(g.gate));
          if (d.status.state !== 'warming_up') expect(d.status.state === 'active').toBe(loadBusy);
        }
        for (const s of suspends) {
          // Independent oracle: no busy input within the timeout before the suspend, and the deciding sample is quiet.
          for (const d of out) {
            if (d.t > s.t || d.t <= s.t - timeout * 1000) continue;
            const x = trace[d.i]!;
            expect(x.procs ?? [], `seed ${seed}`).toEqual([]);
            expect(x.checks?.sessions?.status, `seed ${seed}`).not.toBe('busy');
            expect(d.status.gates.filter((g) => g.status === 'busy' && !['disabled', 'warming_up', 'below_timeout'].includes(g.gate)), `seed ${seed}`).toEqual([]);
          }
          expect(trace[s.i]!.cpu!).toBeLessThanOrEqual(10);
          expect(trace[s.i]!.gpu![0]!).toBeLessThanOrEqual(5);
          expect(s.status.gates.every((g) => !g.blocking)).toBe(true);
        }
      }
      expect(total).toBeGreaterThan(50); // the battery does exercise suspends
    });
  });

  it('lists every outside gate', () => {
    expect([...EXTERNAL_GATES]).toEqual(['inhibit', 'sessions', 'ollama_busy', 'custom_check']);
  });
});
