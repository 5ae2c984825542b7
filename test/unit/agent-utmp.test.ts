import { copyFileSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkUtmpSessions } from '../../remote-agent/idle/checks.js';
import type { Exec, ExecResult } from '../../remote-agent/idle/exec.js';
import { parseUtmp, pidAlive, readUtmpLogins, UTMP_RECORD_BYTES } from '../../remote-agent/idle/utmp.js';

/** Written by util-linux's `utmpdump -r` (see test/fixtures/utmp/README.md); `who` on it lists alice, bob and root. */
const CAPTURE = path.resolve(import.meta.dirname, '../fixtures/utmp/sessions.utmp');

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'fw-utmp-'));
  dirs.push(d);
  return d;
};

const noExec: Exec & { calls: number } = Object.assign(
  async (): Promise<ExecResult> => {
    noExec.calls++;
    return { code: 0, stdout: '', stderr: '', failure: null };
  },
  { calls: 0 },
);

describe('utmp read directly (no `who` process)', () => {
  it('parses the captured database: the USER_PROCESS logins, as `who` lists them', () => {
    const buf = readFileSync(CAPTURE);
    expect(buf.length).toBe(7 * UTMP_RECORD_BYTES);
    expect(parseUtmp(buf)).toEqual([
      { user: 'alice', line: 'pts/0', host: '10.0.0.9', pid: 4121 },
      { user: 'bob', line: 'pts/2', host: '2001:db8::7', pid: 4502 },
      { user: 'root', line: 'tty2', host: '', pid: 4630 },
    ]);
  });

  it('a truncated trailing record is ignored, not misread', () => {
    const d = tmp();
    const f = path.join(d, 'utmp');
    copyFileSync(CAPTURE, f);
    truncateSync(f, 7 * UTMP_RECORD_BYTES - 100);
    expect(parseUtmp(readFileSync(f)).map((l) => l.user)).toEqual(['alice', 'bob']);
  });

  it('drops logins whose process is gone, like `who` on the default database', () => {
    const r = readUtmpLogins([CAPTURE], (pid) => pid === 4502);
    expect(r).toEqual({ ok: true, logins: [{ user: 'bob', line: 'pts/2', host: '2001:db8::7', pid: 4502 }] });
    expect(pidAlive(process.pid)).toBe(true);
    expect(pidAlive(0)).toBe(false);
  });

  it('checkUtmpSessions: busy with the same reason text as before, clear, or unavailable without a database', async () => {
    const all = () => readUtmpLogins([CAPTURE], () => true);
    expect(await checkUtmpSessions(noExec, undefined, all)).toEqual({
      status: 'busy',
      reason: '3 interactive logins: alice on pts/0 from 10.0.0.9, bob on pts/2 from 2001:db8::7, root on tty2',
    });
    const none = () => readUtmpLogins([CAPTURE], () => false);
    expect(await checkUtmpSessions(noExec, undefined, none)).toEqual({ status: 'clear', reason: 'no interactive logins (utmp)' });
    const d = tmp();
    expect(await checkUtmpSessions(noExec, undefined, () => readUtmpLogins([path.join(d, 'nope'), path.join(d, 'nope2')]))).toEqual({
      status: 'unavailable',
      reason: 'no utmp database (/run/utmp): logins cannot be counted',
    });
    // An empty database (a box nobody logged into since boot) is clear, not unavailable.
    writeFileSync(path.join(d, 'empty'), '');
    expect(await checkUtmpSessions(noExec, undefined, () => readUtmpLogins([path.join(d, 'empty')]))).toMatchObject({ status: 'clear' });
    expect(noExec.calls).toBe(0);
  });

  it('an unreadable database falls back to `who`', async () => {
    const exec: Exec = async (file) => ({ code: 0, stdout: file === 'who' ? 'alice    pts/0        2025-01-05 10:22 (10.0.0.5)\n' : '', stderr: '', failure: null });
    expect(await checkUtmpSessions(exec, undefined, () => ({ ok: false, code: 'EACCES' }))).toEqual({
      status: 'busy',
      reason: '1 interactive login: alice on pts/0 from 10.0.0.5',
    });
  });
});
