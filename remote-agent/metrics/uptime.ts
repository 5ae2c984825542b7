import { tryReadRooted } from './read-file.js';

/** Seconds since boot from /proc/uptime; 0 when unreadable (a sample must still go out). */
export function readUptime(procRoot = '/proc'): number {
  const v = Number((tryReadRooted(procRoot, 'uptime') ?? '').trim().split(/\s+/)[0]);
  return Number.isFinite(v) ? v : 0;
}
