/**
 * idle.locked in agent.yaml against clients on the agent's real unix socket: a locked setting is refused
 * whatever its value and the agent's settings stay as they were; the RPC floors refuse absurdly short
 * timeouts; the on-box CLI meets the same lock.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../remote-agent/cli.js';
import { createLogger } from '../../remote-agent/config/index.js';
import { AgentDaemon, type DaemonDeps } from '../../remote-agent/daemon.js';
import { RPC_ERRORS, type IdleStatus } from '../../remote-agent/protocol.js';
import { AgentClientError, rpcCall } from '../../remote-agent/rpc/socket.js';
import { metricsSample } from '../support/builders.js';
import { FakeClock } from '../support/fake-clock.js';
import { agentPathsIn, quietIdleChecks } from '../support/agent-daemon.js';

const CONFIG = `metrics:
  interval_seconds: 5
idle:
  window_seconds: 300
  idle_timeout_seconds: 1800
  min_samples: 30
  enable_suspend: false
suspend:
  command: [/usr/local/bin/fake-suspend]
`;
const LOCKED_CONFIG = CONFIG.replace('enable_suspend: false\n', 'enable_suspend: false\n  locked: [enable_suspend, idle_timeout_seconds]\n');

const dirs: string[] = [];
const daemons: AgentDaemon[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A daemon listening on a real socket in a fresh folder; nothing of the real system is run. */
async function startAgent(config: string, opts: { settingsJson?: unknown } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'fw-lock-'));
  dirs.push(dir);
  const paths = agentPathsIn(dir);
  writeFileSync(paths.configFile, config);
  if (opts.settingsJson !== undefined) {
    mkdirSync(paths.stateDir, { recursive: true });
    writeFileSync(join(paths.stateDir, 'settings.json'), JSON.stringify(opts.settingsJson));
  }
  const clock = new FakeClock();
  const exec: string[][] = [];
  const deps: DaemonDeps = {
    createSampler: () => ({ sample: async () => metricsSample(clock.now(), { cpu: { percent: 1, perCore: [1] } }), capabilities: () => ({ gpu: false, gpuReason: 'x', rapl: false }) }),
    createHistory: () => ({ add: () => undefined, query: (range) => ({ range, resolutionSeconds: 5, points: [] }), flush: () => undefined, close: () => undefined }),
    probeGpu: async () => ({ gpu: false, reason: 'none' }),
    primaryInterface: () => ({ name: 'eth0', mac: 'aa:bb:cc:dd:ee:ff', ipv4: '10.0.0.2', netmask: '255.255.255.0', broadcast: '10.0.0.255' }),
    detectHost: async () => ({ systemd: true, docker: false, sudo: true }),
    hostname: () => 'gpu-box-1',
    clock,
    idleChecks: quietIdleChecks(),
    exec: async (file, args) => {
      exec.push([file, ...args]);
      return { code: 0, stdout: '', stderr: '', failure: null };
    },
    sendWol: async () => 3,
  };
  const logLines: string[] = [];
  const daemon = new AgentDaemon({ paths, deps, log: createLogger({ write: (l) => logLines.push(l) }), listen: true, watchConfig: false, env: { PATH: '' } });
  daemons.push(daemon);
  await daemon.start();
  const call = <R>(method: string, params: unknown = {}) => rpcCall<R>(paths.socket, method, params, 5000);
  /** The refusal of a call that must fail. */
  const refusal = async (method: string, params: unknown) => {
    const err = await call(method, params).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AgentClientError);
    return err as AgentClientError;
  };
  return { daemon, paths, clock, exec, logLines, call, refusal, settingsFile: join(paths.stateDir, 'settings.json') };
}

function cliIo(socket: string) {
  const out = { stdout: '', stderr: '' };
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on('data', (c: Buffer) => (out.stdout += c.toString()));
  stderr.on('data', (c: Buffer) => (out.stderr += c.toString()));
  return { out, io: { stdout, stderr, stdin: new PassThrough(), env: { FLEETWAKE_AGENT_SOCKET: socket, HOME: tmpdir() } } };
}

