import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex, PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { RPC_ERRORS } from '../../remote-agent/protocol.js';
import { noParams, RpcError, RpcServer, type MethodSpec, type RpcServerOptions } from '../../remote-agent/rpc/server.js';
import { bridgeErrorLine, describeConnectError, listenAgentSocket, probeSocket, rpcCall, socketAccess, type SocketAccess } from '../../remote-agent/rpc/socket.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const METHODS: Record<string, MethodSpec> = {
  echo: { handler: (p) => p },
  none: { validate: noParams, handler: () => 'ok' },
  boom: { handler: () => { throw new Error('secret /etc/shadow detail'); } },
  denied: { handler: () => { throw new RpcError(RPC_ERRORS.UNAVAILABLE, 'not now'); } },
  slow: { handler: () => new Promise((r) => setTimeout(() => r('late'), 50)) },
  sub: { handler: (_p, conn) => { conn.subscribed = true; return true; } },
};

async function setup(opts: Partial<RpcServerOptions> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'fw-rpc-'));
  const path = join(dir, 's.sock');
  const rpc = new RpcServer({ methods: METHODS, ...opts });
  const server = net.createServer({ allowHalfOpen: true }, (s) => rpc.handle(s));
  await new Promise<void>((r) => server.listen(path, r));
  cleanups.push(async () => {
    rpc.closeAll();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });
  return { rpc, path, dir };
}

interface Client {
  sock: net.Socket;
  lines: unknown[];
  closed: Promise<void>;
  next(n?: number): Promise<unknown[]>;
  send(x: string | object): void;
}

function client(path: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ path, allowHalfOpen: true });
    const lines: unknown[] = [];
    let buf = '';
    let waiters: (() => void)[] = [];
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) !== -1) {
        lines.push(JSON.parse(buf.slice(0, i)));
        buf = buf.slice(i + 1);
      }
      for (const w of waiters.splice(0)) w();
    });
    sock.on('error', () => undefined);
    sock.on('end', () => sock.end());
    const closed = new Promise<void>((r) => sock.on('close', () => { for (const w of waiters.splice(0)) w(); r(); }));
    cleanups.push(() => sock.destroy());
    sock.on('connect', () =>
      resolve({
        sock,
        lines,
        closed,
        send: (x) => sock.write((typeof x === 'string' ? x : JSON.stringify(x)) + '\n'),
        async next(n = 1) {
          const deadline = Date.now() + 3000;
          while (lines.length < n) {
            if (sock.destroyed || Date.now() > deadline) throw new Error(`got ${lines.length} of ${n} lines`);
            await new Promise<void>((r) => { waiters.push(r); setTimeout(r, 100); });
          }
          return lines.splice(0, n);
        },
      }),
    );
    sock.on('error', reject);
  });
}

const err = (id: unknown, code: number) => ({ jsonrpc: '2.0', id, error: expect.objectContaining({ code }) });

