/**
 * idle.configure against clients on the agent's real unix socket: the RPC floors refuse absurdly short
 * timings, and the agent's settings stay as they were.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../remote-agent/config/index.js';
import { AgentDaemon, type DaemonDeps } from '../../remote-agent/daemon.js';
import type { AgentPaths } from '../../remote-agent/paths.js';
import { RPC_ERRORS, type IdleStatus } from '../../remote-agent/protocol.js';
import { AgentClientError, rpcCall } from '../../remote-agent/rpc/socket.js';
import { metricsSample } from '../support/builders.js';
import { FakeClock } from '../support/fake-clock.js';

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
  const paths: AgentPaths = {
    mode: 'user',
    configFile: join(dir, 'agent.yaml'),
    stateDir: join(dir, 'state'),
    socket: join(dir, 'agent.sock'),
    pidFile: join(dir, 'state', 'agent.pid'),
    logFile: join(dir, 'state', 'agent.log'),
  };
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
    idleChecks: {
      inhibit: async () => ({ status: 'clear', reason: 'none' }),
      sessions: async () => ({ status: 'clear', reason: 'none' }),
      ollama: async () => ({ status: 'unavailable', reason: 'no Ollama' }),
      custom: async () => ({ status: 'unavailable', reason: 'none' }),
    },
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
