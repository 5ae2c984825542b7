/**
 * GPU readings without a process per sample, and without waking a sleeping GPU.
 *
 * - Runtime-suspended GPUs: the kernel's /sys/bus/pci/devices/<addr>/power/runtime_status says
 *   'suspended' for a GPU in its low-power state (RTD3). Such a GPU is not queried (any nvidia-smi
 *   call would wake it); it is reported with `sleeping: true`, utilisation 0 and no processes. When
 *   every GPU sleeps, nvidia-smi does not run at all.
 * - A GPU whose runtime power management is on (power/control 'auto') could sleep, and a resident
 *   nvidia-smi holds the driver open and would keep it awake: on such boxes nvidia-smi runs once per
 *   sample, only for the GPUs that are awake (`-i`).
 * - Otherwise (servers: control 'on', or no sysfs to tell) ONE `nvidia-smi --query-gpu=... -lms <interval>`
 *   stays running and prints a reading each interval; a sample takes the latest. When it dies it is
 *   started again by the next sample (with its exit reason as that sample's gpuError if it gives no reading);
 *   when it goes silent for 2 intervals + the timeout it is killed and started again.
 * - GPU processes (`--query-compute-apps`, which has no loop mode that shows "none"): asked only when the
 *   GPUs' used memory changed since the last answer (a CUDA context always takes device memory), when a
 *   reading has no memory figure, after a failed answer, and at least every APPS_MAX_AGE_MS.
 *
 * GPU index = position in PCI address order, as nvidia-smi numbers them, among the PCI display devices
 * bound to the `nvidia` driver.
 */
import { spawn as nodeSpawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import type { GpuProcess, GpuSample } from '../../protocol.js';
import { COMPUTE_APPS_QUERY_ARGS, GPU_QUERY_ARGS, parseComputeAppsCsv, parseGpuCsv, runNvidiaSmi, type GpuReadResult } from './nvidia-smi.js';

export const APPS_MAX_AGE_MS = 5 * 60_000;
const PCI_LIST_MAX_AGE_MS = 5 * 60_000;
/** A loop reading's rows arrive together; this long after the last line, the reading is complete. */
const ROWS_SETTLE_MS = 100;

export interface PciGpu {
  address: string;
  /** power/runtime_status: 'active', 'suspended', 'suspending', 'resuming', 'unsupported', or null if unreadable. */
  runtimeStatus: string | null;
  /** power/control: 'auto' = runtime power management on; 'on' = always on. */
  control: string | null;
}

function readTrim(file: string): string | null {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
}

/** PCI addresses (sorted) of display devices (class 0x03xxxx) from NVIDIA (0x10de) bound to the nvidia driver. */
export function listNvidiaPciGpus(sysRoot: string): string[] {
  const dir = path.join(sysRoot, 'bus', 'pci', 'devices');
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const name of names) {
    const dev = path.join(dir, name);
    if (readTrim(path.join(dev, 'vendor')) !== '0x10de') continue;
    if (!(readTrim(path.join(dev, 'class')) ?? '').startsWith('0x03')) continue;
    let driver = '';
    try {
      driver = path.basename(readlinkSync(path.join(dev, 'driver')));
    } catch {
      continue;
    }
    if (driver === 'nvidia') out.push(name);
  }
  return out.sort();
}

export function readPciPower(sysRoot: string, address: string): PciGpu {
  const p = path.join(sysRoot, 'bus', 'pci', 'devices', address, 'power');
  return { address, runtimeStatus: readTrim(path.join(p, 'runtime_status')), control: readTrim(path.join(p, 'control')) };
}

/** Checks the executable without starting it: the same reasons a failed start would give. */
function executableProblem(file: string): string | null {
  try {
    accessSync(file, constants.X_OK);
    return null;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES') return `nvidia-smi at ${file} is not executable`;
    return `nvidia-smi not found at ${file} (no NVIDIA driver installed?)`;
  }
}

