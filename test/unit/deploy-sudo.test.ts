import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { deployAgent, type DeployContext, type ProgressUpdate } from '../../main/deploy/index.js';

const PASSWORD = "s3cret 'pw' $(x)";

const PROBE = `@@uname\nLinux\nx86_64\n@@glibc\nglibc 2.36\n@@systemd\nno\n@@id\n1000\nalice\n@@home\n/home/alice\n@@sudo\npassword\n@@node\n/usr/bin/node\tv20.19.0\n@@end\n`;

/** A fake connection: answers the probe and manifest read, the sudo check, and stops at the lock. */
function fakeConn() {
  const calls: { cmd: string; stdin: string | undefined }[] = [];
  const conn = {
    ready: async () => {
      throw new Error('no SFTP in this test');
    },
    relogin: async () => {
      throw new Error('no fresh login in this test');
    },
    exec: async (cmd: string, opts: { timeoutMs?: number; stdin?: string } = {}) => {
      calls.push({ cmd, stdin: opts.stdin });
      if (cmd.includes('@@uname')) return { code: 0, signal: null, stdout: PROBE, stderr: '' };
      if (cmd.includes('install.json')) return { code: 0, signal: null, stdout: '', stderr: '' };
      if (cmd === `sudo -S -p '' sh -c true`) {
        return opts.stdin === `${PASSWORD}\n`
          ? { code: 0, signal: null, stdout: '', stderr: '' }
          : { code: 1, signal: null, stdout: '', stderr: 'sudo: 1 incorrect password attempt\n' };
      }
      throw new Error('STOP');
    },
  };
  return { conn, calls };
}

function ctxWith(answer: string | null) {
  const { conn, calls } = fakeConn();
  const dir = mkdtempSync(path.join(tmpdir(), 'fwt-sudo-'));
  const bundle = path.join(dir, 'agent.cjs');
  const text = "console.log('1.2.3+abc')\n";
  writeFileSync(bundle, text);
  const log: ProgressUpdate[] = [];
  let asked = 0;
  const ctx: DeployContext = {
    conn,
    hostName: 'h',
    onProgress: (p) => log.push(p),
    askSudoPassword: async () => {
      asked++;
      return answer;
    },
    agentBundle: bundle,
    // A bundle of this test's own, so pinned here rather than by the build.
    pins: { agent: { version: '1.2.3+abc', sha256: createHash('sha256').update(text).digest('hex'), size: text.length }, runtimes: {} },
  };
  return { ctx, calls, log, asked: () => asked };
}

describe('sudo with a password', () => {
  it('asks, sends the password only on stdin, and runs root steps with sudo -S', async () => {
    const t = ctxWith(PASSWORD);
    await expect(deployAgent(t.ctx, { mode: 'auto' })).rejects.toThrow('STOP');
    expect(t.asked()).toBe(1);
    expect(t.log.find((p) => p.step === 'mode' && p.state === 'done')?.message).toMatch(/^System mode \(sudo\): \/opt\/fleetwake/);
    const lock = t.calls.at(-1)!;
    expect(lock.cmd.startsWith(`sudo -S -p '' sh -c `)).toBe(true);
    expect(lock.cmd).toContain('.deploy.lock');
    expect(lock.stdin).toBe(`${PASSWORD}\n`);
    for (const c of t.calls) expect(c.cmd).not.toContain('s3cret');
    for (const p of t.log) expect(p.message).not.toContain('s3cret');
  });

  it('a refused password falls back to user mode in auto', async () => {
    const t = ctxWith('wrong');
    await expect(deployAgent(t.ctx, { mode: 'auto' })).rejects.toThrow('STOP');
    expect(t.log.find((p) => p.step === 'mode' && p.state === 'done')?.message).toMatch(/^User mode: sudo refused: sudo: 1 incorrect password attempt/);
    const lock = t.calls.at(-1)!;
    expect(lock.cmd.startsWith('sh -c ')).toBe(true);
    expect(lock.cmd).toContain('/home/alice/.local/share/fleetwake');
  });

  it('a cancelled prompt means user mode in auto, and an error when system mode was asked for', async () => {
    const t = ctxWith(null);
    await expect(deployAgent(t.ctx, { mode: 'auto' })).rejects.toThrow('STOP');
    expect(t.log.find((p) => p.step === 'mode' && p.state === 'done')?.message).toMatch(/^User mode: the sudo password was not given/);

    const s = ctxWith(null);
    await expect(deployAgent(s.ctx, { mode: 'system' })).rejects.toThrow(/System mode needs root or sudo: the sudo password was not given/);
  });
});
