import { EventEmitter } from 'node:events';
import { Duplex, PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  AgentClient,
  AgentRpcError,
  AgentTimeoutError,
  AgentUnavailableError,
  classifyBridgeFailure,
  openAgentClient,
  type AgentHostConnection,
} from '../../main/agent/client.js';
import { agentCommand } from '../../main/remote/layout.js';
import { ManifestError, readManifest, type InstallManifest } from '../../main/remote/manifest.js';
import { shellQuote } from '../../main/remote/shell.js';
import { MAX_MESSAGE_BYTES, PROTOCOL_VERSION, RPC_ERRORS, type AgentInfo, type MetricsSample } from '../../remote-agent/protocol.js';
import { hostStatus, metricsSample } from '../support/builders.js';
import { duplexPair } from '../support/streams.js';

type Handler = (params: unknown, id: number | string) => unknown | Promise<unknown>;

/** A tiny JSON-RPC server on one end of a pair. A handler returning undefined never answers. */
function fakeServer(stream: Duplex, handlers: Record<string, Handler>) {
  let buf = '';
  const received: { method: string; params: unknown }[] = [];
  const send = (obj: unknown) => {
    if (!stream.writableEnded && !stream.destroyed) stream.write(JSON.stringify(obj) + '\n');
  };
  stream.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const req = JSON.parse(line) as { id: number; method: string; params: unknown };
      received.push({ method: req.method, params: req.params });
      const h = handlers[req.method];
      if (!h) {
        send({ jsonrpc: '2.0', id: req.id, error: { code: RPC_ERRORS.METHOD_NOT_FOUND, message: `no ${req.method}` } });
        continue;
      }
      void Promise.resolve()
        .then(() => h(req.params, req.id))
        .then(
          (result) => result !== undefined && send({ jsonrpc: '2.0', id: req.id, result }),
          (e: Error & { code?: number }) => send({ jsonrpc: '2.0', id: req.id, error: { code: e.code ?? -32000, message: e.message, data: { why: 'test' } } }),
        );
    }
  });
  return { received, send, notify: (method: string, params: unknown) => send({ jsonrpc: '2.0', method, params }) };
}

export function info(over: Partial<AgentInfo> = {}): AgentInfo {
  return {
    version: '1.0.0+abc',
    protocolVersion: PROTOCOL_VERSION,
    mode: 'user',
    capabilities: { gpu: false, gpuReason: 'nvidia-smi missing', systemd: false, docker: false, sudo: false, rapl: false },
    hostname: 'box',
    primaryInterface: null,
    pid: 42,
    startedAt: 1,
    nodeVersion: 'v20',
    configPath: '/c',
    stateDir: '/s',
    configError: null,
    ...over,
  };
}

function sample(t: number): MetricsSample {
  return metricsSample(t);
}

afterEach(() => {
  vi.useRealTimers();
});