function firstLine(text: string): string {
  return text.split(/\r?\n/).find((l) => l.trim() !== '')?.trim() ?? '';
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

export type SpawnFn = (file: string, args: string[]) => ChildProcess;
export type RunFn = typeof runNvidiaSmi;

export interface GpuReaderOptions {
  nvidiaSmiPath: string;
  timeoutMs: number;
  /** The loop's period: the sampling interval. */
  intervalMs: number;
  sysRoot?: string;
  now?: () => number;
  spawn?: SpawnFn;
  run?: RunFn;
}

/** One resident `nvidia-smi ... -lms N`: its latest complete reading, its death, its restart. */
class LoopChild {
  readonly child: ChildProcess;
  latest: { gpus: GpuSample[]; at: number } | null = null;
  exited: string | null = null;
  readonly startedAt: number;
  private pending: GpuSample[] = [];
  private partial = '';
  private text = '';
  private knownCount = 0;
  private settle: NodeJS.Timeout | null = null;
  private waiters: (() => void)[] = [];

  constructor(spawn: SpawnFn, file: string, intervalMs: number, private readonly now: () => number) {
    this.startedAt = now();
    this.child = spawn(file, [...GPU_QUERY_ARGS, '-lms', String(Math.max(100, Math.round(intervalMs)))]);
    this.child.stdout?.setEncoding('utf8');
    this.child.stdout?.on('data', (d: string) => this.onData(d));
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (d: string) => {
      if (this.text.length < 4096) this.text += d;
    });
    this.child.on('error', (err: NodeJS.ErrnoException) => {
      if (this.exited) return;
      this.exited =
        err.code === 'ENOENT'
          ? `nvidia-smi not found at ${file} (no NVIDIA driver installed?)`
          : err.code === 'EACCES'
            ? `nvidia-smi at ${file} is not executable`
            : `nvidia-smi could not be started: ${err.message}`;
      this.wake();
    });
    this.child.on('exit', (code, signal) => {
      if (this.exited) return;
      const said = firstLine(this.text);
      const how = code !== null ? `exit ${code}` : `signal ${signal}`;
      this.exited = said ? `nvidia-smi failed (${how}): ${said}` : `nvidia-smi failed (${how})`;
      this.wake();
    });
  }

  private onData(d: string): void {
    const lines = (this.partial + d).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      const [gpu] = parseGpuCsv(line);
      if (!gpu) {
        // nvidia-smi reports its failures on stdout: kept for the exit reason.
        if (line.trim() !== '' && this.text.length < 4096) this.text += `${line}\n`;
        continue;
      }
      if (this.pending.some((g) => g.index === gpu.index)) this.publish();
      this.pending.push(gpu);
    }
    if (this.knownCount > 0 && this.pending.length >= this.knownCount) this.publish();
    else if (this.pending.length > 0) {
      if (this.settle) clearTimeout(this.settle);
      this.settle = setTimeout(() => this.publish(), ROWS_SETTLE_MS);
      this.settle.unref?.();
    }
  }

  private publish(): void {
    if (this.settle) clearTimeout(this.settle);
    this.settle = null;
    if (this.pending.length === 0) return;
    this.latest = { gpus: this.pending, at: this.now() };
    this.knownCount = this.pending.length;
    this.pending = [];
    this.wake();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves at the first reading or death, or after `ms`. */
  firstReading(ms: number): Promise<void> {
    if (this.latest || this.exited) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  kill(): void {
    if (this.settle) clearTimeout(this.settle);
    if (!this.exited) this.exited = 'stopped';
    try {
      // SIGKILL: a wedged driver leaves nvidia-smi in a state where SIGTERM is ignored.
      this.child.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }
}

export class GpuReader {
  private readonly sysRoot: string;
  private readonly now: () => number;
  private readonly spawn: SpawnFn;
  private readonly run: RunFn;
  private pci: { list: string[]; at: number } | null = null;
  private loop: LoopChild | null = null;
  /** Identity of each GPU by index from the last reading, for reporting it while it sleeps. */
  private known = new Map<number, GpuSample>();
  private apps: { key: string; at: number; processes: GpuProcess[] } | null = null;
  /** Processes started so far (one-shot queries and loop children), for tests and the bench. */
  readonly counts = { loopStarts: 0, oneShots: 0 };
  private closed = false;

  constructor(private readonly opts: GpuReaderOptions) {
    this.sysRoot = opts.sysRoot ?? '/sys';
    this.now = opts.now ?? Date.now;
    this.spawn = opts.spawn ?? ((file, args) => nodeSpawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true }));
    this.run = opts.run ?? runNvidiaSmi;
  }

  /** The NVIDIA GPUs the kernel lists, with their power state (re-listed every few minutes). */
  pciGpus(): PciGpu[] {
    const now = this.now();
    if (!this.pci || now - this.pci.at >= PCI_LIST_MAX_AGE_MS) this.pci = { list: listNvidiaPciGpus(this.sysRoot), at: now };
    return this.pci.list.map((a) => readPciPower(this.sysRoot, a));
  }

  async read(): Promise<GpuReadResult> {
    if (this.closed) return { gpus: [], processes: [], error: 'GPU reader closed' };
    const pci = this.pciGpus();
    const asleep = new Set<number>();
    pci.forEach((g, i) => g.runtimeStatus === 'suspended' && asleep.add(i));
    if (pci.length > 0 && asleep.size === pci.length) {
      this.stopLoop();
      return { gpus: pci.map((_, i) => this.sleeping(i)), processes: [], error: null };
    }
    const problem = executableProblem(this.opts.nvidiaSmiPath);
    if (problem) {
      this.stopLoop();
      return { gpus: [], processes: [], error: problem };
    }
    const runtimePm = pci.some((g) => g.control === 'auto');
    const got = runtimePm ? await this.readOnce(asleep.size > 0 ? pci.map((_, i) => i).filter((i) => !asleep.has(i)) : null) : await this.readLoop();
    if ('error' in got) return { gpus: [], processes: [], error: got.error };
    for (const g of got.gpus) this.known.set(g.index, g);
    const gpus = [...got.gpus, ...[...asleep].filter((i) => !got.gpus.some((g) => g.index === i)).map((i) => this.sleeping(i))].sort((a, b) => a.index - b.index);
    const apps = await this.processes(got.gpus, asleep.size > 0 ? got.gpus.map((g) => g.index) : null);
    if ('error' in apps) return { gpus, processes: [], error: `GPU processes unavailable: ${apps.error}` };
    return { gpus, processes: apps.processes, error: null };
  }

  /** The resident nvidia-smi's pid, if one runs (tests). */
  loopPid(): number | null {
    return this.loop && !this.loop.exited ? (this.loop.child.pid ?? null) : null;
  }

  /** Stops the resident nvidia-smi (a new config, the daemon stopping). */
  close(): void {
    this.closed = true;
    this.stopLoop();
  }

  private sleeping(index: number): GpuSample {
    const k = this.known.get(index);
    return {
      index,
      uuid: k?.uuid ?? '',
      name: k?.name ?? '',
      utilPercent: 0,
      memUsedBytes: null,
      memTotalBytes: k?.memTotalBytes ?? null,
      tempC: null,
      powerW: null,
      powerLimitW: k?.powerLimitW ?? null,
      sleeping: true,
    };
  }

  private stopLoop(): void {
    this.loop?.kill();
    this.loop = null;
  }

  private async readLoop(): Promise<{ gpus: GpuSample[] } | { error: string }> {
    const { timeoutMs, intervalMs } = this.opts;
    let loop = this.loop;
    const now = this.now();
    if (loop && !loop.exited && now - (loop.latest?.at ?? loop.startedAt) > 2 * intervalMs + timeoutMs) {
      // Silent for too long: a wedged nvidia-smi. Started again below.
      this.stopLoop();
      loop = null;
    }
    if (!loop || loop.exited) {
      this.loop = loop = new LoopChild(this.spawn, this.opts.nvidiaSmiPath, intervalMs, this.now);
      this.counts.loopStarts++;
      await loop.firstReading(timeoutMs);
      if (!loop.latest) {
        const why = loop.exited ?? `nvidia-smi did not answer within ${seconds(timeoutMs)}`;
        this.stopLoop();
        return { error: why };
      }
    }
    return { gpus: loop.latest!.gpus };
  }

  private async readOnce(indices: number[] | null): Promise<{ gpus: GpuSample[] } | { error: string }> {
    this.stopLoop();
    this.counts.oneShots++;
    const r = await this.run(this.opts.nvidiaSmiPath, [...(indices ? ['-i', indices.join(',')] : []), ...GPU_QUERY_ARGS], this.opts.timeoutMs);
    return r.ok ? { gpus: parseGpuCsv(r.stdout) } : { error: r.error };
  }

  private async processes(gpus: GpuSample[], indices: number[] | null): Promise<{ processes: GpuProcess[] } | { error: string }> {
    if (gpus.length === 0) return { processes: [] };
    const key = gpus.map((g) => `${g.index}:${g.uuid}:${g.memUsedBytes}`).join('|');
    const now = this.now();
    const a = this.apps;
    const memoryKnown = gpus.every((g) => g.memUsedBytes !== null);
    if (a && memoryKnown && a.key === key && now - a.at < APPS_MAX_AGE_MS) return { processes: a.processes };
    this.counts.oneShots++;
    const r = await this.run(this.opts.nvidiaSmiPath, [...(indices ? ['-i', indices.join(',')] : []), ...COMPUTE_APPS_QUERY_ARGS], this.opts.timeoutMs);
    if (!r.ok) {
      this.apps = null;
      return { error: r.error };
    }
    const processes = parseComputeAppsCsv(r.stdout);
    this.apps = { key, at: now, processes };
    return { processes };
  }
}

/** probeGpu that never wakes a sleeping GPU: GPUs that all sleep are GPUs, found without asking. */
export function allGpusAsleep(sysRoot = '/sys'): boolean {
  const list = listNvidiaPciGpus(sysRoot);
  return list.length > 0 && list.every((a) => readPciPower(sysRoot, a).runtimeStatus === 'suspended');
}