describe('idle.locked over the real socket', () => {
  it('refuses to switch suspend on with a 1 s timeout when agent.yaml locks both, and changes nothing', async () => {
    const a = await startAgent(LOCKED_CONFIG);
    const before = await a.call<IdleStatus>('idle.status');
    expect(before.settings).toMatchObject({ enableSuspend: false, idleTimeoutSeconds: 1800 });

    const err = await a.refusal('idle.configure', { settings: { enableSuspend: true, idleTimeoutSeconds: 1 } });
    expect(err.rpcCode).toBe(RPC_ERRORS.LOCKED);
    expect(err.message).toBe(
      `idleTimeoutSeconds, enableSuspend are locked by the box's administrator in ${a.paths.configFile} (idle.locked); nothing was changed`,
    );

    const after = await a.call<IdleStatus>('idle.status');
    expect(after.settings).toEqual(before.settings);
    expect(existsSync(a.settingsFile)).toBe(false);
    // Idle for far longer than the timeout it asked for: the box stays up.
    await a.clock.advance(120_000);
    expect(a.exec.filter((e) => e[0] === '/usr/local/bin/fake-suspend')).toEqual([]);
  });

  it('a locked key is refused even with its current value, and a request mixing locked and free keys changes neither', async () => {
    const a = await startAgent(LOCKED_CONFIG);
    expect((await a.refusal('idle.configure', { settings: { enableSuspend: false } })).message).toMatch(/^enableSuspend is locked by the box's administrator in /);
    const mixed = await a.refusal('idle.configure', { settings: { cpuIdleThreshold: 20, idleTimeoutSeconds: 3600 } });
    expect(mixed.rpcCode).toBe(RPC_ERRORS.LOCKED);
    expect(mixed.message).toMatch(/^idleTimeoutSeconds is locked by the box's administrator in /);
    expect((await a.call<IdleStatus>('idle.status')).settings.cpuIdleThreshold).toBe(10);
    // Free keys alone still go through.
    const ok = await a.call<IdleStatus>('idle.configure', { settings: { cpuIdleThreshold: 20 } });
    expect(ok.settings.cpuIdleThreshold).toBe(20);
  });

  it('reports what is locked and where, so the app can show it read-only', async () => {
    const a = await startAgent(LOCKED_CONFIG);
    const st = await a.call<IdleStatus>('idle.status');
    expect(st.locked).toEqual(['idleTimeoutSeconds', 'enableSuspend']);
    expect(st.configFile).toBe(a.paths.configFile);
    const open = await startAgent(CONFIG);
    expect((await open.call<IdleStatus>('idle.status')).locked).toEqual([]);
  });

  it('locked: all refuses every setting', async () => {
    const a = await startAgent(LOCKED_CONFIG.replace(/locked: .*/, 'locked: all'));
    const err = await a.refusal('idle.configure', { settings: { gpuIdleThreshold: 50 } });
    expect(err.rpcCode).toBe(RPC_ERRORS.LOCKED);
    expect((await a.call<IdleStatus>('idle.status')).locked).toHaveLength(7);
  });

  it('an override the app set before the lock no longer counts, and is dropped', async () => {
    const a = await startAgent(LOCKED_CONFIG, { settingsJson: { version: 1, idle: { enableSuspend: true, idleTimeoutSeconds: 900, cpuIdleThreshold: 25 } } });
    const st = await a.call<IdleStatus>('idle.status');
    expect(st.settings).toMatchObject({ enableSuspend: false, idleTimeoutSeconds: 1800, cpuIdleThreshold: 25 });
    expect(JSON.parse(readFileSync(a.settingsFile, 'utf8')).idle).toEqual({ cpuIdleThreshold: 25 });
  });

  it('a lock added by a reload takes effect at once; a bad lock list keeps the last good config and says why', async () => {
    const a = await startAgent(CONFIG);
    await a.call('idle.configure', { settings: { enableSuspend: true } });
    writeFileSync(a.paths.configFile, LOCKED_CONFIG);
    expect(a.daemon.reloadConfig()).toBeNull();
    expect((await a.call<IdleStatus>('idle.status')).settings.enableSuspend).toBe(false);
    expect((await a.refusal('idle.configure', { settings: { enableSuspend: true } })).rpcCode).toBe(RPC_ERRORS.LOCKED);

    writeFileSync(a.paths.configFile, LOCKED_CONFIG.replace('idle_timeout_seconds]', 'idle_timeout]'));
    expect(a.daemon.reloadConfig()).toMatch(/^agent\.yaml line 8: idle\.locked: unknown setting "idle_timeout" \(lockable: /);
    expect((await a.call<IdleStatus>('idle.status')).locked).toEqual(['idleTimeoutSeconds', 'enableSuspend']);
    expect((await a.refusal('idle.configure', { settings: { idleTimeoutSeconds: 600 } })).rpcCode).toBe(RPC_ERRORS.LOCKED);
  });
});

describe('idle.configure floors', () => {
  it('refuses a timeout under a minute and a window under 10 s over the socket, saying agent.yaml may go lower', async () => {
    const a = await startAgent(CONFIG);
    const err = await a.refusal('idle.configure', { settings: { enableSuspend: true, idleTimeoutSeconds: 1, windowSeconds: 2 } });
    expect(err.rpcCode).toBe(RPC_ERRORS.INVALID_PARAMS);
    expect(err.message).toBe(
      'invalid params: idleTimeoutSeconds must be a whole number from 60 to 604800 (got 1; shorter only in agent.yaml: idle.idle_timeout_seconds); ' +
        'windowSeconds must be a whole number from 10 to 86400 (got 2; shorter only in agent.yaml: idle.window_seconds)',
    );
    expect((await a.call<IdleStatus>('idle.status')).settings).toMatchObject({ enableSuspend: false, idleTimeoutSeconds: 1800, windowSeconds: 300 });
    expect((await a.call<IdleStatus>('idle.configure', { settings: { idleTimeoutSeconds: 60, windowSeconds: 150 } })).settings).toMatchObject({ idleTimeoutSeconds: 60, windowSeconds: 150 });
  });

  it('agent.yaml itself may still set short timings (an admin, a test)', async () => {
    const a = await startAgent(CONFIG.replace('window_seconds: 300', 'window_seconds: 5').replace('idle_timeout_seconds: 1800', 'idle_timeout_seconds: 3').replace('min_samples: 30', 'min_samples: 1'));
    expect((await a.call<IdleStatus>('idle.status')).settings).toMatchObject({ windowSeconds: 5, idleTimeoutSeconds: 3 });
  });

  it('an override under the floor left by an older agent is dropped at start', async () => {
    const a = await startAgent(CONFIG, { settingsJson: { version: 1, idle: { idleTimeoutSeconds: 1, cpuIdleThreshold: 25 } } });
    expect((await a.call<IdleStatus>('idle.status')).settings).toMatchObject({ idleTimeoutSeconds: 1800, cpuIdleThreshold: 25 });
    expect(a.logLines.join('')).toMatch(/idle settings file problem .*idleTimeoutSeconds must be a whole number from 60/);
  });
});

describe('fleetwake-agent suspend on the box', () => {
  it('enable meets the same lock: exit 1, the reason on stderr, nothing changed; status lists the locks', async () => {
    const a = await startAgent(LOCKED_CONFIG);
    const en = cliIo(a.paths.socket);
    expect(await main(['suspend', 'enable'], en.io)).toBe(1);
    expect(en.out.stderr).toBe(`fleetwake-agent: enableSuspend is locked by the box's administrator in ${a.paths.configFile} (idle.locked); nothing was changed\n`);
    expect((await a.call<IdleStatus>('idle.status')).settings.enableSuspend).toBe(false);

    const st = cliIo(a.paths.socket);
    expect(await main(['suspend', 'status'], st.io)).toBe(0);
    expect(st.out.stdout).toContain(`\nlocked:   idle.idle_timeout_seconds, idle.enable_suspend (by the administrator in ${a.paths.configFile})\n`);
  });
});
