import { readFileSync } from 'node:fs';
import path from 'node:path';

/** A /proc or /sys file under an injectable root (tests point it at a fixture tree). */
export function readRooted(root: string, rel: string): string {
  return readFileSync(path.join(root, rel), 'utf8');
}

/** The same, or null: a missing or unreadable kernel file means "not on this machine", not a crash. */
export function tryReadRooted(root: string, rel: string): string | null {
  try {
    return readRooted(root, rel);
  } catch {
    return null;
  }
}
