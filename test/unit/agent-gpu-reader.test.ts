import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GPU_QUERY_ARGS } from '../../remote-agent/metrics/gpu/nvidia-smi.js';
import { allGpusAsleep, GpuReader, listNvidiaPciGpus, type RunFn } from '../../remote-agent/metrics/gpu/reader.js';
import { CAPTURES_DIR, FAKE_NVIDIA_SMI, SYNTHETIC_CAPTURE } from '../support/fake-nvidia-smi/capture.js';
import { makeFakeSysfs } from '../support/fake-sysfs.js';
import { waitFor } from '../support/wait-for.js';

const H200 = path.join(CAPTURES_DIR, 'linux-x86_64__nvidia-h200__590.48.01.txt');
const MiB = 1024 * 1024;

const dirs: string[] = [];
const readers: GpuReader[] = [];
const savedEnv = { ...process.env };
afterEach(() => {
  for (const r of readers.splice(0)) r.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  process.env = { ...savedEnv };
});
const tmp = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'fw-gpureader-'));
  dirs.push(d);
  return d;
};

/** The fake answers from env: set for this process, the reader's children inherit it. */
function fakeEnv(capture: string, extra: Record<string, string> = {}) {
  const d = tmp();
  const roundFile = path.join(d, 'round');
  const callLog = path.join(d, 'calls');
  writeFileSync(roundFile, 'idle\n');
  writeFileSync(callLog, '');
  Object.assign(process.env, {
    FAKE_NVIDIA_SMI_CAPTURE: capture,
    FAKE_NVIDIA_SMI_ROUND_FILE: roundFile,
    FAKE_NVIDIA_SMI_CALL_LOG: callLog,
    // Tests need speed, not realism.
    FAKE_NVIDIA_SMI_CALL_CPU_MS: '0',
    FAKE_NVIDIA_SMI_ITERATION_CPU_MS: '0',
    ...extra,
  });
  return { dir: d, setRound: (r: 'idle' | 'load') => writeFileSync(roundFile, `${r}\n`), calls: () => readFileSync(callLog, 'utf8').trim().split('\n').filter(Boolean) };
}

function reader(opts: Partial<ConstructorParameters<typeof GpuReader>[0]> = {}) {
  const r = new GpuReader({ nvidiaSmiPath: FAKE_NVIDIA_SMI, timeoutMs: 5000, intervalMs: 200, sysRoot: path.join(tmp(), 'no-sys'), ...opts });
  readers.push(r);
  return r;
}