describe('RpcServer', () => {
  it('answers requests, with string and number ids', async () => {
    const { path } = await setup();
    const c = await client(path);
    c.send({ jsonrpc: '2.0', id: 1, method: 'echo', params: { a: 1 } });
    c.send({ jsonrpc: '2.0', id: 'x', method: 'none' });
    const got = await c.next(2);
    expect(got).toContainEqual({ jsonrpc: '2.0', id: 1, result: { a: 1 } });
    expect(got).toContainEqual({ jsonrpc: '2.0', id: 'x', result: 'ok' });
  });

  it('every error class', async () => {
    const { path } = await setup();
    const c = await client(path);
    const cases: [string, unknown][] = [
      ['{not json', err(null, RPC_ERRORS.PARSE_ERROR)],
      ['[{"jsonrpc":"2.0","id":1,"method":"none"}]', { jsonrpc: '2.0', id: null, error: { code: RPC_ERRORS.INVALID_REQUEST, message: 'batch requests are not supported' } }],
      ['42', err(null, RPC_ERRORS.INVALID_REQUEST)],
      ['"str"', err(null, RPC_ERRORS.INVALID_REQUEST)],
      ['null', err(null, RPC_ERRORS.INVALID_REQUEST)],
      ['{"jsonrpc":"1.0","id":2,"method":"none"}', err(2, RPC_ERRORS.INVALID_REQUEST)],
      ['{"jsonrpc":"2.0","id":{"a":1},"method":"none"}', err(null, RPC_ERRORS.INVALID_REQUEST)],
      ['{"jsonrpc":"2.0","id":null,"method":"none"}', err(null, RPC_ERRORS.INVALID_REQUEST)],
      ['{"jsonrpc":"2.0","id":3,"method":7}', err(3, RPC_ERRORS.INVALID_REQUEST)],
      ['{"jsonrpc":"2.0","id":4,"method":"none","params":5}', err(4, RPC_ERRORS.INVALID_REQUEST)],
      ['{"jsonrpc":"2.0","id":5,"method":"nope"}', err(5, RPC_ERRORS.METHOD_NOT_FOUND)],
      ['{"jsonrpc":"2.0","id":6,"method":"__proto__"}', err(6, RPC_ERRORS.METHOD_NOT_FOUND)],
      ['{"jsonrpc":"2.0","id":7,"method":"none","params":{"x":1}}', err(7, RPC_ERRORS.INVALID_PARAMS)],
      ['{"jsonrpc":"2.0","id":8,"method":"boom"}', { jsonrpc: '2.0', id: 8, error: { code: RPC_ERRORS.INTERNAL_ERROR, message: 'internal error in boom' } }],
      ['{"jsonrpc":"2.0","id":9,"method":"denied"}', { jsonrpc: '2.0', id: 9, error: { code: RPC_ERRORS.UNAVAILABLE, message: 'not now' } }],
    ];
    for (const [line, expected] of cases) {
      c.send(line);
      const [got] = await c.next();
      expect(got, line).toEqual(expected);
    }
    // The handler's own message never reaches the client.
    c.send('{"jsonrpc":"2.0","id":10,"method":"boom"}');
    expect(JSON.stringify(await c.next())).not.toContain('shadow');
  });

  it('client notifications (no id) get no response, even on errors', async () => {
    const { path } = await setup();
    const c = await client(path);
    c.send({ jsonrpc: '2.0', method: 'none' });
    c.send({ jsonrpc: '2.0', method: 'nope' });
    c.send({ jsonrpc: '2.0', method: 'boom' });
    c.send({ jsonrpc: '2.0', method: 'none', params: { bad: 1 } });
    c.send({ jsonrpc: '2.0', id: 'last', method: 'none' });
    expect(await c.next()).toEqual([{ jsonrpc: '2.0', id: 'last', result: 'ok' }]);
    await new Promise((r) => setTimeout(r, 50));
    expect(c.lines).toEqual([]);
  });

  it('splits lines across chunks and takes several per chunk, CRLF too', async () => {
    const { path } = await setup();
    const c = await client(path);
    const a = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'echo', params: { s: 'x'.repeat(5000) } });
    c.sock.write(a.slice(0, 10));
    await new Promise((r) => setTimeout(r, 20));
    c.sock.write(a.slice(10, 3000));
    await new Promise((r) => setTimeout(r, 20));
    c.sock.write(a.slice(3000) + '\r\n' + JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'none' }) + '\n\n\n');
    const got = await c.next(2);
    expect(got.map((g) => (g as { id: number }).id).sort()).toEqual([1, 2]);
  });

  it('a line over the limit gets MESSAGE_TOO_LARGE and the connection is closed; others are unaffected', async () => {
    const { path, rpc } = await setup({ maxMessageBytes: 1000 });
    const other = await client(path);
    const c = await client(path);
    c.sock.write('{"jsonrpc":"2.0","id":1,"method":"echo","params":{"s":"' + 'y'.repeat(2000));
    const [got] = await c.next();
    expect(got).toEqual(err(null, RPC_ERRORS.MESSAGE_TOO_LARGE));
    await c.closed;
    other.send({ jsonrpc: '2.0', id: 1, method: 'none' });
    expect(await other.next()).toEqual([{ jsonrpc: '2.0', id: 1, result: 'ok' }]);
    expect(rpc.connections.size).toBe(1);
  });

  it('a line of exactly the limit is accepted', async () => {
    const { path } = await setup({ maxMessageBytes: 1000 });
    const c = await client(path);
    const base = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'echo', params: { s: '' } });
    const line = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'echo', params: { s: 'z'.repeat(1000 - base.length) } });
    expect(Buffer.byteLength(line)).toBe(1000);
    c.send(line);
    expect(((await c.next())[0] as { result: { s: string } }).result.s.length).toBe(1000 - base.length);
  });

  it('a multi-megabyte line without a newline is refused without buffering it', async () => {
    const { path } = await setup();
    const c = await client(path);
    const chunk = Buffer.alloc(256 * 1024, 'a');
    for (let i = 0; i < 8 && !c.sock.destroyed; i++) c.sock.write(chunk);
    const [got] = await c.next();
    expect(got).toEqual(err(null, RPC_ERRORS.MESSAGE_TOO_LARGE));
    await c.closed;
  });

  it('server-push notifications reach only subscribed connections', async () => {
    const { path, rpc } = await setup();
    const a = await client(path);
    const b = await client(path);
    a.send({ jsonrpc: '2.0', id: 1, method: 'sub' });
    await a.next();
    b.send({ jsonrpc: '2.0', id: 1, method: 'none' });
    await b.next();
    expect(rpc.broadcast('metrics.sample', { n: 1 }, (c) => c.subscribed)).toBe(1);
    expect(await a.next()).toEqual([{ jsonrpc: '2.0', method: 'metrics.sample', params: { n: 1 } }]);
    await new Promise((r) => setTimeout(r, 30));
    expect(b.lines).toEqual([]);
  });

  it('drops a subscriber that does not read instead of growing memory', async () => {
    const { path, rpc } = await setup({ maxWriteBufferBytes: 64 * 1024 });
    const c = await client(path);
    c.send({ jsonrpc: '2.0', id: 1, method: 'sub' });
    await c.next();
    c.sock.pause();
    const big = { s: 'q'.repeat(32 * 1024) };
    let rounds = 0;
    while (rpc.connections.size > 0 && rounds < 2000) {
      rpc.broadcast('metrics.sample', big, (x) => x.subscribed);
      rounds++;
      if (rounds % 20 === 0) await new Promise((r) => setImmediate(r));
    }
    expect(rpc.connections.size).toBe(0);
    expect(rounds).toBeLessThan(2000);
  });

  it('answers pending requests after the client half-closes, then ends', async () => {
    const { path } = await setup();
    const c = await client(path);
    c.send({ jsonrpc: '2.0', id: 1, method: 'slow' });
    c.sock.end(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'none' })); // last line without a newline
    await c.closed;
    expect(c.lines).toHaveLength(2);
  });

  it('survives fuzzing: random bytes, deep JSON, odd shapes', async () => {
    const { path } = await setup({ maxMessageBytes: 64 * 1024 });
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const payloads: Buffer[] = [];
    for (let i = 0; i < 200; i++) {
      const len = Math.floor(rand() * 2000);
      const b = Buffer.alloc(len);
      for (let j = 0; j < len; j++) b[j] = Math.floor(rand() * 256);
      payloads.push(b);
    }
    payloads.push(Buffer.from('['.repeat(30000) + ']'.repeat(30000) + '\n'));
    payloads.push(Buffer.from('{"a":'.repeat(10000) + '1' + '}'.repeat(10000) + '\n'));
    payloads.push(Buffer.from('{"jsonrpc":"2.0","id":1,"method":"echo","params":' + '['.repeat(5000) + ']'.repeat(5000) + '}\n'));
    payloads.push(Buffer.from('{"jsonrpc":"2.0","id":1e400,"method":"none"}\n{"jsonrpc":"2.0","id":"' + 'i'.repeat(1000) + '","method":"none"}\n'));
    payloads.push(Buffer.from('\u0000\uffff\ud800\n{"__proto__":{"x":1},"jsonrpc":"2.0","id":1,"method":"none"}\n'));
    for (const p of payloads) {
      const c = await client(path);
      c.sock.write(p);
      c.sock.end('\n');
      await Promise.race([c.closed, new Promise((r) => setTimeout(r, 2000))]);
    }
    // Still serving.
    const ok = await client(path);
    ok.send({ jsonrpc: '2.0', id: 'alive', method: 'none' });
    expect(await ok.next()).toEqual([{ jsonrpc: '2.0', id: 'alive', result: 'ok' }]);
  }, 30_000);

  it('works over any Duplex (in-memory pair)', async () => {
    const rpc = new RpcServer({ methods: METHODS });
    const toServer = new PassThrough();
    const toClient = new PassThrough();
    rpc.handle(Duplex.from({ readable: toServer, writable: toClient }));
    toServer.write('{"jsonrpc":"2.0","id":1,"method":"none"}\n');
    const line = await new Promise<string>((r) => toClient.once('data', (d: Buffer) => r(d.toString())));
    expect(JSON.parse(line)).toEqual({ jsonrpc: '2.0', id: 1, result: 'ok' });
    rpc.closeAll();
  });
});

