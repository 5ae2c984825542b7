/** Memory and swap from /proc/meminfo. */
import type { MetricsSample } from '../protocol.js';
import { tryReadRooted } from './read-file.js';

export type MemoryReading = MetricsSample['memory'];

/** meminfo values in bytes, keyed by field name (the file says kB, meaning KiB). */
export function parseMeminfo(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\S+):\s+(\d+)(?:\s+kB)?/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]) * (line.includes(' kB') ? 1024 : 1));
  }
  return out;
}

export function memoryFromMeminfo(info: Map<string, number>): MemoryReading {
  const get = (k: string) => info.get(k) ?? 0;
  const total = get('MemTotal');
  // MemAvailable is missing before Linux 3.14; free + reclaimable caches is the old approximation.
  const available = info.get('MemAvailable') ?? get('MemFree') + get('Buffers') + get('Cached');
  const swapTotal = get('SwapTotal');
  return {
    totalBytes: total,
    availableBytes: available,
    usedBytes: Math.max(0, total - available),
    swapTotalBytes: swapTotal,
    swapUsedBytes: Math.max(0, swapTotal - get('SwapFree')),
  };
}

export function readMemory(procRoot = '/proc'): MemoryReading {
  const text = tryReadRooted(procRoot, 'meminfo');
  return memoryFromMeminfo(parseMeminfo(text ?? ''));
}
