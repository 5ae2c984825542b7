/**
 * Issue 10, item 13: `fleetwake agent uninstall HOST --purge` said "Stopped (pid N)" while that process
 * was still alive. stopAgent must return only once the agent has exited, and say so when it cannot.
 * The real stop script runs here through a fake connection that executes it with local sh, against
 * real processes whose argv looks like the daemon's (`node <agent> run --foreground`).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stopAgent } from '../../main/remote/agent-process.js';
import { Remote, type RemoteConn } from '../../main/remote/host.js';
import { layoutFor } from '../../main/remote/layout.js';
import type { ExecResult } from '../../main/ssh/connection.js';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.pid && c.exitCode === null) spawnSync('kill', ['-9', String(c.pid)]);
});

/** Runs each command with local sh, optionally as another user (`setpriv`), like sshd would. */
function localConn(asUid?: number): RemoteConn {
  return {
    ready: async () => undefined as never,
    exec: (command: string, opts: { timeoutMs?: number; stdin?: string } = {}) =>
      new Promise<ExecResult>((resolve, reject) => {
        const argv = asUid === undefined ? ['sh', '-c', command] : ['setpriv', `--reuid=${asUid}`, `--regid=${asUid}`, '--clear-groups', 'sh', '-c', command];
        const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], cwd: '/' });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c) => (stdout += c));
        child.stderr.on('data', (c) => (stderr += c));
        child.on('error', reject);
        child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
        child.stdin.end(opts.stdin ?? '');
      }),
  };
}

/** A fake agent daemon that ignores SIGTERM; resolves once it runs. */
async function fakeAgent(agentPath: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', "process.on('SIGTERM', () => {}); console.log('up'); setInterval(() => {}, 1000)", agentPath, 'run', '--foreground'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  children.push(child);
  await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
  return child;
}

/** Exited: no such process, or a zombie waiting to be reaped. */
function exited(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return /^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return true;
  }
}

const layout = (agentPath: string) => ({ ...layoutFor('user', os.tmpdir()), agentPath });

describe('stopAgent', () => {
  it('returns only once a daemon that ignores SIGTERM has exited', async () => {
    const agentPath = path.join(os.tmpdir(), `fleetwake-stop-${process.pid}-a`, 'fleetwake-agent.cjs');
    const agent = await fakeAgent(agentPath);
    const out = await stopAgent(new Remote(localConn()), layout(agentPath), 'detached');
    expect(out).toBe(`stopped: ${agent.pid}`);
    expect(exited(agent.pid!)).toBe(true);
  }, 60_000);

  it('fails, naming the pid, when the daemon is still alive after SIGKILL, instead of saying "stopped"', async () => {
    const agentPath = path.join(os.tmpdir(), `fleetwake-stop-${process.pid}-b`, 'fleetwake-agent.cjs');
    // Our daemon runs as root; the stop script runs as nobody, so its signals do not reach it.
    const agent = await fakeAgent(agentPath);
    const result = stopAgent(new Remote(localConn(65534)), layout(agentPath), 'detached');
    await expect(result).rejects.toThrow(new RegExp(`still running.*${agent.pid}`, 's'));
    expect(exited(agent.pid!)).toBe(false);
  }, 60_000);
});
