/**
 * CPU package power from the powercap RAPL counters (Intel, and AMD Zen through the same driver).
 * Since Linux 5.10 energy_uj is root-only (PLATYPUS side channel), so a user-mode agent usually has none.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { tryReadRooted } from './read-file.js';

interface Domain {
  dir: string;
  maxRangeUj: number;
}

/** Top-level package domains (intel-rapl:N, not the core/uncore subdomains intel-rapl:N:M). */
export function findPackageDomains(sysRoot = '/sys'): Domain[] {
  const base = 'class/powercap';
  let names: string[];
  try {
    names = readdirSync(path.join(sysRoot, base));
  } catch {
    return [];
  }
  const out: Domain[] = [];
  for (const n of names.filter((x) => /^intel-rapl:\d+$/.test(x)).sort()) {
    const dir = `${base}/${n}`;
    if (!(tryReadRooted(sysRoot, `${dir}/name`) ?? '').trim().startsWith('package')) continue;
    const max = Number((tryReadRooted(sysRoot, `${dir}/max_energy_range_uj`) ?? '').trim());
    out.push({ dir, maxRangeUj: Number.isFinite(max) && max > 0 ? max : 0 });
  }
  return out;
}

/** Energy consumed between two counter readings, across one wraparound. */
export function energyDelta(prevUj: number, curUj: number, maxRangeUj: number): number | null {
  if (curUj >= prevUj) return curUj - prevUj;
  return maxRangeUj > 0 ? maxRangeUj - prevUj + curUj : null;
}

export interface RaplReader {
  /** Watts since the previous read; null on the first read or when unreadable. */
  read(): number | null;
  available(): boolean;
}

export function createRaplReader(sysRoot = '/sys', now: () => number = Date.now): RaplReader {
  const domains = findPackageDomains(sysRoot);
  const readEnergy = (): number[] | null => {
    const vals: number[] = [];
    for (const d of domains) {
      const raw = (tryReadRooted(sysRoot, `${d.dir}/energy_uj`) ?? '').trim();
      const v = Number(raw);
      if (raw === '' || !Number.isFinite(v)) return null;
      vals.push(v);
    }
    return vals.length > 0 ? vals : null;
  };
  let ok = readEnergy() !== null;
  let prev: { at: number; uj: number[] } | null = null;
  return {
    available: () => ok,
    read() {
      if (domains.length === 0) return null;
      const uj = readEnergy();
      ok = uj !== null;
      if (!uj) {
        prev = null;
        return null;
      }
      const cur = { at: now(), uj };
      const last = prev;
      prev = cur;
      if (!last || cur.at <= last.at) return null;
      let total = 0;
      for (let i = 0; i < uj.length; i++) {
        const d = energyDelta(last.uj[i]!, uj[i]!, domains[i]!.maxRangeUj);
        if (d === null) return null;
        total += d;
      }
      return Math.round((total / 1e6 / ((cur.at - last.at) / 1000)) * 10) / 10;
    },
  };
}