describe('AgentClient', () => {
  it('calls methods and resolves with the result', async () => {
    const [c, s] = duplexPair();
    const srv = fakeServer(s, { 'agent.info': () => info(), 'metrics.history': (p) => ({ range: (p as { range: string }).range, resolutionSeconds: 10, points: [] }) });
    const client = new AgentClient(c);
    const [i, h] = await Promise.all([client.call('agent.info', {}), client.call('metrics.history', { range: '1h' })]);
    expect(i.version).toBe('1.0.0+abc');
    expect(h).toEqual({ range: '1h', resolutionSeconds: 10, points: [] });
    expect(srv.received.map((r) => r.method)).toEqual(['agent.info', 'metrics.history']);
    client.close();
  });

  it('rejects with the RPC error code and message', async () => {
    const [c, s] = duplexPair();
    fakeServer(s, {
      'metrics.latest': () => {
        throw Object.assign(new Error('sampler broken'), { code: RPC_ERRORS.UNAVAILABLE });
      },
    });
    const client = new AgentClient(c);
    const err = await client.call('metrics.latest', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentRpcError);
    expect(err).toMatchObject({ code: RPC_ERRORS.UNAVAILABLE, message: 'sampler broken', data: { why: 'test' } });
    await expect(client.call('metrics.unsubscribe', {})).rejects.toMatchObject({ code: RPC_ERRORS.METHOD_NOT_FOUND });
    client.close();
  });

  it('times out a call, keeps the connection, ignores the late answer', async () => {
    vi.useFakeTimers();
    const [c, s] = duplexPair();
    let answerLate: (() => void) | undefined;
    const srv = fakeServer(s, {
      'agent.info': (_p, id) => {
        answerLate = () => srv.send({ jsonrpc: '2.0', id, result: info() });
        return undefined;
      },
      'metrics.latest': () => null as unknown as undefined,
    });
    const client = new AgentClient(c);
    const p = client.call('agent.info', {}, { timeoutMs: 500 });
    const caught = p.catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(499);
    await vi.advanceTimersByTimeAsync(2);
    const err = await caught;
    expect(err).toBeInstanceOf(AgentTimeoutError);
    expect((err as Error).message).toMatch(/agent\.info within 500 ms/);
    answerLate!();
    vi.useRealTimers();
    expect(client.closed).toBe(false);
    client.close();
  });

  it('delivers notifications until unsubscribed; listener errors do not break it', async () => {
    const [c, s] = duplexPair();
    const srv = fakeServer(s, { 'agent.info': () => info() });
    const client = new AgentClient(c);
    const got: number[] = [];
    client.onNotification('metrics.sample', () => {
      throw new Error('bad listener');
    });
    const off = client.onNotification('metrics.sample', (m) => got.push(m.sampledAt));
    srv.notify('metrics.sample', sample(1));
    srv.notify('metrics.sample', sample(2));
    await client.call('agent.info', {}); // ordering barrier
    off();
    srv.notify('metrics.sample', sample(3));
    await client.call('agent.info', {});
    expect(got).toEqual([1, 2]);
    client.close();
  });

  it('splits lines incrementally: one byte at a time, several per chunk, UTF-8 across chunks', async () => {
    const [c, s] = duplexPair();
    const client = new AgentClient(c);
    const calls = [client.call('agent.info', {}), client.call('agent.info', {}), client.call('agent.info', {})];
    const text =
      JSON.stringify({ jsonrpc: '2.0', id: 1, result: info({ hostname: 'hôst-ü-日本' }) }) +
      '\n' +
      JSON.stringify({ jsonrpc: '2.0', id: 2, result: info({ hostname: 'two' }) }) +
      '\n\n' +
      JSON.stringify({ jsonrpc: '2.0', id: 3, result: info({ hostname: 'three' }) }) +
      '\n';
    const bytes = Buffer.from(text);
    const firstLen = bytes.indexOf(0x0a) + 1;
    for (let i = 0; i < firstLen; i++) s.write(bytes.subarray(i, i + 1));
    s.write(bytes.subarray(firstLen));
    const out = await Promise.all(calls);
    expect(out.map((o) => o.hostname)).toEqual(['hôst-ü-日本', 'two', 'three']);
    client.close();
  });

  it('closes the connection on a line over MAX_MESSAGE_BYTES, even without a newline', async () => {
    const [c, s] = duplexPair();
    const client = new AgentClient(c);
    const pending = client.call('agent.info', {}).catch((e: unknown) => e);
    const closed = new Promise<Error>((r) => client.once('close', r));
    const chunk = Buffer.alloc(256 * 1024, 0x61);
    for (let i = 0; i < 4; i++) s.write(chunk); // exactly the limit: still fine
    expect(client.closed).toBe(false);
    s.write('a');
    const reason = await closed;
    expect(reason).toBeInstanceOf(AgentUnavailableError);
    expect(reason.message).toMatch(new RegExp(`exceeded ${MAX_MESSAGE_BYTES} bytes`));
    expect(await pending).toBe(reason);
  });

  it('refuses to send an oversized request', async () => {
    const [c] = duplexPair();
    const client = new AgentClient(c, { maxMessageBytes: 64 });
    await expect(client.call('metrics.history', { range: '1h' as const, pad: 'x'.repeat(100) } as never)).rejects.toMatchObject({
      code: RPC_ERRORS.MESSAGE_TOO_LARGE,
    });
    client.close();
  });

  it('rejects every pending call with "agent connection closed" when the peer goes, and emits close once', async () => {
    const [c, s] = duplexPair();
    fakeServer(s, {});
    const client = new AgentClient(c);
    const closes: Error[] = [];
    client.on('close', (e: Error) => closes.push(e));
    const a = client.call('agent.info', {}).catch((e: unknown) => e);
    const b = client.call('metrics.latest', {}).catch((e: unknown) => e);
    s.end();
    const [ea, eb] = (await Promise.all([a, b])) as Error[];
    expect(ea!.message).toBe('agent connection closed');
    expect(eb!.message).toBe('agent connection closed');
    await new Promise((r) => setImmediate(r));
    expect(closes).toHaveLength(1);
    await expect(client.call('agent.info', {})).rejects.toThrow('agent connection closed');
    client.close();
    expect(closes).toHaveLength(1);
  });

  it('close() rejects pending calls and closes the stream', async () => {
    const [c, s] = duplexPair();
    fakeServer(s, {});
    const client = new AgentClient(c);
    const p = client.call('agent.info', {}).catch((e: unknown) => e);
    client.close();
    expect(((await p) as Error).message).toBe('agent connection closed');
    await new Promise((r) => setImmediate(r));
    expect(s.destroyed).toBe(true);
  });

  it('keeps an id:null error for the close reason, and answers server requests with method-not-found', async () => {
    const [c, s] = duplexPair();
    let reply = '';
    s.on('data', (d: Buffer) => (reply += d.toString()));
    const client: AgentClient = new AgentClient(c, { closeReason: (): Error => new Error(`bridge: ${client.lastPeerError?.message}`) });
    const p = client.call('agent.info', {}).catch((e: unknown) => e);
    s.write('not json at all\n');
    s.write(JSON.stringify({ jsonrpc: '2.0', id: 'x', method: 'ping', params: {} }) + '\n');
    s.write(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: RPC_ERRORS.UNAVAILABLE, message: 'connect ENOENT /run/x.sock' } }) + '\n');
    await new Promise((r) => setImmediate(r));
    expect(reply).toMatch(/"id":"x".*-32601/);
    s.end();
    expect(((await p) as Error).message).toBe('bridge: connect ENOENT /run/x.sock');
  });
});

