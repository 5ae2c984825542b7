import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installFakeNvidiaSmi } from '../support/fake-gpu-host.js';
import { generateKey, type GeneratedKey } from '../support/keys.js';
import { requireTools } from '../support/require-tools.js';
import { startSshd, type SshdHandle } from '../support/sshd.js';
import { authorizeKey, ensureUser } from '../support/users.js';

// The whole agent loop as a user scripts it: CLI -> core -> ssh -> deploy -> agent -> metrics.
const run = promisify(execFile);
const BIN = join(import.meta.dirname, '..', '..', 'bin', 'fleetwake.cjs');
const USER = 'fwtagentcli';
const CAPTURE = 'linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01.txt';

/**
 * This user never installs a system agent, but the machine may run one (an administrator's, or a
 * test's beside this file). Then a user without an install of its own sees that one, and is told how
 * to reach it rather than "not installed".
 */
const systemAgentHere = () => existsSync('/opt/fleetwake/install.json');
const ONLY_FOR_GROUP = "the system agent's socket /run/fleetwake/agent.sock is only for group fleetwake";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(home: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { PATH: process.env.PATH, HOME: join(home, 'home'), FLEETWAKE_HOME: join(home, 'data') }, timeout: 90_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

let key: GeneratedKey;
let sshd: SshdHandle;
let home: string;
let userHome: string;

beforeAll(async () => {
  requireTools();
  const dir = mkdtempSync(join(tmpdir(), 'fleetwake-agentcli-'));
  chmodSync(dir, 0o755);
  // A fake nvidia-smi answering from a real H100 capture, first on the host's PATH.
  const gpu = installFakeNvidiaSmi(dir, CAPTURE);

  key = await generateKey(dir, { type: 'ed25519', name: 'agentcli' });
  const user = await ensureUser(USER);
  userHome = user.home;
  await authorizeKey(USER, key.publicKey);
  sshd = await startSshd({
    allowUsers: [USER],
    passwordAuthentication: false,
    extraConfig: [gpu.sshdSetEnv],
  });
  home = mkdtempSync(join(tmpdir(), 'fleetwake-agentcli-home-'));
  const add = await cli(home, ['hosts', 'add', 'gpu', '--host', sshd.host, '--port', String(sshd.port), '--user', USER, '--identity', key.privatePath]);
  expect(add.code, add.stderr).toBe(0);
  const trust = await cli(home, ['trust', 'gpu', '--fingerprint', sshd.hostKeyFingerprint]);
  expect(trust.code, trust.stderr).toBe(0);
});

afterAll(async () => {
  await cli(home, ['agent', 'uninstall', 'gpu', '--purge']).catch(() => undefined);
  await sshd?.destroy();
});

describe('fleetwake agent and metrics over real sshd', () => {
  it('before deploy: not installed, and metrics says how to fix it', async () => {
    const st = await cli(home, ['agent', 'status', 'gpu', '--json']);
    expect(st.code).toBe(1);
    if (systemAgentHere()) {
      expect(JSON.parse(st.stdout)).toMatchObject({ installed: true, running: false, state: 'unreachable', mode: 'system' });
      expect(JSON.parse(st.stdout).message).toContain(ONLY_FOR_GROUP);
      return;
    }
    expect(JSON.parse(st.stdout)).toMatchObject({ installed: false, running: false, state: 'not-installed' });
    const m = await cli(home, ['metrics', 'gpu']);
    expect(m.code).toBe(1);
    expect(m.stderr).toMatch(/fleetwake agent deploy gpu/);
  });

  it('deploys in user mode with progress, then reports true metrics and GPU data', async () => {
    const d = await cli(home, ['agent', 'deploy', 'gpu', '--json']);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stderr).toMatch(/\[ok\] probe:/);
    expect(d.stderr).toMatch(/\[ok\] verify:/);
    const deployed = JSON.parse(d.stdout);
    expect(deployed).toMatchObject({ installed: true, running: true, mode: 'user', state: 'running' });

    const st = JSON.parse((await cli(home, ['agent', 'status', 'gpu', '--json'])).stdout);
    expect(st).toMatchObject({ installed: true, running: true, mode: 'user', version: deployed.version });
    const bundled = readFileSync(join(import.meta.dirname, '..', '..', 'resources', 'agent', 'fleetwake-agent.version'), 'utf8').trim();
    expect(st.version).toBe(bundled);

    const m = await cli(home, ['metrics', 'gpu', '--json']);
    expect(m.code, m.stderr).toBe(0);
    const sample = JSON.parse(m.stdout);
    const memTotalKiB = Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))![1]);
    expect(sample.memory.totalBytes).toBe(memTotalKiB * 1024);
    expect(sample.memory.usedBytes).toBeGreaterThan(0);
    expect(sample.memory.usedBytes).toBeLessThan(sample.memory.totalBytes);
    expect(Date.now() - sample.sampledAt).toBeLessThan(60_000);
    expect(sample.gpuError).toBeNull();
    expect(sample.gpus).toEqual([
      expect.objectContaining({
        index: 0,
        name: 'NVIDIA H100 80GB HBM3',
        utilPercent: 100,
        memUsedBytes: 19818 * 1024 * 1024,
        memTotalBytes: 81559 * 1024 * 1024,
        tempC: 59,
        powerW: 631.95,
        powerLimitW: 700,
      }),
    ]);
    expect(sample.gpus[0].uuid).toMatch(/^GPU-/);
    expect(sample.gpuProcesses.length).toBe(3);

    const human = await cli(home, ['metrics', 'gpu']);
    expect(human.stdout).toMatch(/gpu 0 +NVIDIA H100 80GB HBM3 +100 %/);
  });

  it('a killed agent is started again when the app next looks', async () => {
    const manifest = JSON.parse(readFileSync(join(userHome, '.local/share/fleetwake/install.json'), 'utf8'));
    expect(manifest.supervisor).toBe('detached');
    const pids = async () => (await run('pgrep', ['-u', USER, '-f', `${manifest.agentPath} run`]).catch(() => ({ stdout: '' }))).stdout.trim();
    const before = await pids();
    expect(before).toMatch(/^\d+$/);
    await run('pkill', ['-KILL', '-u', USER, '-f', `${manifest.agentPath} run`]);
    await expect.poll(pids).toBe('');
    const st = await cli(home, ['agent', 'status', 'gpu', '--json']);
    expect(st.code, st.stderr).toBe(0);
    expect(JSON.parse(st.stdout)).toMatchObject({ running: true, state: 'running' });
    const after = await pids();
    expect(after).toMatch(/^\d+$/);
    expect(after).not.toBe(before);
  });

  it('uninstall --purge leaves nothing behind', async () => {
    const u = await cli(home, ['agent', 'uninstall', 'gpu', '--purge', '--json']);
    if (systemAgentHere()) {
      // Its own agent is gone; the exit code and status are the system agent's, which it cannot reach.
      expect(u.stderr).toMatch(/Leaving the system agent in \/opt\/fleetwake/);
      expect(u.code, u.stderr).toBe(1);
      expect(JSON.parse(u.stdout)).toMatchObject({ mode: 'system', state: 'unreachable' });
    } else {
      expect(u.code, u.stderr).toBe(0);
      expect(JSON.parse(u.stdout)).toMatchObject({ installed: false, state: 'not-installed' });
    }
    const { stdout } = await run('find', [join(userHome, '.local/share'), join(userHome, '.config'), '-path', '*fleetwake*']).catch((e) => e);
    expect(String(stdout ?? '').trim()).toBe('');
  });

  it('bad usage exits 2', async () => {
    expect((await cli(home, ['agent', 'deploy', 'gpu', '--mode', 'sideways'])).code).toBe(2);
    expect((await cli(home, ['agent', 'launch', 'gpu'])).code).toBe(2);
    expect((await cli(home, ['metrics'])).code).toBe(2);
    expect((await cli(home, ['agent', 'status', 'nope'])).code).toBe(2);
  });
});
