/** Machine-wide CPU use from /proc/stat, to tell "slow code" from "CPU-saturated box" in the notes. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface CpuTimes {
  busy: number;
  total: number;
}

export function cpuTimes(): CpuTimes {
  try {
    const first = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const f = first.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already inside user/nice)
    const total = f.slice(0, 8).reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return { busy: NaN, total: NaN };
  }
}

/** Fraction (0..1) of all CPUs busy between two readings. */
export function busyFraction(a: CpuTimes, b: CpuTimes): number {
  const dt = b.total - a.total;
  return dt > 0 ? (b.busy - a.busy) / dt : NaN;
}

export function machineLine(): string {
  const load = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  return `${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim() ?? '?'}), load ${load}, Node ${process.version}`;
}

/** CPU ms the whole machine (all cores, every process) was busy between two readings. */
export function machineBusyMs(a: CpuTimes, b: CpuTimes): number {
  return ((b.busy - a.busy) / ticksPerSecond()) * 1000;
}

let clkTck: number | undefined;
function ticksPerSecond(): number {
  if (clkTck === undefined) {
    const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const n = Number(String(r.stdout ?? '').trim());
    clkTck = Number.isFinite(n) && n > 0 ? n : 100;
  }
  return clkTck;
}

/**
 * CPU ms used so far by a process and its waited-for children (utime + stime + cutime + cstime). For an
 * sshd listener this includes every finished connection (the listener reaps them), so a delta taken
 * after the connections have closed is the server side's cost of those connections.
 */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // f[0] is field 3 (state); utime..cstime are fields 14..17.
    const ticks = [11, 12, 13, 14].reduce((a, i) => a + Number(f[i] ?? 0), 0);
    return (ticks / ticksPerSecond()) * 1000;
  } catch {
    return NaN;
  }
}

/**
 * CPU ms of this process's children that have exited and been waited for (cutime + cstime of
 * /proc/self/stat): across a window in which the only children that end are, say, `ssh` clients,
 * the delta is what those clients used.
 */
export function reapedChildrenCpuMs(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[13] ?? 0) + Number(f[14] ?? 0)) / ticksPerSecond()) * 1000;
  } catch {
    return NaN;
  }
}

/** CPU ms of this Node process plus the given processes (and their reaped children). */
export function ourCpuMs(pids: readonly number[]): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000 + pids.reduce((a, p) => a + processCpuMs(p), 0);
}
