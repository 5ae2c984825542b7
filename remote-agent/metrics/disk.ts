/** Filesystem usage of / and the state folder. */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import path from 'node:path';
import type { DiskUsage } from '../protocol.js';

export interface FsSize {
  totalBytes: number;
  usedBytes: number;
}

export type StatfsFn = (p: string) => Promise<FsSize>;

/** fs.statfs exists from Node 18.15; the agent may run on an older 18. */
function nodeStatfs(): StatfsFn | null {
  const statfs = (fs.promises as { statfs?: typeof fs.promises.statfs }).statfs;
  if (typeof statfs !== 'function') return null;
  return async (p) => {
    const s = await statfs(p);
    // Used as df counts it: blocks not free, including those reserved for root.
    return { totalBytes: s.blocks * s.bsize, usedBytes: (s.blocks - s.bfree) * s.bsize };
  };
}

/** Parses `df -PB1 PATH`; the numbers are read from the right because device names may hold spaces. */
export function parseDfOutput(text: string): FsSize | null {
  const line = text.trim().split('\n')[1];
  const m = line ? /\s(\d+)\s+(\d+)\s+(\d+)\s+\d+%\s/.exec(line) : null;
  return m ? { totalBytes: Number(m[1]), usedBytes: Number(m[2]) } : null;
}

export const dfStatfs: StatfsFn = (p) =>
  new Promise((resolve, reject) => {
    execFile('df', ['-PB1', p], { timeout: 3000, killSignal: 'SIGKILL' }, (err, stdout) => {
      const size = err ? null : parseDfOutput(String(stdout));
      if (size) resolve(size);
      else reject(err ?? new Error('unexpected df output'));
    });
  });

/** The folder itself or, before it has been created, its nearest existing parent (same filesystem). */
function existingAncestor(p: string): string {
  let cur = path.resolve(p);
  while (!fs.existsSync(cur) && path.dirname(cur) !== cur) cur = path.dirname(cur);
  return cur;
}

export async function readDisk(label: DiskUsage['label'], p: string, statfs: StatfsFn | null = nodeStatfs()): Promise<DiskUsage | null> {
  try {
    const size = await (statfs ?? dfStatfs)(existingAncestor(p));
    return { label, path: p, ...size };
  } catch {
    return null;
  }
}

export async function readDisks(stateDir: string, statfs: StatfsFn | null = nodeStatfs()): Promise<DiskUsage[]> {
  const all = await Promise.all([readDisk('root', '/', statfs), readDisk('state', stateDir, statfs)]);
  return all.filter((d): d is DiskUsage => d !== null);
}
