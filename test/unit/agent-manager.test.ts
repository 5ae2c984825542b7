import { EventEmitter } from 'node:events';
import { Duplex, PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentHostConnection } from '../../main/agent/client.js';
import type { InstallManifest } from '../../main/remote/manifest.js';
import { AgentManager, type AgentManagerDeps } from '../../main/agent/manager.js';
import type { AgentStatus, HostState, HostStatus, MetricsBatch } from '../../preload/api.js';
import { PROTOCOL_VERSION, type AgentInfo, type MetricsSample } from '../../remote-agent/protocol.js';
import { hostStatus, metricsSample } from '../support/builders.js';
import { duplexPair } from '../support/streams.js';
import { waitFor } from '../support/wait-for.js';

const BUNDLED = '1.0.0+abc';

function sample(t: number): MetricsSample {
  return metricsSample(t);
}

/**
 * One fake server: an SSH connection (status events, exec, fake session channels for streamlocal and the
 * exec bridge) and the agent behind it.
 */
class FakeHost extends EventEmitter implements AgentHostConnection {
  status: HostStatus;
  manifest: InstallManifest | null;
  agent = { running: true, version: BUNDLED, protocolVersion: PROTOCOL_VERSION, startWorks: true };
  /** Server ends of open agent connections; subscribed ones get samples. */
  open = new Set<Duplex>();
  subscribed = new Set<Duplex>();
  commands: string[] = [];

  constructor(
    readonly name: string,
    private readonly bus: EventEmitter,
    supervisor: InstallManifest['supervisor'] = 'detached',
  ) {
    super();
    this.status = hostStatus(name, 'offline');
    this.manifest = {
      version: BUNDLED,
      protocolVersion: PROTOCOL_VERSION,
      mode: 'user',
      installDir: `/home/${name}/.local/share/fleetwake`,
      agentPath: `/home/${name}/.local/share/fleetwake/fleetwake-agent.cjs`,
      nodePath: '/usr/bin/node',
      uploadedRuntime: false,
      socketPath: `/home/${name}/.local/share/fleetwake/run/agent.sock`,
      configFile: `/home/${name}/.config/fleetwake/agent.yaml`,
      stateDir: `/home/${name}/.local/share/fleetwake/state`,
      supervisor,
      installedAt: '2025-01-01T00:00:00Z',
    };
  }

  setState(state: HostState): void {
    this.status = { name: this.name, state, since: Date.now() };
    if (state !== 'online') this.killConnections();
    this.emit('status', this.status);
    this.bus.emit('status', this.status);
  }

  killConnections(): void {
    for (const s of this.open) s.destroy();
  }

  stopAgent(): void {
    this.agent.running = false;
    this.killConnections();
  }

  push(t: number): void {
    for (const s of this.subscribed) s.write(JSON.stringify({ jsonrpc: '2.0', method: 'metrics.sample', params: sample(t) }) + '\n');
  }

  private info(): AgentInfo {
    return {
      version: this.agent.version,
      protocolVersion: this.agent.protocolVersion,
      mode: 'user',
      capabilities: { gpu: false, gpuReason: null, systemd: false, docker: false, sudo: false, rapl: false },
      hostname: this.name,
      primaryInterface: null,
      pid: 1,
      startedAt: 1,
      nodeVersion: 'v20',
      configPath: '/c',
      stateDir: '/s',
      configError: null,
    };
  }

