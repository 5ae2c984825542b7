import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex, PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../remote-agent/config/index.js';
import { AgentDaemon, type DaemonDeps, type History, type Sampler } from '../../remote-agent/daemon.js';
import { PROTOCOL_VERSION, RPC_ERRORS, type HistoryRange, type MetricsSample } from '../../remote-agent/protocol.js';
import { FakeClock, flush } from '../support/fake-clock.js';
import { collectJsonLines } from '../support/streams.js';
import { metricsSample } from '../support/builders.js';
import { agentPathsIn, quietIdleChecks } from '../support/agent-daemon.js';

function fakeSample(t: number): MetricsSample {
  return metricsSample(t, { cpu: { percent: 1, perCore: [1] } });
}

const dirs: string[] = [];
const daemons: AgentDaemon[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(opts: { config?: string; sample?: (t: number) => Promise<MetricsSample> } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'fw-daemon-'));
  dirs.push(dir);
  const paths = agentPathsIn(dir);
  if (opts.config !== undefined) writeFileSync(paths.configFile, opts.config);
  const clock = new FakeClock(1_000_300);
  const calls = { samples: [] as number[], added: [] as MetricsSample[], flushed: 0, closed: 0, samplerOpts: [] as unknown[], queries: [] as HistoryRange[], exec: [] as string[][] };
  const sampler: Sampler = {
    sample: () => {
      calls.samples.push(clock.now());
      return opts.sample ? opts.sample(clock.now()) : Promise.resolve(fakeSample(clock.now()));
    },
    capabilities: () => ({ gpu: false, gpuReason: 'x', rapl: true }),
  };
  const history: History = {
    add: (s) => calls.added.push(s),
    query: (range) => {
      calls.queries.push(range);
      return { range, resolutionSeconds: 5, points: [] };
    },
    flush: () => calls.flushed++,
    close: () => calls.closed++,
  };
  const deps: DaemonDeps = {
    createSampler: (o) => {
      calls.samplerOpts.push(o);
      return sampler;
    },
    createHistory: () => history,
    probeGpu: async (path) => (path.endsWith('good-smi') ? { gpu: true, reason: null } : { gpu: false, reason: `nvidia-smi not found at ${path}` }),
    primaryInterface: () => ({ name: 'eth0', mac: 'aa:bb:cc:dd:ee:ff', ipv4: '10.0.0.2', netmask: '255.255.255.0', broadcast: '10.0.0.255' }),
    detectHost: async () => ({ systemd: true, docker: false, sudo: true }),
    hostname: () => 'gpu-box-1',
    clock,
    // Never the real system from a unit test: no `who`, no Ollama, no ethtool, no suspend command.
    idleChecks: quietIdleChecks(),
    exec: async (file, args) => {
      calls.exec.push([file, ...args]);
      return { code: 0, stdout: '', stderr: '', failure: null };
    },
    sendWol: async () => 3,
  };
  const logLines: string[] = [];
  const log = createLogger({ write: (l) => logLines.push(l) });
  const daemon = new AgentDaemon({ paths, deps, log, listen: false, watchConfig: false, env: { PATH: '' } });
  daemons.push(daemon);
  return { daemon, clock, calls, paths, logLines };
}

function connect(daemon: AgentDaemon) {
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  daemon.rpc.handle(Duplex.from({ readable: toServer, writable: toClient }));
  const lines: any[] = collectJsonLines(toClient);
  let id = 0;
  return {
    lines,
    async call(method: string, params?: unknown) {
      const myId = ++id;
      toServer.write(JSON.stringify({ jsonrpc: '2.0', id: myId, method, ...(params === undefined ? {} : { params }) }) + '\n');
      for (let i = 0; i < 100; i++) {
        const k = lines.findIndex((l) => l.id === myId);
        if (k !== -1) return lines.splice(k, 1)[0];
        await flush();
      }
      throw new Error(`no answer to ${method}`);
    },
  };
}