describe('GpuReader: one resident nvidia-smi in loop mode', () => {
  it('reads the capture through one long-lived `-lms` child, not a process per sample', async () => {
    const env = fakeEnv(H200);
    const r = reader();
    const first = await r.read();
    expect(first.error).toBeNull();
    expect(first.gpus).toEqual([
      { index: 0, uuid: 'GPU-00000000-0000-0000-0000-000000000000', name: 'NVIDIA H200', utilPercent: 0, memUsedBytes: 0, memTotalBytes: 143771 * MiB, tempC: 28, powerW: 77.71, powerLimitW: 700 },
    ]);
    expect(first.processes).toEqual([]);
    for (let i = 0; i < 5; i++) expect((await r.read()).gpus[0]!.name).toBe('NVIDIA H200');
    expect(r.counts.loopStarts).toBe(1);
    const starts = env.calls().filter((l) => l.startsWith('start'));
    // The loop, and one compute-apps query (the GPUs' memory has not changed since).
    expect(starts).toEqual([`start ${GPU_QUERY_ARGS.join(' ')} -lms 200`, expect.stringMatching(/^start --query-compute-apps=/)]);
  });

  it('follows the loop: a new reading replaces the old, and a memory change asks for the processes again', async () => {
    const env = fakeEnv(H200);
    const r = reader();
    expect((await r.read()).gpus[0]!.utilPercent).toBe(0);
    env.setRound('load');
    await waitFor('a load reading', async () => (await r.read()).gpus[0]?.utilPercent === 100, { timeoutMs: 5000 });
    const got = await r.read();
    expect(got.gpus[0]!.memUsedBytes).toBe(32362 * MiB);
    expect(got.processes.map((p) => p.processName)).toEqual(['/root/tools/memhog', '/root/tools/memhog', './gpu_burn']);
    expect(env.calls().filter((l) => l.startsWith('start --query-compute-apps'))).toHaveLength(2);
    expect(r.counts.loopStarts).toBe(1);
  });

  it('groups the rows of several GPUs into one reading', async () => {
    fakeEnv(SYNTHETIC_CAPTURE);
    const r = reader();
    await r.read();
    await new Promise((res) => setTimeout(res, 500));
    const got = await r.read();
    expect(got.gpus.map((g) => g.index)).toEqual([0, 1]);
  });

  it('starts it again when it dies', async () => {
    fakeEnv(H200);
    const r = reader();
    await r.read();
    const pid = r.loopPid()!;
    expect(pid).toBeGreaterThan(0);
    process.kill(pid, 'SIGKILL');
    await waitFor('the reader to notice', () => r.loopPid() === null, { timeoutMs: 5000 });
    const got = await r.read();
    expect(got.error).toBeNull();
    expect(got.gpus).toHaveLength(1);
    expect(r.counts.loopStarts).toBe(2);
    expect(r.loopPid()).not.toBe(pid);
  });

  it('a failing driver: the exit reason, and a new try at the next sample', async () => {
    fakeEnv(H200, { FAKE_NVIDIA_SMI_MODE: 'fail' });
    const r = reader();
    const got = await r.read();
    expect(got).toEqual({ gpus: [], processes: [], error: expect.stringMatching(/^nvidia-smi failed \(exit 9\): NVIDIA-SMI has failed because it couldn't communicate/) });
    await r.read();
    expect(r.counts.loopStarts).toBe(2);
  });

  it('a hung one is killed at the timeout', async () => {
    const env = fakeEnv(H200, { FAKE_NVIDIA_SMI_MODE: 'hang' });
    const pidFile = path.join(env.dir, 'pid');
    process.env.FAKE_NVIDIA_SMI_PIDFILE = pidFile;
    const r = reader({ timeoutMs: 800 });
    expect((await r.read()).error).toBe('nvidia-smi did not answer within 0.8 s');
    const pid = Number(readFileSync(pidFile, 'utf8'));
    await waitFor('the hung child to be gone', () => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    });
  });

  it('no binary: the same reason as before, and nothing is started', async () => {
    const r = reader({ nvidiaSmiPath: '/nonexistent/nvidia-smi' });
    expect(await r.read()).toEqual({ gpus: [], processes: [], error: 'nvidia-smi not found at /nonexistent/nvidia-smi (no NVIDIA driver installed?)' });
    expect(r.counts).toEqual({ loopStarts: 0, oneShots: 0 });
  });
});

describe('GpuReader: a runtime-suspended GPU is never queried', () => {
  it('lists only NVIDIA display devices bound to the nvidia driver, in PCI order', () => {
    const sys = makeFakeSysfs(tmp(), [
      { address: '0000:41:00.0', runtimeStatus: 'active', control: 'on' },
      { address: '0000:01:00.0', runtimeStatus: 'suspended', control: 'auto' },
    ], [{ address: '0000:01:00.1', vendor: '0x10de', cls: '0x040300' }, { address: '0000:00:02.0', vendor: '0x8086', cls: '0x030000' }]);
    expect(listNvidiaPciGpus(sys.root)).toEqual(['0000:01:00.0', '0000:41:00.0']);
    expect(allGpusAsleep(sys.root)).toBe(false);
  });

  it('every GPU asleep: reported sleeping, no nvidia-smi at all, no wake-up', async () => {
    const sysDir = tmp();
    const sys = makeFakeSysfs(sysDir, [{ address: '0000:01:00.0', runtimeStatus: 'active', control: 'auto' }]);
    const env = fakeEnv(H200, { FAKE_NVIDIA_SMI_SYSFS_DEVICES: sys.devices.join(':'), FAKE_NVIDIA_SMI_WAKE_LOG: path.join(sysDir, 'wakes') });
    const r = reader({ sysRoot: sys.root });
    // Awake with runtime PM on: a one-shot query (a resident one would keep it awake), identity learnt.
    expect((await r.read()).gpus[0]).toMatchObject({ name: 'NVIDIA H200', utilPercent: 0 });
    expect(r.counts.loopStarts).toBe(0);
    const before = env.calls().length;
    sys.setRuntimeStatus('0000:01:00.0', 'suspended');
    expect(allGpusAsleep(sys.root)).toBe(true);
    for (let i = 0; i < 3; i++) {
      expect(await r.read()).toEqual({
        gpus: [{ index: 0, uuid: 'GPU-00000000-0000-0000-0000-000000000000', name: 'NVIDIA H200', utilPercent: 0, memUsedBytes: null, memTotalBytes: 143771 * MiB, tempC: null, powerW: null, powerLimitW: 700, sleeping: true }],
        processes: [],
        error: null,
      });
    }
    expect(env.calls().length).toBe(before);
    expect(() => readFileSync(path.join(sysDir, 'wakes'), 'utf8')).toThrow();
  });

  it('some asleep: only the awake ones are asked (-i), the others reported sleeping', async () => {
    const sys = makeFakeSysfs(tmp(), [
      { address: '0000:01:00.0', runtimeStatus: 'suspended', control: 'auto' },
      { address: '0000:02:00.0', runtimeStatus: 'active', control: 'auto' },
    ]);
    const calls: string[][] = [];
    const run: RunFn = async (_file, args) => {
      calls.push([...args]);
      if (args.some((a) => a.startsWith('--query-gpu'))) return { ok: true, stdout: '1, GPU-1, NVIDIA L40S, 3, 500, 46068, 40, 60.5, 350.00\n' };
      return { ok: true, stdout: '' };
    };
    const r = reader({ sysRoot: sys.root, run, nvidiaSmiPath: FAKE_NVIDIA_SMI });
    const got = await r.read();
    expect(calls.map((a) => a.slice(0, 2))).toEqual([['-i', '1'], ['-i', '1']]);
    expect(got.gpus.map((g) => [g.index, g.sleeping === true, g.utilPercent])).toEqual([[0, true, 0], [1, false, 3]]);
    expect(got.error).toBeNull();
  });

  it('servers (runtime PM off): the resident loop', async () => {
    const sys = makeFakeSysfs(tmp(), [{ address: '0000:01:00.0', runtimeStatus: 'active', control: 'on' }]);
    fakeEnv(H200);
    const r = reader({ sysRoot: sys.root });
    await r.read();
    await r.read();
    expect(r.counts.loopStarts).toBe(1);
  });
});
