/** Per-interface throughput from /proc/net/dev counter deltas. */
import type { NetworkRate } from '../protocol.js';
import { tryReadRooted } from './read-file.js';

export interface IfaceCounters {
  rx: number;
  tx: number;
}

export function parseNetDev(text: string): Map<string, IfaceCounters> {
  const out = new Map<string, IfaceCounters>();
  for (const line of text.split('\n')) {
    const m = /^\s*([^:\s]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    const f = m[2]!.trim().split(/\s+/).map(Number);
    // Columns: 8 receive counters, then 8 transmit counters; bytes lead each group.
    if (f.length < 16 || !Number.isFinite(f[0]) || !Number.isFinite(f[8])) continue;
    out.set(m[1]!, { rx: f[0]!, tx: f[8]! });
  }
  return out;
}

export function networkRates(
  prev: Map<string, IfaceCounters>,
  cur: Map<string, IfaceCounters>,
  elapsedMs: number,
): NetworkRate[] {
  if (elapsedMs <= 0) return [];
  const out: NetworkRate[] = [];
  for (const [iface, c] of cur) {
    if (iface === 'lo') continue;
    const p = prev.get(iface);
    // A counter that went back means the interface was recreated; its first interval is unknown.
    if (!p || c.rx < p.rx || c.tx < p.tx) continue;
    const s = elapsedMs / 1000;
    out.push({ iface, rxBytesPerSec: Math.round((c.rx - p.rx) / s), txBytesPerSec: Math.round((c.tx - p.tx) / s) });
  }
  return out.sort((a, b) => a.iface.localeCompare(b.iface));
}

/** Stateful: the first read has nothing to compare with and returns []. */
export function createNetworkReader(procRoot = '/proc', now: () => number = Date.now): { read(): NetworkRate[] } {
  let prev: { at: number; counters: Map<string, IfaceCounters> } | null = null;
  return {
    read() {
      const text = tryReadRooted(procRoot, 'net/dev');
      if (text === null) return [];
      const cur = { at: now(), counters: parseNetDev(text) };
      const rates = prev ? networkRates(prev.counters, cur.counters, cur.at - prev.at) : [];
      prev = cur;
      return rates;
    },
  };
}
