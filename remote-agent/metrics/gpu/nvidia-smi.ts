/**
 * GPU metrics from nvidia-smi. The CSV query interface is the only one that is stable across driver
 * branches (NVML bindings would need a native addon, which the agent cannot carry).
 */
import { execFile } from 'node:child_process';
import type { GpuProcess, GpuSample } from '../../protocol.js';

export const GPU_QUERY_FIELDS = [
  'index',
  'uuid',
  'name',
  'utilization.gpu',
  'memory.used',
  'memory.total',
  'temperature.gpu',
  'power.draw',
  'power.limit',
] as const;

export const COMPUTE_APPS_QUERY_FIELDS = ['gpu_uuid', 'pid', 'process_name', 'used_memory'] as const;

export const GPU_QUERY_ARGS: readonly string[] = [
  `--query-gpu=${GPU_QUERY_FIELDS.join(',')}`,
  '--format=csv,noheader,nounits',
];

export const COMPUTE_APPS_QUERY_ARGS: readonly string[] = [
  `--query-compute-apps=${COMPUTE_APPS_QUERY_FIELDS.join(',')}`,
  '--format=csv,noheader,nounits',
];

export const DEFAULT_NVIDIA_SMI_TIMEOUT_MS = 3000;

const MIB = 1024 * 1024;

/**
 * A number, or null for every placeholder nvidia-smi prints instead of one ([N/A], N/A, [Not Supported],
 * [Unknown Error], [GPU is lost], deprecation notices...). Anything that is not plainly numeric counts as
 * a placeholder: a chart showing 0 W for "unknown" would be a lie. A trailing unit is tolerated in case
 * a caller forgot `nounits`.
 */
export function parseNumber(raw: string | undefined): number | null {
  if (raw === undefined) return null;
  const m = /^(-?\d+(?:\.\d+)?)(?:\s*(?:%|[A-Za-z]+))?$/.exec(raw.trim());
  if (!m) return null;
  const n = Number(m[1]);
  return Number.isFinite(n) ? n : null;
}

function mibToBytes(raw: string | undefined): number | null {
  const n = parseNumber(raw);
  return n === null ? null : Math.round(n * MIB);
}

function lines(text: string): string[] {
  return text.split(/\r?\n/).filter((l) => l.trim() !== '');
}

/**
 * Rows of our exact --query-gpu. The name is the only free-text column, so a row with too many commas
 * is read from both ends: fixed columns before and after it, the rest is the name.
 */
export function parseGpuCsv(text: string): GpuSample[] {
  const out: GpuSample[] = [];
  const before = 2;
  const after = GPU_QUERY_FIELDS.length - before - 1;
  for (const line of lines(text)) {
    const cells = line.split(',');
    if (cells.length < GPU_QUERY_FIELDS.length) continue;
    const head = cells.slice(0, before).map((c) => c.trim());
    const tail = cells.slice(cells.length - after).map((c) => c.trim());
    const name = cells.slice(before, cells.length - after).join(',').trim();
    const index = parseNumber(head[0]);
    // A line without an integer index is a warning nvidia-smi mixed into stdout, not a GPU.
    if (index === null || !Number.isInteger(index)) continue;
    out.push({
      index,
      uuid: head[1] ?? '',
      name,
      utilPercent: parseNumber(tail[0]),
      memUsedBytes: mibToBytes(tail[1]),
      memTotalBytes: mibToBytes(tail[2]),
      tempC: parseNumber(tail[3]),
      powerW: parseNumber(tail[4]),
      powerLimitW: parseNumber(tail[5]),
    });
  }
  return out;
}

/** Rows of our exact --query-compute-apps; process names may hold commas, so read from both ends. */
export function parseComputeAppsCsv(text: string): GpuProcess[] {
  const out: GpuProcess[] = [];
  for (const line of lines(text)) {
    const cells = line.split(',');
    if (cells.length < COMPUTE_APPS_QUERY_FIELDS.length) continue;
    const pid = parseNumber(cells[1]);
    if (pid === null || !Number.isInteger(pid) || pid <= 0) continue;
    out.push({
      gpuUuid: (cells[0] ?? '').trim(),
      pid,
      processName: cells.slice(2, -1).join(',').trim(),
      usedMemoryBytes: mibToBytes(cells[cells.length - 1]),
    });
  }
  return out;
}

