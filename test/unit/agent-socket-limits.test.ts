/**
 * Issue 10, item 5: the agent socket had no connection cap and no idle timeout; 1,500 connections each
 * holding an unfinished line took a user-mode agent from 50 MiB to 1.6 GiB. A real listening socket
 * (listenAgentSocket) and a real RpcServer, as the daemon builds them, in this process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { RPC_ERRORS } from '../../remote-agent/protocol.js';
import { noParams, RpcServer, type MethodSpec } from '../../remote-agent/rpc/server.js';
import { listenAgentSocket, rpcCall } from '../../remote-agent/rpc/socket.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const METHODS: Record<string, MethodSpec> = {
  none: { validate: noParams, handler: () => 'ok' },
  sub: { handler: (_p, conn) => ((conn.subscribed = true), true) },
};

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function agent(limits?: Record<string, number>) {
  const dir = mkdtempSync(join(tmpdir(), 'fw-limits-'));
  const path = join(dir, 'agent.sock');
  const rpc = new RpcServer({ methods: METHODS });
  const server = await listenAgentSocket({ socketPath: path, mode: 'user', onConnection: (s) => rpc.handle(s), ...(limits ? { limits } : {}) });
  cleanups.push(async () => {
    rpc.closeAll();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });
  return { rpc, path, server };
}

interface Conn {
  sock: net.Socket;
  lines: string[];
  closed: Promise<void>;
}

function connect(path: string): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ path });
    const lines: string[] = [];
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('data', (c: string) => {
      buf += c;
      let nl;
      while ((nl = buf.indexOf('\n')) !== -1) {
        lines.push(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
    });
    sock.on('error', () => undefined);
    const closed = new Promise<void>((r) => sock.once('close', () => r()));
    sock.once('connect', () => resolve({ sock, lines, closed }));
    sock.once('error', reject);
  });
}

/** Resolves with true when `p` settles within ms, else false (a test must fail, not hang). */
const within = (p: Promise<unknown>, ms: number) => Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

function heapAndBuffers(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

describe('agent socket limits', () => {
  it('serves 32 connections at once; the 33rd gets a clear JSON-RPC error line and is closed', async () => {
    const { path } = await agent();
    const held = await Promise.all(Array.from({ length: 32 }, () => connect(path)));
    cleanups.push(() => held.forEach((c) => c.sock.destroy()));
    // The 32 are served.
    await pause(50);
    const extra = await connect(path);
    expect(await within(extra.closed, 3000)).toBe(true);
    expect(extra.lines.map((l) => JSON.parse(l))).toEqual([
      { jsonrpc: '2.0', id: null, error: { code: RPC_ERRORS.UNAVAILABLE, message: expect.stringContaining('too many connections: the agent serves at most 32 at once') } },
    ]);
    // One closes: a new one is served again.
    held[0]!.sock.destroy();
    await held[0]!.closed;
    await pause(50);
    expect(await rpcCall(path, 'none')).toBe('ok');
  });

  it('answers a request line over 64 KiB with MESSAGE_TOO_LARGE and closes, never running it', async () => {
    const { path } = await agent();
    const c = await connect(path);
    c.sock.write(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'none', params: { pad: 'x'.repeat(70 * 1024) } }) + '\n');
    expect(await within(c.closed, 3000)).toBe(true);
    expect(c.lines.map((l) => JSON.parse(l))).toEqual([
      { jsonrpc: '2.0', id: null, error: { code: RPC_ERRORS.MESSAGE_TOO_LARGE, message: expect.stringContaining('request line longer than 65536 bytes') } },
    ]);
    // A line just under the limit is still served, on a connection that sends several.
    const ok = await connect(path);
    ok.sock.write(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'none', params: [] }) + '\n' + JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'none' }).padEnd(60 * 1024, ' ') + '\n');
    await pause(200);
    expect(ok.lines.map((l) => JSON.parse(l).id)).toEqual([2, 3]);
    ok.sock.destroy();
  });

  it('closes a connection idle for the idle timeout, but not a subscriber that keeps receiving', async () => {
    const { path, rpc } = await agent({ idleTimeoutMs: 300 });
    const idle = await connect(path);
    idle.sock.write('{"jsonrpc":"2.0","id":1,"method":"none"'); // unfinished, never completed
    const sub = await connect(path);
    sub.sock.write('{"jsonrpc":"2.0","id":1,"method":"sub"}\n');
    const ticker = setInterval(() => rpc.broadcast('metrics.sample', { t: Date.now() }, (c) => c.subscribed), 100);
    cleanups.push(() => clearInterval(ticker));
    expect(await within(idle.closed, 3000)).toBe(true);
    expect(idle.lines.map((l) => JSON.parse(l))).toEqual([
      { jsonrpc: '2.0', id: null, error: { code: RPC_ERRORS.UNAVAILABLE, message: expect.stringContaining('without traffic') } },
    ]);
    // Well past the timeout, the subscriber is still served.
    await pause(600);
    expect(sub.sock.destroyed).toBe(false);
    expect(sub.lines.length).toBeGreaterThan(5);
    expect(sub.lines.some((l) => l.includes('without traffic'))).toBe(false);
    sub.sock.destroy();
  });

  it('600 connections each holding an unfinished 60 KiB line: at most 32 are kept, and memory comes back', async () => {
    const { path, rpc } = await agent({ idleTimeoutMs: 5000 });
    const before = heapAndBuffers();
    const partial = Buffer.alloc(60 * 1024, 'x');
    const conns: Conn[] = [];
    for (let i = 0; i < 600; i++) {
      const c = await connect(path);
      c.sock.write(partial);
      conns.push(c);
    }
    cleanups.push(() => conns.forEach((c) => c.sock.destroy()));
    await pause(300);
    expect(rpc.connections.size).toBeLessThanOrEqual(32);
    const refused = conns.filter((c) => c.lines.some((l) => l.includes('too many connections')));
    expect(refused.length).toBeGreaterThanOrEqual(600 - 32);
    // While held: bounded by 32 x 64 KiB, not 600 x 60 KiB (35 MiB).
    const peak = heapAndBuffers() - before;
    expect(peak).toBeLessThan(12 * 1024 * 1024);
    // The idle timeout closes the rest; nothing of theirs is kept.
    expect(await within(Promise.all(conns.map((c) => c.closed)), 10_000)).toBe(true);
    await pause(100);
    expect(rpc.connections.size).toBe(0);
    const after = heapAndBuffers() - before;
    expect(after).toBeLessThan(4 * 1024 * 1024);
  }, 30_000);
});