describe('agent socket', () => {
  it('listens with 0600 in user mode, refuses a second listener, replaces a stale socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fw-sock-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'run', 'agent.sock');
    const rpc = new RpcServer({ methods: METHODS });
    const server = await listenAgentSocket({ socketPath: path, mode: 'user', onConnection: (s) => rpc.handle(s) });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'run')).mode & 0o777).toBe(0o700);
    expect(await rpcCall(path, 'none')).toBe('ok');
    await expect(listenAgentSocket({ socketPath: path, mode: 'user', onConnection: () => undefined, pidOf: async () => 4242 })).rejects.toThrow(
      'another fleetwake-agent is running, pid 4242',
    );
    // Make it stale: close the listener, then leave a dead socket file behind, as a SIGKILLed agent does.
    await new Promise((r) => { server.close(r); rpc.closeAll(); });
    const { existsSync, writeFileSync } = await import('node:fs');
    const { spawnSync } = await import('node:child_process');
    spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    expect(existsSync(path)).toBe(true);
    expect((await probeSocket(path)).state).toBe('stale');
    const again = await listenAgentSocket({ socketPath: path, mode: 'user', onConnection: (s) => rpc.handle(s) });
    cleanups.push(() => new Promise((r) => again.close(r)));
    expect(await rpcCall(path, 'none')).toBe('ok');
    // A regular file is never deleted.
    const plain = join(dir, 'plain');
    writeFileSync(plain, 'x');
    await expect(listenAgentSocket({ socketPath: plain, mode: 'user', onConnection: () => undefined })).rejects.toThrow(/not a socket/);
  });

  it('bridge error lines name the cause', () => {
    expect(JSON.parse(bridgeErrorLine('ENOENT', '/s'))).toEqual({
      jsonrpc: '2.0', id: null, error: { code: RPC_ERRORS.UNAVAILABLE, message: 'agent not running (no socket at /s)', data: { errno: 'ENOENT', socket: '/s' } },
    });
    // Another user's socket: nothing a group would fix.
    expect(JSON.parse(bridgeErrorLine('EACCES', '/s')).error.message).toBe('permission denied on /s');
  });

  it('EACCES on the system agent\'s socket says it is only for group fleetwake and how to get in', () => {
    const sys = '/run/fleetwake/agent.sock';
    const access = (listedInGroup: boolean): SocketAccess => ({ user: 'bob', systemSocket: true, listedInGroup });
    expect(describeConnectError('EACCES', sys, () => access(false))).toBe(
      "permission denied: the system agent's socket /run/fleetwake/agent.sock is only for group fleetwake; run `sudo usermod -aG fleetwake bob` and log in again, or deploy a user-mode agent",
    );
    expect(describeConnectError('EPERM', sys, () => access(true))).toBe(
      "permission denied: bob is in group fleetwake, but this login started before that; log in again to reach the system agent's socket /run/fleetwake/agent.sock",
    );
    // Read from the real machine: the default system path is the system agent's, whoever asks.
    expect(socketAccess(sys).systemSocket).toBe(true);
    // A socket in a folder of group fleetwake is a system agent's too (a custom FLEETWAKE_AGENT_SOCKET).
    const dir = mkdtempSync(join(tmpdir(), 'fwt-grp-'));
    const groups = join(dir, 'group');
    writeFileSync(groups, `root:x:0:\nfleetwake:x:${statSync(dir).gid}:alice,bob\n`);
    expect(socketAccess(join(dir, 'agent.sock'), groups)).toMatchObject({ systemSocket: true });
    writeFileSync(groups, `fleetwake:x:${statSync(dir).gid + 1}:\n`);
    expect(socketAccess(join(dir, 'agent.sock'), groups)).toMatchObject({ systemSocket: false, listedInGroup: false });
    rmSync(dir, { recursive: true, force: true });
  });
});