  private serve(s: Duplex): void {
    this.open.add(s);
    s.on('close', () => {
      this.open.delete(s);
      this.subscribed.delete(s);
    });
    let buf = '';
    s.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const req = JSON.parse(buf.slice(0, nl)) as { id: number; method: string; params: { range?: string } };
        buf = buf.slice(nl + 1);
        const results: Record<string, () => unknown> = {
          'agent.info': () => this.info(),
          'metrics.latest': () => sample(0),
          'metrics.subscribe': () => {
            this.subscribed.add(s);
            return { intervalSeconds: 1 };
          },
          'metrics.history': () => ({ range: req.params.range, resolutionSeconds: 5, points: [{ t: 1 }] }),
        };
        const r = results[req.method];
        const reply = r ? { jsonrpc: '2.0', id: req.id, result: r() } : { jsonrpc: '2.0', id: req.id, error: { code: -32601, message: 'nope' } };
        if (!s.destroyed) s.write(JSON.stringify(reply) + '\n');
      }
    });
  }

  private readonly ssh = {
    streamLocal: (path: string): Promise<Duplex> =>
      new Promise((resolve, reject) =>
        setImmediate(() => {
          if (!this.agent.running || path !== this.manifest?.socketPath) return reject(new Error('(SSH) Channel open failure: open failed'));
          const [c, s] = duplexPair();
          this.serve(s);
          resolve(c);
        }),
      ),
    exec: (command: string): Promise<Duplex> => {
      this.commands.push(command);
      const [c, s] = duplexPair();
      const stderr = new PassThrough();
      Object.assign(c, { stderr });
      return new Promise((resolve) =>
        setImmediate(() => {
          resolve(c);
          if (!this.agent.running) {
            stderr.write(`fleetwake-agent rpc: connect ENOENT ${this.manifest?.socketPath}\n`);
            c.emit('exit', 1);
            s.end();
          } else this.serve(s);
        }),
      );
    },
  };

  async ready() {
    if (this.status.state !== 'online') throw new Error('not connected');
    return this.ssh as never;
  }

  async exec(command: string) {
    if (this.status.state !== 'online') throw new Error('not connected');
    this.commands.push(command);
    const ok = (stdout = '') => ({ code: 0, signal: null, stdout, stderr: '' });
    if (command === 'true') return ok();
    if (command.includes('install.json')) {
      return ok(this.manifest ? `\n@@fleetwake-install-json@@ $HOME/.local/share/fleetwake/install.json\n${JSON.stringify(this.manifest)}` : '');
    }
    if (command.includes("'run' '--detach'") || command.includes("'--detach'")) {
      if (!this.agent.startWorks) return { code: 1, signal: null, stdout: '', stderr: 'cannot start: config broken' };
      this.agent.running = true;
      return ok();
    }
    return { code: 127, signal: null, stdout: '', stderr: 'unknown command' };
  }
}

interface Harness {
  manager: AgentManager;
  hosts: Map<string, FakeHost>;
  statuses: AgentStatus[];
  batches: MetricsBatch[];
  waitFor(name: string, state: AgentStatus['state'], pred?: (s: AgentStatus) => boolean): Promise<AgentStatus>;
}

const harnesses: Harness[] = [];
afterEach(() => {
  for (const h of harnesses.splice(0)) h.manager.close();
});

function setup(hostList: FakeHost[] | ((bus: EventEmitter) => FakeHost[]), deps: Partial<AgentManagerDeps> = {}): Harness {
  const bus = new EventEmitter();
  const list = typeof hostList === 'function' ? hostList(bus) : hostList;
  const hosts = new Map(list.map((h) => [h.name, h]));
  const statuses: AgentStatus[] = [];
  const batches: MetricsBatch[] = [];
  const waiters = new Set<() => void>();
  const manager = new AgentManager({
    connections: { get: (n) => hosts.get(n)!, names: () => [...hosts.keys()] },
    statusEvents: (l) => {
      bus.on('status', l);
      return () => bus.off('status', l);
    },
    bundledVersion: BUNDLED,
    onStatus: (s) => {
      statuses.push(s);
      for (const w of [...waiters]) w();
    },
    onMetrics: (b) => batches.push(b),
    batchIntervalMs: 50,
    retryMs: 100,
    restartIntervalMs: 60_000,
    restartWaitMs: 500,
    callTimeoutMs: 2_000,
    ...deps,
  });
  const waitFor = (name: string, state: AgentStatus['state'], pred: (s: AgentStatus) => boolean = () => true) =>
    new Promise<AgentStatus>((resolve, reject) => {
      const check = () => {
        const s = manager.status(name);
        if (s.state === state && pred(s)) {
          waiters.delete(check);
          clearTimeout(timer);
          resolve(s);
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`${name} not ${state}; now ${JSON.stringify(manager.status(name))}`));
      }, 3000);
      waiters.add(check);
      check();
    });
  const h = { manager, hosts, statuses, batches, waitFor };
  harnesses.push(h);
  return h;
}

