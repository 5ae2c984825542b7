/** One MetricsSample from every source; a source that fails leaves its part empty, never the whole. */
import type { MetricsSample } from '../protocol.js';
import { createCpuReader, type CpuReading } from './cpu.js';
import { readDisks } from './disk.js';
import { DEFAULT_NVIDIA_SMI_TIMEOUT_MS, type GpuReadResult } from './gpu/nvidia-smi.js';
import { GpuReader } from './gpu/reader.js';
import { readMemory, type MemoryReading } from './memory.js';
import { createNetworkReader } from './network.js';
import { createRaplReader } from './rapl.js';
import { readUptime } from './uptime.js';

export { primaryInterface } from './primary-interface.js';

export interface SamplerOptions {
  nvidiaSmiPath: string;
  nvidiaSmiTimeoutMs?: number;
  /** The sampling interval: the period of the resident nvidia-smi (default 5 s). */
  intervalMs?: number;
  stateDir: string;
  procRoot?: string;
  sysRoot?: string;
  now?: () => number;
}

export interface SamplerCapabilities {
  gpu: boolean;
  gpuReason: string | null;
  rapl: boolean;
}

export interface Sampler {
  sample(): Promise<MetricsSample>;
  /** As of the latest sample; before the first one, gpu is false with reason 'not sampled yet'. */
  capabilities(): SamplerCapabilities;
  /** Stops what the sampler keeps running (the resident nvidia-smi). */
  close?(): void;
}

function guard<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    return fallback;
  }
}

async function guardAsync<T>(fn: () => Promise<T>, fallback: (err: unknown) => T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    return fallback(err);
  }
}

const EMPTY_CPU: CpuReading = { percent: null, perCore: [], load: [0, 0, 0] };
const EMPTY_MEMORY: MemoryReading = { totalBytes: 0, usedBytes: 0, availableBytes: 0, swapTotalBytes: 0, swapUsedBytes: 0 };

export function createSampler(opts: SamplerOptions): Sampler {
  const procRoot = opts.procRoot ?? '/proc';
  const now = opts.now ?? Date.now;
  const cpu = createCpuReader(procRoot);
  const net = createNetworkReader(procRoot, now);
  const rapl = createRaplReader(opts.sysRoot ?? '/sys', now);
  let gpuState: { gpu: boolean; gpuReason: string | null } = { gpu: false, gpuReason: 'not sampled yet' };
  const gpuReader = new GpuReader({
    nvidiaSmiPath: opts.nvidiaSmiPath,
    timeoutMs: opts.nvidiaSmiTimeoutMs ?? DEFAULT_NVIDIA_SMI_TIMEOUT_MS,
    intervalMs: opts.intervalMs ?? 5000,
    sysRoot: opts.sysRoot,
    now,
  });

  return {
    async sample() {
      const sampledAt = now();
      // The slow parts (nvidia-smi, statfs) run while the /proc reads happen.
      const gpuP = guardAsync<GpuReadResult>(
        () => gpuReader.read(),
        (err) => ({ gpus: [], processes: [], error: `GPU read failed: ${(err as Error).message}` }),
      );
      const disksP = guardAsync(() => readDisks(opts.stateDir), () => []);
      const cpuReading = guard(() => cpu.read(), EMPTY_CPU);
      const memory = guard(() => readMemory(procRoot), EMPTY_MEMORY);
      const network = guard(() => net.read(), []);
      const uptimeSeconds = guard(() => readUptime(procRoot), 0);
      const cpuPowerW = guard(() => rapl.read(), null);
      const [gpu, disks] = await Promise.all([gpuP, disksP]);
      gpuState =
        gpu.gpus.length > 0
          ? { gpu: true, gpuReason: null }
          : { gpu: false, gpuReason: gpu.error ?? 'nvidia-smi reports no GPUs' };
      return {
        sampledAt,
        cpu: cpuReading,
        memory,
        disks,
        network,
        uptimeSeconds,
        gpus: gpu.gpus,
        gpuProcesses: gpu.processes,
        gpuError: gpu.error,
        cpuPowerW,
      };
    },
    capabilities() {
      return { ...gpuState, rapl: rapl.available() };
    },
    close() {
      gpuReader.close();
    },
  };
}
