import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import {
  COMPUTE_APPS_QUERY_ARGS,
  COMPUTE_APPS_QUERY_FIELDS,
  GPU_QUERY_ARGS,
  GPU_QUERY_FIELDS,
  parseComputeAppsCsv,
  parseGpuCsv,
  parseNumber,
  probeGpu,
  readGpus,
} from '../../remote-agent/metrics/gpu/nvidia-smi.js';
import {
  FAKE_NVIDIA_SMI,
  SYNTHETIC_CAPTURE,
  narrowQuery,
  realCaptures,
  type Round,
} from '../support/fake-nvidia-smi/capture.js';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const UUID0 = 'GPU-00000000-0000-0000-0000-000000000000';

interface RoundExpect {
  util: number | null;
  memUsedMiB: number;
  tempC: number;
  powerW: number;
  procs: [name: string, mib: number][];
}
interface CaptureExpect {
  name: string;
  memTotalMiB: number;
  powerLimitW: number;
  idle: RoundExpect;
  load: RoundExpect;
}

// Read off the captures by hand (query-gpu and query-compute-apps sections), not through the helper.
const memhog3 = (a: number, b: number, burn: number): [string, number][] => [
  ['/root/tools/memhog', a],
  ['/root/tools/memhog', b],
  ['./gpu_burn', burn],
];
const EXPECT: Record<string, CaptureExpect> = {
  'linux-x86_64__nvidia-geforce-rtx-2080-super__595.71.05.txt': {
    name: 'NVIDIA GeForce RTX 2080 SUPER', memTotalMiB: 8192, powerLimitW: 250,
    idle: { util: 0, memUsedMiB: 214, tempC: 40, powerW: 39.32, procs: [] },
    load: { util: 8, memUsedMiB: 819, tempC: 45, powerW: 111.5, procs: [['ffmpeg', 370], ['ffmpeg', 230]] },
  },
  'linux-x86_64__nvidia-geforce-rtx-2080-super__610.57.04.txt': {
    name: 'NVIDIA GeForce RTX 2080 SUPER', memTotalMiB: 8192, powerLimitW: 250,
    idle: { util: 0, memUsedMiB: 211, tempC: 33, powerW: 39.17, procs: [] },
    load: { util: 8, memUsedMiB: 815, tempC: 38, powerW: 98.14, procs: [['ffmpeg', 370], ['ffmpeg', 230]] },
  },
  'linux-x86_64__nvidia-geforce-rtx-4080-super__595.71.05.txt': {
    name: 'NVIDIA GeForce RTX 4080 SUPER', memTotalMiB: 16376, powerLimitW: 320,
    idle: { util: 0, memUsedMiB: 596, tempC: 43, powerW: 26.2, procs: [['/usr/bin/kwin_wayland', 25]] },
    load: {
      util: 7, memUsedMiB: 1474, tempC: 46, powerW: 84.24,
      procs: [['/usr/bin/kwin_wayland', 25], ['ffmpeg', 503], ['ffmpeg', 360]],
    },
  },
  'linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01.txt': {
    name: 'NVIDIA H100 80GB HBM3', memTotalMiB: 81559, powerLimitW: 700,
    idle: { util: 0, memUsedMiB: 0, tempC: 41, powerW: 69.85, procs: [] },
    load: { util: 100, memUsedMiB: 19818, tempC: 59, powerW: 631.95, procs: memhog3(2566, 1542, 15690) },
  },
  'linux-x86_64__nvidia-h100-mig__590.48.01.txt': {
    name: 'NVIDIA H100 80GB HBM3', memTotalMiB: 81559, powerLimitW: 700,
    idle: { util: null, memUsedMiB: 59, tempC: 42, powerW: 71.15, procs: [] },
    load: { util: null, memUsedMiB: 11125, tempC: 53, powerW: 433.78, procs: memhog3(2296, 1272, 7484) },
  },
  'linux-x86_64__nvidia-h200-mig__590.48.01.txt': {
    name: 'NVIDIA H200', memTotalMiB: 143771, powerLimitW: 700,
    idle: { util: null, memUsedMiB: 55, tempC: 28, powerW: 78.28, procs: [] },
    load: { util: null, memUsedMiB: 16959, tempC: 36, powerW: 295.01, procs: memhog3(2194, 1170, 13526) },
  },
  'linux-x86_64__nvidia-h200__590.48.01.txt': {
    name: 'NVIDIA H200', memTotalMiB: 143771, powerLimitW: 700,
    idle: { util: 0, memUsedMiB: 0, tempC: 28, powerW: 77.71, procs: [] },
    load: { util: 100, memUsedMiB: 32362, tempC: 52, powerW: 627.4, procs: memhog3(2566, 1542, 28234) },
  },
  'linux-x86_64__nvidia-l40s__595.80.txt': {
    name: 'NVIDIA L40S', memTotalMiB: 46068, powerLimitW: 350,
    // 100 % on an idle card is what the capture says (one sample is noise; see the fixtures README).
    idle: { util: 100, memUsedMiB: 0, tempC: 63, powerW: 144.97, procs: [] },
    load: { util: 9, memUsedMiB: 1235, tempC: 54, powerW: 110.23, procs: [['ffmpeg', 538], ['ffmpeg', 681]] },
  },
};