describe('helpers', () => {
  it('quotes for the shell', () => {
    expect(shellQuote("/opt/it's here/node")).toBe(`'/opt/it'\\''s here/node'`);
    expect(agentCommand({ nodePath: '/usr/bin/node', agentPath: '/opt/fleetwake/fleetwake-agent.cjs' }, ['rpc'])).toBe(
      `'/usr/bin/node' '/opt/fleetwake/fleetwake-agent.cjs' 'rpc'`,
    );
  });

  it('classifies what the bridge printed', () => {
    expect(classifyBridgeFailure('Error: connect ENOENT /run/fleetwake/agent.sock', 1).reason).toBe('not-running');
    expect(classifyBridgeFailure('connect ECONNREFUSED /x', 1).reason).toBe('not-running');
    const eacces = classifyBridgeFailure('connect EACCES /run/fleetwake/agent.sock', 1);
    expect(eacces.reason).toBe('permission');
    expect(eacces.message).toMatch(/EACCES/);
    expect(classifyBridgeFailure("bash: line 1: /opt/x/node: No such file or directory", 127).reason).toBe('missing');
    expect(classifyBridgeFailure("Error: Cannot find module '/opt/x/agent.cjs'", 1).reason).toBe('missing');
    expect(classifyBridgeFailure('', 3).message).toMatch(/exit 3/);
  });
});

// ---------------------------------------------------------------------------------------------------
// readManifest and openAgentClient over a fake SSH connection

