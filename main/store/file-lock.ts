/**
 * A cross-process lock beside a data file, for read-modify-write cycles that must not interleave (the
 * CLI and the desktop app on one data folder). Synchronous, because the store's read and write are.
 *
 * - The lock is a file created with O_EXCL (`wx`) holding {pid, hostname, token, createdAt}.
 * - A lock is stale when its holder is a dead process on this machine, or when it is older than
 *   `staleMs` (holders keep it for milliseconds; this also covers other machines on a shared folder
 *   and a reused pid). A half-written lock (empty or unparsable) is stale only by age.
 * - Taking over a stale lock happens under a second, short-lived `.takeover` file, and the lock is read
 *   again under it: two waiters can never both remove a lock, and nobody removes a fresh one.
 * - The holder checks that the lock is still its own just before it commits (`stillHeld`), so a holder
 *   that was frozen past `staleMs` and taken over refuses to write instead of undoing the new holder.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { FleetError } from '../core/errors.js';

export interface FileLockOptions {
  /** How long to wait for a held lock before giving up (default 10 s). */
  timeoutMs?: number;
  /** A lock older than this is taken over whatever its holder (default 30 s). */
  staleMs?: number;
  /** Injectable for tests. */
  isProcessAlive?: (pid: number) => boolean;
}

interface LockContent {
  pid: number;
  hostname: string;
  token: string;
  createdAt: string;
}

export interface HeldLock {
  readonly path: string;
  /** True while the lock file is still the one this holder created. */
  stillHeld(): boolean;
  release(): void;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_STALE_MS = 30_000;
/** The takeover guard is held for a few system calls; older than this, its holder died. */
const TAKEOVER_STALE_MS = 5_000;

const sleeper = new Int32Array(new SharedArrayBuffer(4));
function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

function defaultIsProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLock(file: string): { content: LockContent | null; raw: string; ageMs: number } | null {
  let raw: string;
  let mtimeMs: number;
  try {
    raw = fs.readFileSync(file, 'utf8');
    mtimeMs = fs.statSync(file).mtimeMs;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  let content: LockContent | null = null;
  try {
    const parsed = JSON.parse(raw) as Partial<LockContent>;
    if (typeof parsed.pid === 'number' && typeof parsed.hostname === 'string' && typeof parsed.token === 'string') {
      content = { pid: parsed.pid, hostname: parsed.hostname, token: parsed.token, createdAt: String(parsed.createdAt ?? '') };
    }
  } catch {
    /* being written, or damaged: judged by age */
  }
  return { content, raw, ageMs: Math.max(0, Date.now() - mtimeMs) };
}

function tryCreate(file: string, content: LockContent): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new FleetError('failed', `Could not create the lock file ${file} (${(err as Error).message}). Check that its folder belongs to you and is writable.`);
  }
  try {
    fs.writeSync(fd, JSON.stringify(content));
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

function unlinkQuietly(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** Acquires the lock at `file` (e.g. fleetwake.json.lock), waiting up to timeoutMs; throws FleetError when it cannot. */
export function acquireFileLock(file: string, what: string, options: FileLockOptions = {}): HeldLock {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const staleMs = options.staleMs ?? DEFAULT_STALE_MS;
  const alive = options.isProcessAlive ?? defaultIsProcessAlive;
  const hostname = os.hostname();
  const mine: LockContent = { pid: process.pid, hostname, token: randomBytes(12).toString('hex'), createdAt: new Date().toISOString() };
  const isStale = (seen: NonNullable<ReturnType<typeof readLock>>): boolean => {
    if (seen.ageMs > staleMs) return true;
    if (seen.content === null) return false;
    return seen.content.hostname === hostname && seen.content.pid !== process.pid && !alive(seen.content.pid);
  };

  const deadline = Date.now() + timeoutMs;
  let wait = 1;
  let last: ReturnType<typeof readLock> = null;
  for (;;) {
    if (tryCreate(file, mine)) break;
    last = readLock(file);
    if (last === null) continue; // released between our attempt and our look: try again at once
    if (isStale(last)) {
      takeOver(file, last.raw, isStale);
      continue;
    }
    if (Date.now() >= deadline) {
      const holder = last.content
        ? `process ${last.content.pid} on ${last.content.hostname === hostname ? 'this computer' : last.content.hostname}, since ${last.content.createdAt}`
        : 'a process that did not say which';
      throw new FleetError(
        'failed',
        `${what} is locked by another Fleetwake (${holder}) and stayed locked for ${Math.round(timeoutMs / 1000)} s, so nothing was changed. ` +
          `Try again; if no other Fleetwake is running, delete ${file}.`,
      );
    }
    sleepSync(Math.min(wait, Math.max(1, deadline - Date.now())));
    wait = Math.min(wait * 2, 50);
  }

  let released = false;
  return {
    path: file,
    stillHeld: () => !released && readLock(file)?.content?.token === mine.token,
    release: () => {
      if (released) return;
      released = true;
      // Remove it only if it is still ours: after a takeover the file belongs to someone else.
      if (readLock(file)?.content?.token === mine.token) unlinkQuietly(file);
    },
  };
}

function takeOver(file: string, staleRaw: string, isStale: (seen: NonNullable<ReturnType<typeof readLock>>) => boolean): void {
  const guard = `${file}.takeover`;
  const guardContent: LockContent = { pid: process.pid, hostname: os.hostname(), token: randomBytes(12).toString('hex'), createdAt: new Date().toISOString() };
  if (!tryCreate(guard, guardContent)) {
    const seen = readLock(guard);
    if (seen && seen.ageMs > TAKEOVER_STALE_MS) unlinkQuietly(guard);
    return; // someone else is taking over: look again
  }
  try {
    // Under the guard: remove the lock only if it is still the very one judged stale.
    const now = readLock(file);
    if (now !== null && now.raw === staleRaw && isStale(now)) unlinkQuietly(file);
  } finally {
    if (readLock(guard)?.content?.token === guardContent.token) unlinkQuietly(guard);
  }
}