const captures = realCaptures();
const ROUNDS: Round[] = ['idle', 'load'];
const fakeEnv = (capture: string, extra: Record<string, string> = {}) => ({ ...process.env, FAKE_NVIDIA_SMI_CAPTURE: capture, ...extra });

describe('captures', () => {
  it('covers every capture in the fixtures folder', () => {
    expect(captures.map((c) => path.basename(c)).sort()).toEqual(Object.keys(EXPECT).sort());
  });
});

describe.each(captures.map((c) => [path.basename(c), c] as const))('%s', (base, capture) => {
  const exp = EXPECT[base]!;

  it.each(ROUNDS)('parses the %s round of --query-gpu', (round) => {
    const gpus = parseGpuCsv(narrowQuery(capture, round, 'query-gpu', GPU_QUERY_FIELDS));
    const r = exp[round];
    expect(gpus).toEqual([
      {
        index: 0,
        uuid: UUID0,
        name: exp.name,
        utilPercent: r.util,
        memUsedBytes: r.memUsedMiB * MiB,
        memTotalBytes: exp.memTotalMiB * MiB,
        tempC: r.tempC,
        powerW: r.powerW,
        powerLimitW: exp.powerLimitW,
      },
    ]);
  });

  it.each(ROUNDS)('parses the %s round of --query-compute-apps', (round) => {
    const procs = parseComputeAppsCsv(narrowQuery(capture, round, 'query-compute-apps', COMPUTE_APPS_QUERY_FIELDS));
    expect(procs.map((p) => [p.processName, p.usedMemoryBytes! / MiB])).toEqual(exp[round].procs);
    for (const p of procs) {
      expect(p.gpuUuid).toBe(UUID0);
      expect(Number.isInteger(p.pid) && p.pid > 0).toBe(true);
    }
  });

  it.each(ROUNDS)('the fake answers the %s round exactly as the capture implies, and readGpus reads it', async (round) => {
    const env = fakeEnv(capture, { FAKE_NVIDIA_SMI_ROUND: round });
    const gpuOut = await run(FAKE_NVIDIA_SMI, [...GPU_QUERY_ARGS], { env });
    expect(gpuOut.stdout).toBe(narrowQuery(capture, round, 'query-gpu', GPU_QUERY_FIELDS));
    const appsOut = await run(FAKE_NVIDIA_SMI, [...COMPUTE_APPS_QUERY_ARGS], { env });
    expect(appsOut.stdout).toBe(narrowQuery(capture, round, 'query-compute-apps', COMPUTE_APPS_QUERY_FIELDS));

    process.env.FAKE_NVIDIA_SMI_CAPTURE = capture;
    process.env.FAKE_NVIDIA_SMI_ROUND = round;
    try {
      const read = await readGpus(FAKE_NVIDIA_SMI);
      expect(read.error).toBeNull();
      expect(read.gpus).toEqual(parseGpuCsv(gpuOut.stdout));
      expect(read.processes).toHaveLength(exp[round].procs.length);
    } finally {
      delete process.env.FAKE_NVIDIA_SMI_CAPTURE;
      delete process.env.FAKE_NVIDIA_SMI_ROUND;
    }
  });
});