const MANIFEST: InstallManifest = {
  version: '1.0.0+abc',
  protocolVersion: PROTOCOL_VERSION,
  mode: 'user',
  installDir: '/home/u/.local/share/fleetwake',
  agentPath: '/home/u/.local/share/fleetwake/fleetwake-agent.cjs',
  nodePath: '/usr/bin/node',
  uploadedRuntime: false,
  socketPath: '/home/u/.local/share/fleetwake/run/agent.sock',
  configFile: '/home/u/.config/fleetwake/agent.yaml',
  stateDir: '/home/u/.local/share/fleetwake/state',
  supervisor: 'detached',
  installedAt: '2025-01-01T00:00:00Z',
};

/** Emulates the shell script readManifest runs, over an in-memory file table. */
function manifestExec(files: Record<string, string>) {
  const commands: string[] = [];
  return {
    commands,
    exec: async (command: string) => {
      commands.push(command);
      let stdout = '';
      for (const [path, content] of Object.entries(files)) {
        const expanded = command.includes(`"${path}"`) ? path : null;
        if (expanded) stdout += `\n@@fleetwake-install-json@@ ${path}\n${content}`;
      }
      return { code: 0, signal: null, stdout, stderr: '' };
    },
  };
}

describe('readManifest', () => {
  const SYS = '/opt/fleetwake/install.json';
  const USER = '$HOME/.local/share/fleetwake/install.json';

  it('reads both locations in one exec; the user\'s own install comes before a system agent', async () => {
    const sys = { ...MANIFEST, mode: 'system' as const, supervisor: 'systemd-system' as const, socketPath: '/run/fleetwake/agent.sock' };
    const fake = manifestExec({ [SYS]: JSON.stringify(sys), [USER]: JSON.stringify(MANIFEST) });
    expect(await readManifest(fake)).toEqual(MANIFEST);
    expect(fake.commands).toHaveLength(1);
    // Only the system agent: that one.
    expect(await readManifest(manifestExec({ [SYS]: JSON.stringify(sys) }))).toEqual(sys);
  });

  it('uses the user manifest when the system one is damaged; its own damaged one is an error; null when none', async () => {
    const sys = { ...MANIFEST, mode: 'system' as const };
    expect(await readManifest(manifestExec({ [SYS]: '{broken', [USER]: JSON.stringify(MANIFEST) }))).toEqual(MANIFEST);
    await expect(readManifest(manifestExec({ [SYS]: JSON.stringify(sys), [USER]: '{broken' }))).rejects.toThrow(/\.local\/share\/fleetwake\/install\.json is not valid JSON/);
    expect(await readManifest(manifestExec({}))).toBeNull();
  });

  it('throws ManifestError naming the file and the problem when only an invalid one exists', async () => {
    const bad = { ...MANIFEST, socketPath: 'relative/agent.sock', supervisor: 'cron' };
    const err = await readManifest(manifestExec({ [USER]: JSON.stringify(bad) })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ManifestError);
    expect((err as Error).message).toMatch(/socketPath must be an absolute path.*supervisor/);
    await expect(readManifest(manifestExec({ [USER]: '' }))).rejects.toThrow(/not valid JSON/);
  });
});

/** A fake session's channels (SshChannels): streamlocal to a socket table, exec of the bridge or plain commands. */
class FakeSsh extends EventEmitter {
  sockets = new Map<string, (server: Duplex) => void>();
  bridgeError: string | null = null;
  /** What the real `fleetwake-agent rpc` also prints on stdout: one JSON-RPC error line with id null. */
  bridgeJson: string | null = null;
  execs: string[] = [];
  streamlocalCalls: string[] = [];
  streamLocal(path: string): Promise<Duplex> {
    this.streamlocalCalls.push(path);
    const serve = this.sockets.get(path);
    return new Promise((resolve, reject) =>
      setImmediate(() => {
        if (!serve) return reject(new Error('(SSH) Channel open failure: open failed'));
        const [c, s] = duplexPair();
        serve(s);
        resolve(c);
      }),
    );
  }
  exec(command: string): Promise<Duplex> {
    this.execs.push(command);
    const [c, s] = duplexPair();
    const stderr = new PassThrough();
    Object.assign(c, { stderr });
    return new Promise((resolve) => setImmediate(() => {
      resolve(c);
      if (this.bridgeError !== null) {
        if (this.bridgeJson) s.write(this.bridgeJson + '\n');
        stderr.write(this.bridgeError + '\n');
        c.emit('exit', 1);
        s.end();
        return;
      }
      const serve = this.sockets.get('bridge');
      if (serve) serve(s);
    }));
  }
}