/** Waits until `cond` holds; the timeout error quotes the condition's source. */
const until = (cond: () => boolean, ms = 3000) => waitFor(String(cond), cond, { timeoutMs: ms, intervalMs: 10 });

describe('AgentManager', () => {
  it('goes running for an online host, pushes batched metrics, keeps latest, answers history', async () => {
    const t = setup((bus) => [new FakeHost('a', bus), new FakeHost('b', bus)]);
    const a = t.hosts.get('a')!;
    const b = t.hosts.get('b')!;
    a.status = hostStatus('a', 'online'); // online before the manager starts
    t.manager.start();
    const s = await t.waitFor('a', 'running');
    expect(s).toMatchObject({ version: BUNDLED, mode: 'user', info: { hostname: 'a' } });
    expect(t.manager.status('b').state).toBe('unknown');
    expect(t.manager.transport('a')).toBe('streamlocal');
    b.setState('online');
    await t.waitFor('b', 'running');
    await until(() => a.subscribed.size === 1 && b.subscribed.size === 1);
    t.batches.length = 0;
    a.push(100);
    b.push(100);
    a.push(101);
    await until(() => t.batches.length > 0);
    await new Promise((r) => setTimeout(r, 80));
    expect(t.batches).toHaveLength(1);
    expect(t.batches[0]!.samples.map((x) => [x.name, x.sample.sampledAt])).toEqual([
      ['b', 100],
      ['a', 101],
    ]);
    expect(t.manager.latest('a')?.sampledAt).toBe(101);
    expect(await t.manager.history('a', '24h')).toEqual({ name: 'a', range: '24h', resolutionSeconds: 5, points: [{ t: 1 }] });
    expect(t.manager.statuses().map((x) => x.state)).toEqual(['running', 'running']);
  });

  it('not-installed without a manifest; installing during deploy; refresh() after it', async () => {
    const t = setup((bus) => [new FakeHost('a', bus)]);
    const a = t.hosts.get('a')!;
    const m = a.manifest!;
    a.manifest = null;
    t.manager.start();
    a.setState('online');
    await t.waitFor('a', 'not-installed');
    t.manager.setInstalling('a', 'uploading the agent');
    expect(t.manager.status('a')).toMatchObject({ state: 'installing', message: 'uploading the agent' });
    // Host status events during the deploy do not disturb the installing state.
    a.setState('online');
    await new Promise((r) => setTimeout(r, 30));
    expect(t.manager.status('a').state).toBe('installing');
    a.manifest = m;
    const after = await t.manager.refresh('a');
    expect(after.state).toBe('running');
    expect(t.statuses.map((s) => s.state)).toEqual(['not-installed', 'installing', 'running']);
  });

  it('shows outdated for another version (metrics still flow) and for another protocol (no metrics calls)', async () => {
    const t = setup((bus) => [new FakeHost('v', bus), new FakeHost('p', bus)]);
    const v = t.hosts.get('v')!;
    const p = t.hosts.get('p')!;
    v.agent.version = '0.9.0+old';
    p.agent.protocolVersion = PROTOCOL_VERSION + 1;
    t.manager.start();
    v.setState('online');
    p.setState('online');
    const sv = await t.waitFor('v', 'outdated');
    expect(sv.message).toMatch(/0\.9\.0\+old.*1\.0\.0\+abc/);
    const sp = await t.waitFor('p', 'outdated');
    expect(sp.message).toMatch(/protocol/);
    await until(() => v.subscribed.size === 1);
    v.push(5);
    await until(() => t.manager.latest('v')?.sampledAt === 5);
    expect(p.subscribed.size).toBe(0);
    await expect(t.manager.history('p', '1h')).rejects.toThrow(/not reachable/);
  });

  it('restarts a detached agent that is not running, at most once per interval', async () => {
    const t = setup((bus) => [new FakeHost('d', bus)]);
    const d = t.hosts.get('d')!;
    d.agent.running = false;
    t.manager.start();
    d.setState('online');
    await t.waitFor('d', 'running');
    const starts = () => d.commands.filter((c) => c.includes("'--detach'"));
    // Restarted with the deploy's own files, whatever the session's environment says.
    expect(starts()).toEqual([
      `FLEETWAKE_AGENT_CONFIG='/home/d/.config/fleetwake/agent.yaml' FLEETWAKE_AGENT_STATE='/home/d/.local/share/fleetwake/state' FLEETWAKE_AGENT_SOCKET='/home/d/.local/share/fleetwake/run/agent.sock' '/usr/bin/node' '/home/d/.local/share/fleetwake/fleetwake-agent.cjs' 'run' '--mode' 'user' '--detach'`,
    ]);
    // The bridge was tried before the restart, and reported ENOENT.
    expect(d.commands.some((c) => c.endsWith("'rpc'"))).toBe(true);

    // It dies again within the minute: no second restart, unreachable with the bridge's reason.
    d.stopAgent();
    const s = await t.waitFor('d', 'unreachable', (x) => /restarted/.test(x.message ?? ''));
    expect(s.message).toMatch(/agent not running.*ENOENT/);
    await new Promise((r) => setTimeout(r, 300));
    expect(starts()).toHaveLength(1);
    expect(t.manager.latest('d')).not.toBeNull();
  });

  it('restarts again after the interval; reports a failing restart', async () => {
    const t = setup((bus) => [new FakeHost('d', bus)], { restartIntervalMs: 200 });
    const d = t.hosts.get('d')!;
    d.agent.running = false;
    d.agent.startWorks = false;
    t.manager.start();
    d.setState('online');
    const s = await t.waitFor('d', 'unreachable', (x) => /restarting it failed/.test(x.message ?? ''));
    expect(s.message).toMatch(/config broken/);
    d.agent.startWorks = true;
    await t.waitFor('d', 'running');
    expect(d.commands.filter((c) => c.includes("'--detach'")).length).toBe(2);
  });

  it('does not restart a systemd-supervised agent; says why it is unreachable and retries', async () => {
    const t = setup((bus) => [new FakeHost('s', bus, 'systemd-user')]);
    const s = t.hosts.get('s')!;
    s.agent.running = false;
    t.manager.start();
    s.setState('online');
    const st = await t.waitFor('s', 'unreachable');
    expect(st.message).toMatch(/agent not running.*ENOENT/);
    expect(s.commands.some((c) => c.includes('--detach'))).toBe(false);
    s.agent.running = true; // systemd brought it back
    await t.waitFor('s', 'running');
  });

  it('offline -> unreachable "host offline" keeping metrics and closing channels; online -> running again', async () => {
    const t = setup((bus) => [new FakeHost('a', bus)]);
    const a = t.hosts.get('a')!;
    t.manager.start();
    a.setState('online');
    await t.waitFor('a', 'running');
    await until(() => a.subscribed.size === 1);
    a.push(7);
    await until(() => t.manager.latest('a')?.sampledAt === 7);
    const serverEnds = [...a.open];
    a.setState('offline');
    const off = await t.waitFor('a', 'unreachable');
    expect(off.message).toBe('host offline');
    expect(t.manager.latest('a')?.sampledAt).toBe(7);
    expect(serverEnds.every((s) => s.destroyed)).toBe(true);
    await until(() => a.open.size === 0);
    a.setState('connecting');
    a.setState('online');
    await t.waitFor('a', 'running');
    expect(a.open.size).toBe(1); // exactly one agent connection, no leaks
  });

  it('reconnects when the agent connection drops while the host stays online', async () => {
    const t = setup((bus) => [new FakeHost('a', bus, 'systemd-user')]);
    const a = t.hosts.get('a')!;
    t.manager.start();
    a.setState('online');
    await t.waitFor('a', 'running');
    a.killConnections(); // e.g. systemd restarted the agent
    await t.waitFor('a', 'unreachable', (s) => /connection lost/.test(s.message ?? ''));
    await t.waitFor('a', 'running');
    expect(a.open.size).toBe(1);
  });

  it('contains throwing listeners and survives close() mid-flight', async () => {
    const t = setup((bus) => [new FakeHost('a', bus)], {
      onStatus: () => {
        throw new Error('listener broke');
      },
    });
    const a = t.hosts.get('a')!;
    t.manager.start();
    expect(() => a.setState('online')).not.toThrow();
    await until(() => t.manager.status('a').state === 'running');
    t.manager.close();
    await until(() => a.open.size === 0);
    expect(() => a.setState('offline')).not.toThrow();
  });
});
