import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Exec, ExecResult } from '../../remote-agent/idle/exec.js';
import { InhibitorCheck, INHIBIT_MAX_AGE_MS, type WatchFn } from '../../remote-agent/idle/inhibitors.js';
import { waitFor } from '../support/wait-for.js';

const LIST = (n: number) =>
  n === 0
    ? '0 inhibitors listed.\n'
    : `WHO            UID  USER PID  COMM           WHAT  WHY            MODE\nbackup         0    root 4242 backup         sleep nightly backup  block\n\n1 inhibitors listed.\n`;

function fakeInhibit(): Exec & { calls: number; inhibitors: number; answer: ExecResult | null } {
  const exec = Object.assign(
    async (): Promise<ExecResult> => {
      exec.calls++;
      return exec.answer ?? { code: 0, stdout: LIST(exec.inhibitors), stderr: '', failure: null };
    },
    { calls: 0, inhibitors: 0, answer: null as ExecResult | null },
  );
  return exec;
}

/** A watch the test fires by hand; `exists` says whether the folder is there to be watched. */
function fakeWatch(exists: Set<string>) {
  const handlers = new Map<string, () => void>();
  const fn: WatchFn = (dir, onChange) => {
    if (!exists.has(dir)) return null;
    handlers.set(dir, onChange);
    return { close: () => handlers.delete(dir) };
  };
  return { fn, fire: (dir: string) => handlers.get(dir)?.(), watched: () => [...handlers.keys()] };
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('InhibitorCheck: systemd-inhibit only when logind’s inhibitor folder changed', () => {
  it('asks once, then answers from the last result until the folder changes', async () => {
    const exec = fakeInhibit();
    const w = fakeWatch(new Set(['/run/systemd/inhibit', '/run/systemd']));
    let now = 0;
    const c = new InhibitorCheck(exec, undefined, { watch: w.fn, now: () => now });
    expect(await c.run()).toMatchObject({ status: 'clear' });
    for (let i = 0; i < 10; i++) {
      now += 5000;
      expect(await c.run()).toMatchObject({ status: 'clear' });
    }
    expect(exec.calls).toBe(1);
    exec.inhibitors = 1;
    w.fire('/run/systemd/inhibit');
    expect(await c.run()).toMatchObject({ status: 'busy', reason: expect.stringContaining('backup') });
    expect(exec.calls).toBe(2);
    now += 5000;
    await c.run();
    expect(exec.calls).toBe(2);
  });

  it('asks again after maxAge, and whenever the caller wants a fresh answer', async () => {
    const exec = fakeInhibit();
    const w = fakeWatch(new Set(['/run/systemd/inhibit']));
    let now = 0;
    const c = new InhibitorCheck(exec, undefined, { watch: w.fn, now: () => now });
    await c.run();
    await c.run(true);
    expect(exec.calls).toBe(2);
    now += INHIBIT_MAX_AGE_MS - 1;
    await c.run();
    expect(exec.calls).toBe(2);
    now += 1;
    await c.run();
    expect(exec.calls).toBe(3);
  });

  it('no inhibitor folder yet: watches /run/systemd, and its appearance means "ask again"', async () => {
    const exec = fakeInhibit();
    const exists = new Set(['/run/systemd']);
    const w = fakeWatch(exists);
    const c = new InhibitorCheck(exec, undefined, { watch: w.fn, now: () => 0 });
    await c.run();
    await c.run();
    expect(exec.calls).toBe(1);
    expect(w.watched()).toEqual(['/run/systemd']);
    exists.add('/run/systemd/inhibit');
    w.fire('/run/systemd');
    exec.inhibitors = 1;
    expect(await c.run()).toMatchObject({ status: 'busy' });
    expect(w.watched()).toEqual(['/run/systemd/inhibit']);
    await c.run();
    expect(exec.calls).toBe(2);
  });

  it('a timed-out run is not cached; "no logind" is', async () => {
    const exec = fakeInhibit();
    const w = fakeWatch(new Set(['/run/systemd']));
    const c = new InhibitorCheck(exec, undefined, { watch: w.fn, now: () => 0 });
    exec.answer = { code: null, stdout: '', stderr: '', failure: 'ETIMEDOUT' };
    expect(await c.run()).toMatchObject({ status: 'unavailable' });
    await c.run();
    expect(exec.calls).toBe(2);
    exec.answer = { code: 1, stdout: '', stderr: 'Failed to connect to bus: No such file or directory\n', failure: null };
    expect(await c.run()).toMatchObject({ status: 'unavailable', reason: expect.stringContaining('no systemd-logind') });
    await c.run();
    await c.run();
    expect(exec.calls).toBe(3);
  });

  it('the real watch sees a file appear in the folder', async () => {
    const d = mkdtempSync(path.join(tmpdir(), 'fw-inhibit-'));
    dirs.push(d);
    const inhibitDir = path.join(d, 'inhibit');
    mkdirSync(inhibitDir);
    const exec = fakeInhibit();
    const c = new InhibitorCheck(exec, undefined, { dir: inhibitDir, parent: d });
    try {
      await c.run();
      await c.run();
      expect(exec.calls).toBe(1);
      writeFileSync(path.join(inhibitDir, '1'), 'WHAT=sleep\n');
      exec.inhibitors = 1;
      await waitFor('the inhibitor to be seen', async () => (await c.run()).status === 'busy', { timeoutMs: 5000 });
      expect(exec.calls).toBe(2);
    } finally {
      c.close();
    }
  });
});