function fakeConn(ssh: FakeSsh): AgentHostConnection & { execLog: string[] } {
  const execLog: string[] = [];
  return {
    name: 'h',
    status: hostStatus('h', 'online'),
    ready: async () => ssh as never,
    exec: async (command: string) => {
      execLog.push(command);
      return { code: 0, signal: null, stdout: '', stderr: '' };
    },
    execLog,
  };
}

describe('openAgentClient', () => {
  it('uses direct-streamlocal when the socket answers (after one priming exec)', async () => {
    const ssh = new FakeSsh();
    ssh.sockets.set(MANIFEST.socketPath, (s) => fakeServer(s, { 'agent.info': () => info() }));
    const conn = fakeConn(ssh);
    const opened = await openAgentClient(conn, MANIFEST);
    expect(opened.transport).toBe('streamlocal');
    expect(opened.info.pid).toBe(42);
    expect(conn.execLog).toEqual(['true']);
    expect(ssh.execs).toEqual([]);
    opened.client.close();
    // The same SSH client is primed only once.
    const again = await openAgentClient(conn, MANIFEST);
    expect(conn.execLog).toEqual(['true']);
    again.client.close();
  });

  it('falls back to the exec bridge when streamlocal fails', async () => {
    const ssh = new FakeSsh();
    ssh.sockets.set('bridge', (s) => fakeServer(s, { 'agent.info': () => info({ hostname: 'via-bridge' }) }));
    const opened = await openAgentClient(fakeConn(ssh), MANIFEST);
    expect(opened.transport).toBe('exec');
    expect(opened.info.hostname).toBe('via-bridge');
    expect(opened.streamlocalError).toMatch(/open failed/);
    // The bridge is pointed at the socket the manifest recorded, not left to its own lookup.
    expect(ssh.execs).toEqual([
      `FLEETWAKE_AGENT_SOCKET='/home/u/.local/share/fleetwake/run/agent.sock' '/usr/bin/node' '/home/u/.local/share/fleetwake/fleetwake-agent.cjs' 'rpc'`,
    ]);
    opened.client.close();
  });

  it("surfaces the bridge's own reason: not running, permission", async () => {
    const ssh = new FakeSsh();
    ssh.bridgeError = `fleetwake-agent rpc: connect ENOENT ${MANIFEST.socketPath}`;
    const err = await openAgentClient(fakeConn(ssh), MANIFEST).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentUnavailableError);
    expect(err).toMatchObject({ reason: 'not-running' });
    expect((err as Error).message).toMatch(/agent not running.*ENOENT/);

    const ssh2 = new FakeSsh();
    ssh2.bridgeError = `fleetwake-agent rpc: connect EACCES ${MANIFEST.socketPath}`;
    await expect(openAgentClient(fakeConn(ssh2), MANIFEST)).rejects.toMatchObject({ reason: 'permission', message: expect.stringMatching(/EACCES/) });
  });

  it('prefers the JSON-RPC error line the real bridge prints, with its errno', async () => {
    const ssh = new FakeSsh();
    const sock = MANIFEST.socketPath;
    ssh.bridgeError = `fleetwake-agent rpc: permission denied on ${sock}: add the user to group fleetwake`;
    ssh.bridgeJson = JSON.stringify({
      jsonrpc: '2.0',
      id: null,
      error: { code: RPC_ERRORS.UNAVAILABLE, message: `permission denied on ${sock}: add the user to group fleetwake`, data: { errno: 'EACCES', socket: sock } },
    });
    const err = (await openAgentClient(fakeConn(ssh), MANIFEST).catch((e: unknown) => e)) as AgentUnavailableError;
    expect(err.reason).toBe('permission');
    expect(err.message).toBe(`permission denied on ${sock}: add the user to group fleetwake (EACCES)`);
  });
});
