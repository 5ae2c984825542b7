/**
 * Rewrites a small state file so that a crash or a power cut leaves the old version or the new one,
 * never half of either: write a temp file beside it, fsync, rename over. The temp file is removed on
 * failure and the error rethrown for the caller to log.
 */
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';

export function writeFileAtomic(path: string, text: string, mode = 0o644): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, text, { mode });
    const fd = openSync(tmp, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      /* not there */
    }
    throw err;
  }
}
