/**
 * Interactive logins read straight from the utmp database, as `who` does, without a process per sample.
 *
 * Layout: glibc's Linux `struct utmp`, 384 bytes a record on every 64-bit glibc target the agent runs on
 * (x86_64, arm64; the 32-bit-time compat layout is the same size):
 *   0 ut_type (int16)   4 ut_pid (int32)   8 ut_line[32]   40 ut_id[4]   44 ut_user[32]   76 ut_host[256]
 * Only USER_PROCESS (7) records are logins. Like `who` on the default database (coreutils passes
 * READ_UTMP_CHECK_PIDS there), a login whose process no longer exists is a stale record, not a login.
 */
import { readFileSync } from 'node:fs';

export const UTMP_RECORD_BYTES = 384;
const USER_PROCESS = 7;

export interface UtmpLogin {
  user: string;
  line: string;
  /** ut_host: the remote host or display, '' when local. */
  host: string;
  pid: number;
}

function cString(buf: Buffer, start: number, len: number): string {
  const end = buf.indexOf(0, start);
  return buf.toString('utf8', start, end === -1 || end > start + len ? start + len : end).trim();
}

/** USER_PROCESS records of a utmp file's bytes (a trailing partial record is ignored). */
export function parseUtmp(buf: Buffer): UtmpLogin[] {
  const out: UtmpLogin[] = [];
  for (let off = 0; off + UTMP_RECORD_BYTES <= buf.length; off += UTMP_RECORD_BYTES) {
    if (buf.readInt16LE(off) !== USER_PROCESS) continue;
    const user = cString(buf, off + 44, 32);
    if (user === '') continue;
    out.push({ user, line: cString(buf, off + 8, 32), host: cString(buf, off + 76, 256), pid: buf.readInt32LE(off + 4) });
  }
  return out;
}

/** kill(pid, 0) as coreutils does: alive unless ESRCH (EPERM means someone else's live process). */
export function pidAlive(pid: number): boolean {
  if (!(pid > 0)) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

export type UtmpRead = { ok: true; logins: UtmpLogin[] } | { ok: false; code: string };

/** The live logins of the first utmp file that exists; ENOENT when none does. */
export function readUtmpLogins(paths: readonly string[], alive: (pid: number) => boolean = pidAlive): UtmpRead {
  let code = 'ENOENT';
  for (const p of paths) {
    try {
      return { ok: true, logins: parseUtmp(readFileSync(p)).filter((l) => alive(l.pid)) };
    } catch (err) {
      const c = (err as NodeJS.ErrnoException).code ?? 'EIO';
      if (c !== 'ENOENT') code = c;
      if (c !== 'ENOENT') break;
    }
  }
  return { ok: false, code };
}