describe('synthetic capture: two GPUs, placeholders, commas', () => {
  const gpus = (round: Round) => parseGpuCsv(narrowQuery(SYNTHETIC_CAPTURE, round, 'query-gpu', GPU_QUERY_FIELDS));

  it('turns every placeholder into null, never 0 or NaN', () => {
    const [a, b] = gpus('idle');
    expect(a).toMatchObject({ index: 0, utilPercent: 0, memUsedBytes: 4 * MiB, tempC: 31, powerW: 52.1 });
    expect(b).toEqual({
      index: 1,
      uuid: 'GPU-bbbbbbbb-0000-0000-0000-000000000000',
      name: 'NVIDIA A100-SXM4-40GB',
      utilPercent: null, // [N/A]
      memUsedBytes: null, // N/A
      memTotalBytes: 40960 * MiB,
      tempC: null, // [Unknown Error]
      powerW: null, // [Not Supported]
      powerLimitW: null, // [GPU is lost]
    });
    expect(gpus('load')[1]!.powerW).toBeNull(); // empty cell
  });

  it('keeps process names that contain commas, and [N/A] memory as null', () => {
    const procs = parseComputeAppsCsv(narrowQuery(SYNTHETIC_CAPTURE, 'load', 'query-compute-apps', COMPUTE_APPS_QUERY_FIELDS));
    expect(procs).toEqual([
      { gpuUuid: 'GPU-aaaaaaaa-0000-0000-0000-000000000000', pid: 4242, processName: 'python train.py --gpus=0,1 --tag=a, b', usedMemoryBytes: 30000 * MiB },
      { gpuUuid: 'GPU-bbbbbbbb-0000-0000-0000-000000000000', pid: 4243, processName: '[Not Found]', usedMemoryBytes: null },
      { gpuUuid: 'GPU-bbbbbbbb-0000-0000-0000-000000000000', pid: 4244, processName: '/opt/app/serve', usedMemoryBytes: 1000 * MiB },
    ]);
  });

  it('the fake serves it through the alias used_memory -> used_gpu_memory', async () => {
    const { stdout } = await run(FAKE_NVIDIA_SMI, [...COMPUTE_APPS_QUERY_ARGS], { env: fakeEnv(SYNTHETIC_CAPTURE) });
    expect(parseComputeAppsCsv(stdout).map((p) => p.processName)).toContain('python train.py --gpus=0,1 --tag=a, b');
  });

  it('power.draw.instant (newer drivers) is not needed: every capture has power.draw', () => {
    for (const c of captures) for (const r of ROUNDS) expect(parseGpuCsv(narrowQuery(c, r, 'query-gpu', GPU_QUERY_FIELDS))[0]!.powerW).not.toBeNull();
  });
});

describe('parsers on odd input', () => {
  it('no rows means no GPUs and no processes', () => {
    expect(parseGpuCsv('')).toEqual([]);
    expect(parseComputeAppsCsv('\n')).toEqual([]);
    expect(parseComputeAppsCsv('No running processes found\n')).toEqual([]);
  });

  it('skips lines that are not rows (warnings mixed into stdout)', () => {
    const text = 'WARNING: infoROM is corrupted at gpu 0000:01:00.0\n0, GPU-x, Tesla T4, 5, 100, 15360, 40, 27.5, 70.00\n';
    expect(parseGpuCsv(text).map((g) => g.name)).toEqual(['Tesla T4']);
  });

  it('parseNumber accepts numbers, tolerates units, rejects placeholders', () => {
    expect(parseNumber(' 12.5 ')).toBe(12.5);
    expect(parseNumber('12 %')).toBe(12);
    expect(parseNumber('300.00 W')).toBe(300);
    for (const p of ['[N/A]', 'N/A', '[Not Supported]', '[Requested functionality has been deprecated]', '[Unknown Error]', '[GPU is lost]', '', 'NaN', 'Infinity', undefined]) {
      expect(parseNumber(p)).toBeNull();
    }
  });

  it('a GPU name with a comma is read from both ends', () => {
    const [g] = parseGpuCsv('3, GPU-z, Weird, Inc. Card, 1, 2, 3, 4, 5.5, 6\n');
    expect(g).toMatchObject({ index: 3, name: 'Weird, Inc. Card', utilPercent: 1, memUsedBytes: 2 * MiB, powerLimitW: 6 });
  });
});