export interface GpuReadResult {
  gpus: GpuSample[];
  processes: GpuProcess[];
  /** Why GPU data is missing or partial this time, else null. */
  error: string | null;
}

type RunResult = { ok: true; stdout: string } | { ok: false; error: string };

function firstLine(text: string): string {
  return lines(text)[0]?.trim() ?? '';
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

/** Runs nvidia-smi without a shell; every failure becomes a one-line reason, never an exception. */
export function runNvidiaSmi(path: string, args: readonly string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve) => {
    try {
      execFile(
        path,
        [...args],
        // SIGKILL: a wedged driver leaves nvidia-smi in a state where SIGTERM is ignored.
        { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 4 * MIB, windowsHide: true, encoding: 'utf8' },
        (err, stdout, stderr) => {
          if (!err) return resolve({ ok: true, stdout });
          const e = err as NodeJS.ErrnoException & { killed?: boolean; signal?: string | null; code?: unknown };
          if (e.code === 'ENOENT') {
            return resolve({ ok: false, error: `nvidia-smi not found at ${path} (no NVIDIA driver installed?)` });
          }
          if (e.code === 'EACCES') return resolve({ ok: false, error: `nvidia-smi at ${path} is not executable` });
          if (e.killed || e.signal === 'SIGKILL') {
            return resolve({ ok: false, error: `nvidia-smi did not answer within ${seconds(timeoutMs)}` });
          }
          // nvidia-smi prints its own failures (NVML init, driver mismatch) on stdout, not stderr.
          const said = firstLine(String(stderr)) || firstLine(String(stdout));
          const code = typeof e.code === 'number' ? `exit ${e.code}` : e.signal ? `signal ${e.signal}` : String(e.code ?? '');
          resolve({ ok: false, error: said ? `nvidia-smi failed (${code}): ${said}` : `nvidia-smi failed (${code})` });
        },
      );
    } catch (err) {
      resolve({ ok: false, error: `nvidia-smi could not be started: ${(err as Error).message}` });
    }
  });
}

export async function readGpus(path: string, timeoutMs: number = DEFAULT_NVIDIA_SMI_TIMEOUT_MS): Promise<GpuReadResult> {
  // In parallel so a slow driver costs one timeout, not two.
  const [gpuRun, appsRun] = await Promise.all([
    runNvidiaSmi(path, GPU_QUERY_ARGS, timeoutMs),
    runNvidiaSmi(path, COMPUTE_APPS_QUERY_ARGS, timeoutMs),
  ]);
  if (!gpuRun.ok) return { gpus: [], processes: [], error: gpuRun.error };
  const gpus = parseGpuCsv(gpuRun.stdout);
  if (!appsRun.ok) return { gpus, processes: [], error: `GPU processes unavailable: ${appsRun.error}` };
  return { gpus, processes: parseComputeAppsCsv(appsRun.stdout), error: null };
}

export interface GpuProbe {
  gpu: boolean;
  reason: string | null;
}

export async function probeGpu(path: string, timeoutMs: number = DEFAULT_NVIDIA_SMI_TIMEOUT_MS, allAsleep: () => boolean = () => false): Promise<GpuProbe> {
  // Asking would wake them: GPUs the kernel lists, all runtime-suspended, are GPUs.
  if (allAsleep()) return { gpu: true, reason: null };
  const run = await runNvidiaSmi(path, GPU_QUERY_ARGS, timeoutMs);
  if (!run.ok) return { gpu: false, reason: run.error };
  if (parseGpuCsv(run.stdout).length === 0) return { gpu: false, reason: 'nvidia-smi reports no GPUs' };
  return { gpu: true, reason: null };
}