describe('AgentDaemon', () => {
  it('agent.info reports version, protocol, mode, capabilities, host and config', async () => {
    const { daemon, paths } = setup({ config: 'gpu:\n  nvidia_smi: /opt/good-smi\n' });
    await daemon.start();
    const c = connect(daemon);
    const { result } = await c.call('agent.info');
    expect(result).toMatchObject({
      version: '0.0.0-dev',
      protocolVersion: PROTOCOL_VERSION,
      mode: 'user',
      capabilities: { gpu: true, gpuReason: null, systemd: true, docker: false, sudo: true, rapl: true },
      hostname: 'gpu-box-1',
      primaryInterface: { name: 'eth0', mac: 'aa:bb:cc:dd:ee:ff' },
      pid: process.pid,
      nodeVersion: process.version,
      configPath: paths.configFile,
      stateDir: paths.stateDir,
      configError: null,
    });
  });

  it('reports why there is no GPU', async () => {
    const { daemon } = setup();
    await daemon.start();
    const { result } = await connect(daemon).call('agent.info');
    expect(result.capabilities.gpu).toBe(false);
    expect(result.capabilities.gpuReason).toBe('nvidia-smi not found at nvidia-smi');
  });

  it('samples at start, then on interval boundaries; subscribers get metrics.sample', async () => {
    const { daemon, clock, calls } = setup({ config: 'metrics:\n  interval_seconds: 5\n' });
    await daemon.start();
    await flush();
    expect(calls.samples).toEqual([1_000_300]);
    const c = connect(daemon);
    expect((await c.call('metrics.latest')).result.sampledAt).toBe(1_000_300);
    expect(await c.call('metrics.subscribe')).toMatchObject({ result: { intervalSeconds: 5 } });
    await clock.advance(10_000);
    expect(calls.samples).toEqual([1_000_300, 1_005_000, 1_010_000]);
    const notes = c.lines.filter((l) => l.method === 'metrics.sample');
    expect(notes.map((n) => n.params.sampledAt)).toEqual([1_005_000, 1_010_000]);
    expect(calls.added).toHaveLength(3);
    expect(await c.call('metrics.unsubscribe')).toMatchObject({ result: { ok: true } });
    await clock.advance(5_000);
    expect(c.lines.filter((l) => l.method === 'metrics.sample')).toHaveLength(2);
  });

  it('never overlaps samples: a slow sample skips slots', async () => {
    let release: () => void = () => undefined;
    const { daemon, clock, calls } = setup({
      config: 'metrics:\n  interval_seconds: 5\n',
      sample: (t) => new Promise((r) => { release = () => r(fakeSample(t)); }),
    });
    await daemon.start();
    await clock.advance(30_000);
    expect(calls.samples).toHaveLength(1); // still waiting on the first
    clock.t = 1_032_000;
    release();
    await flush();
    await clock.advance(3_000);
    expect(calls.samples).toEqual([1_000_300, 1_035_000]);
    release();
  });

  it('a sampler that throws is logged and the loop goes on', async () => {
    let n = 0;
    const { daemon, clock, calls, logLines } = setup({
      config: 'metrics:\n  interval_seconds: 1\n',
      sample: async (t) => {
        if (n++ % 2 === 0) throw new Error('boom');
        return fakeSample(t);
      },
    });
    await daemon.start();
    await clock.advance(5_000);
    expect(calls.samples.length).toBe(6);
    expect(daemon.counters.sampleErrors).toBe(3);
    expect(daemon.counters.samples).toBe(3);
    expect(logLines.some((l) => l.includes('sampling failed') && l.includes('boom'))).toBe(true);
  });

  it('keeps the last good config on a bad reload and reports it in agent.info', async () => {
    const { daemon, clock, calls, paths } = setup({ config: 'metrics:\n  interval_seconds: 2\n' });
    await daemon.start();
    const c = connect(daemon);
    writeFileSync(paths.configFile, '# broken\nmetrics:\n  interval_seconds: fast\n');
    expect(daemon.reloadConfig()).toBe('agent.yaml line 3: metrics.interval_seconds must be a whole number from 1 to 3600 (got "fast")');
    expect(daemon.config.metrics.intervalSeconds).toBe(2);
    expect((await c.call('agent.info')).result.configError).toBe('agent.yaml line 3: metrics.interval_seconds must be a whole number from 1 to 3600 (got "fast")');
    // Still sampling every 2 s.
    const before = calls.samples.length;
    await clock.advance(4_000);
    expect(calls.samples.length - before).toBe(2);
    // The per-sample mtime check picks up a fix (and an unknown key is an error too).
    writeFileSync(paths.configFile, 'metrics:\n  interval_seconds: 2\n  extra: 1\n');
    await clock.advance(2_000);
    expect(daemon.configError).toMatch(/unknown key "metrics\.extra"/);
    writeFileSync(paths.configFile, 'metrics:\n  interval_seconds: 3\n');
    await clock.advance(2_000);
    expect(daemon.configError).toBeNull();
    expect(daemon.config.metrics.intervalSeconds).toBe(3);
    expect((await c.call('agent.info')).result.configError).toBeNull();
    expect((await c.call('metrics.subscribe')).result.intervalSeconds).toBe(3);
  });

  it('an invalid config at start means defaults plus the error', async () => {
    const { daemon } = setup({ config: 'bogus: 1\n' });
    await daemon.start();
    expect(daemon.config.metrics.intervalSeconds).toBe(5);
    expect(daemon.configError).toMatch(/^agent\.yaml line 1: unknown key "bogus"/);
  });

  it('a changed gpu section re-creates the sampler and re-probes', async () => {
    const { daemon, calls, paths } = setup();
    await daemon.start();
    writeFileSync(paths.configFile, 'gpu:\n  nvidia_smi: /x/good-smi\n  timeout_seconds: 1\n');
    expect(daemon.reloadConfig()).toBeNull();
    expect(calls.samplerOpts.at(-1)).toEqual({ nvidiaSmiPath: '/x/good-smi', nvidiaSmiTimeoutMs: 1000, intervalMs: 5000, stateDir: paths.stateDir });
    expect((await connect(daemon).call('agent.info')).result.capabilities.gpu).toBe(true);
  });

  it('metrics.history delegates to the store and validates the range', async () => {
    const { daemon, calls } = setup();
    await daemon.start();
    const c = connect(daemon);
    expect(await c.call('metrics.history', { range: '24h' })).toMatchObject({ result: { range: '24h', resolutionSeconds: 5, points: [] } });
    expect(calls.queries).toEqual(['24h']);
    expect((await c.call('metrics.history', { range: '2d' })).error.code).toBe(RPC_ERRORS.INVALID_PARAMS);
    expect((await c.call('metrics.history')).error.code).toBe(RPC_ERRORS.INVALID_PARAMS);
    expect((await c.call('metrics.latest', { x: 1 })).error.code).toBe(RPC_ERRORS.INVALID_PARAMS);
  });

  it('stop flushes and closes the history and stops sampling', async () => {
    const { daemon, clock, calls } = setup({ config: 'metrics:\n  interval_seconds: 1\n' });
    await daemon.start();
    await daemon.stop();
    expect(calls.flushed).toBeGreaterThanOrEqual(1);
    expect(calls.closed).toBe(1);
    const n = calls.samples.length;
    await clock.advance(5_000);
    expect(calls.samples.length).toBe(n);
  });
});