describe('readGpus and probeGpu failures never throw', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fw-gpu-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const withEnv = async <T>(env: Record<string, string>, fn: () => Promise<T>): Promise<T> => {
    Object.assign(process.env, env);
    try {
      return await fn();
    } finally {
      for (const k of Object.keys(env)) delete process.env[k];
    }
  };

  it('missing binary', async () => {
    const missing = path.join(dir, 'no-such-nvidia-smi');
    const r = await readGpus(missing);
    expect(r).toEqual({ gpus: [], processes: [], error: expect.stringContaining(`nvidia-smi not found at ${missing}`) });
    expect(await probeGpu(missing)).toEqual({ gpu: false, reason: expect.stringContaining('not found') });
  });

  it('a file that is not executable', async () => {
    const f = path.join(dir, 'nvidia-smi-noexec');
    writeFileSync(f, '#!/bin/sh\n');
    chmodSync(f, 0o644);
    expect((await readGpus(f)).error).toMatch(/not executable/);
  });

  it('a hung nvidia-smi is killed at the timeout (default 3 s)', async () => {
    const pidFile = path.join(dir, 'hang.pid');
    const started = Date.now();
    const r = await withEnv({ FAKE_NVIDIA_SMI_MODE: 'hang', FAKE_NVIDIA_SMI_PIDFILE: pidFile }, () => readGpus(FAKE_NVIDIA_SMI));
    expect(Date.now() - started).toBeLessThan(5000);
    expect(r).toEqual({ gpus: [], processes: [], error: 'nvidia-smi did not answer within 3 s' });
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(() => process.kill(pid, 0)).toThrow(); // gone, not left running
  }, 10_000);

  it('a shorter timeout says so', async () => {
    const r = await withEnv({ FAKE_NVIDIA_SMI_MODE: 'hang' }, () => readGpus(FAKE_NVIDIA_SMI, 300));
    expect(r.error).toBe('nvidia-smi did not answer within 0.3 s');
  });

  it('a failing driver: its first output line', async () => {
    const r = await withEnv({ FAKE_NVIDIA_SMI_MODE: 'fail' }, () => readGpus(FAKE_NVIDIA_SMI));
    expect(r.gpus).toEqual([]);
    expect(r.error).toMatch(/^nvidia-smi failed \(exit 9\): NVIDIA-SMI has failed because it couldn't communicate/);
    expect(await withEnv({ FAKE_NVIDIA_SMI_MODE: 'fail' }, () => probeGpu(FAKE_NVIDIA_SMI))).toMatchObject({ gpu: false });
  });

  it('probeGpu finds the GPU of a capture', async () => {
    const r = await withEnv({ FAKE_NVIDIA_SMI_CAPTURE: SYNTHETIC_CAPTURE }, () => probeGpu(FAKE_NVIDIA_SMI));
    expect(r).toEqual({ gpu: true, reason: null });
  });
});

describe('fake nvidia-smi itself', () => {
  it('answers --version and -L from the capture', async () => {
    const env = fakeEnv(SYNTHETIC_CAPTURE);
    expect((await run(FAKE_NVIDIA_SMI, ['--version'], { env })).stdout).toContain('DRIVER version      : 550.54.15');
    expect((await run(FAKE_NVIDIA_SMI, ['-L'], { env })).stdout.trim().split('\n')).toHaveLength(2);
  });

  it('answers any recorded field with header and units unless told otherwise', async () => {
    const capture = captures.find((c) => c.includes('h100-80gb'))!;
    const env = fakeEnv(capture, { FAKE_NVIDIA_SMI_ROUND: 'load' });
    const { stdout } = await run(FAKE_NVIDIA_SMI, ['--query-gpu=pstate,power.draw.instant,clocks.current.sm', '--format=csv'], { env });
    expect(stdout).toBe('pstate, power.draw.instant [W], clocks.current.sm [MHz]\nP0, 625.68 W, 1980 MHz\n');
  });

  it('refuses an unknown field like nvidia-smi', async () => {
    const err = await run(FAKE_NVIDIA_SMI, ['--query-gpu=bogus', '--format=csv'], { env: fakeEnv(SYNTHETIC_CAPTURE) }).catch((e) => e);
    expect(err.code).toBe(2);
    expect(err.stdout).toContain('Field "bogus" is not a valid field to query.');
  });

  it('falls back to the capture-path file beside its real path', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fw-fake-'));
    try {
      const copy = path.join(dir, 'nvidia-smi');
      writeFileSync(copy, readFileSync(FAKE_NVIDIA_SMI));
      chmodSync(copy, 0o755);
      writeFileSync(path.join(dir, 'capture-path'), `${SYNTHETIC_CAPTURE}\n`);
      const env = { ...process.env };
      delete env.FAKE_NVIDIA_SMI_CAPTURE;
      const { stdout } = await run(copy, [...GPU_QUERY_ARGS], { env });
      expect(parseGpuCsv(stdout)).toHaveLength(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
