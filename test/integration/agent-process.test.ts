/**
 * The bundled agent as a real process: build resources/agent/fleetwake-agent.cjs, run it in user mode with
 * env overrides pointing at a temp dir (no root needed), and talk to it over its unix socket and through
 * `fleetwake-agent rpc`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_MESSAGE_BYTES, PROTOCOL_VERSION, RPC_ERRORS, type AgentInfo, type MetricsSample } from '../../remote-agent/protocol.js';
import { rpcCall } from '../../remote-agent/rpc/socket.js';
import { collectJsonLines } from '../support/streams.js';
import { waitFor } from '../support/wait-for.js';

const root = resolve(__dirname, '../..');
const bundle = join(root, 'resources/agent/fleetwake-agent.cjs');
let dir = '';
let env: NodeJS.ProcessEnv = {};
let socket = '';
const children: ChildProcess[] = [];

function startAgent(extraArgs: string[] = []): ChildProcess & { stderrText: () => string } {
  const child = spawn(process.execPath, [bundle, 'run', '--foreground', ...extraArgs], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  children.push(child);
  return Object.assign(child, { stderrText: () => err });
}

function waitForAgent(timeoutMs = 10_000): Promise<AgentInfo> {
  return waitFor('the agent to answer agent.info', () => rpcCall<AgentInfo>(socket, 'agent.info', {}, 1000), { timeoutMs, intervalMs: 50 });
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((r) => child.once('exit', (code) => r(code)));
}

function cli(args: string[], input?: string) {
  return spawnSync(process.execPath, [bundle, ...args], { env, input, encoding: 'utf8', timeout: 20_000 });
}

/** A raw connection collecting JSON lines. */
function rawClient(): Promise<{ sock: net.Socket; lines: any[]; closed: Promise<void>; waitFor(pred: (l: any) => boolean, ms?: number): Promise<any> }> {
  return new Promise((res, rej) => {
    const sock = net.connect({ path: socket });
    sock.setEncoding('utf8');
    const lines: any[] = collectJsonLines(sock);
    sock.on('error', () => undefined);
    const closed = new Promise<void>((r) => sock.on('close', () => r()));
    sock.once('connect', () =>
      res({
        sock,
        lines,
        closed,
        waitFor: (pred, ms = 5000) =>
          waitFor(
            'a matching line',
            () => lines.find(pred) ?? Promise.reject(new Error(`got ${JSON.stringify(lines).slice(0, 500)}`)),
            { timeoutMs: ms, intervalMs: 20 },
          ),
      }),
    );
    sock.once('error', rej);
  });
}

beforeAll(() => {
  const build = spawnSync(process.execPath, [join(root, 'scripts/build-agent.mjs')], { cwd: root, encoding: 'utf8' });
  expect(build.status, build.stderr + build.stdout).toBe(0);
  dir = mkdtempSync(join(tmpdir(), 'fw-agent-'));
  socket = join(dir, 'run', 'agent.sock');
  writeFileSync(join(dir, 'agent.yaml'), 'metrics:\n  interval_seconds: 1\nlogging:\n  level: debug\n');
  env = {
    PATH: process.env.PATH,
    HOME: dir,
    FLEETWAKE_AGENT_CONFIG: join(dir, 'agent.yaml'),
    FLEETWAKE_AGENT_STATE: join(dir, 'state'),
    FLEETWAKE_AGENT_SOCKET: socket,
  };
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all(children.map(exited));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('fleetwake-agent bundle', () => {
  it('is one executable .cjs under 300 KB with a matching sha256 file', () => {
    const st = statSync(bundle);
    expect(st.size).toBeLessThan(300 * 1024);
    expect(st.mode & 0o755).toBe(0o755);
    const text = readFileSync(bundle, 'utf8');
    expect(text.startsWith('#!/usr/bin/env node\n')).toBe(true);
    const sha = createHash('sha256').update(readFileSync(bundle)).digest('hex');
    expect(readFileSync(join(root, 'resources/agent/fleetwake-agent.sha256'), 'utf8')).toBe(`${sha}  fleetwake-agent.cjs\n`);
    const v = cli(['version']);
    expect(v.status).toBe(0);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+\+[0-9a-f]{12}$/);
  });

  it('help documents the exit codes; a bad command is a usage error', () => {
    const h = cli(['help']);
    expect(h.status).toBe(0);
    expect(h.stdout).toMatch(/Exit codes:/);
    expect(cli(['frobnicate']).status).toBe(2);
  });

  it('with no daemon: status exits 3 and rpc prints one ENOENT error line and exits 1', () => {
    const s = cli(['status']);
    expect(s.status).toBe(3);
    const r = cli(['rpc'], '{"jsonrpc":"2.0","id":1,"method":"agent.info"}\n');
    expect(r.status).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: RPC_ERRORS.UNAVAILABLE, message: `agent not running (no socket at ${socket})`, data: { errno: 'ENOENT', socket } },
    });
  });

  it('runs, answers, samples, pushes, bridges, survives garbage, and recovers from SIGKILL', async () => {
    const agent = startAgent();
    const info = await waitForAgent();
    expect(info).toMatchObject({ protocolVersion: PROTOCOL_VERSION, mode: 'user', hostname: hostname(), pid: agent.pid, configError: null });
    expect(info.version).toMatch(/\+[0-9a-f]{12}$/);
    expect(statSync(socket).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'state', 'agent.pid'), 'utf8').trim()).toBe(String(agent.pid));

    // metrics.latest after one interval.
    await new Promise((r) => setTimeout(r, 1200));
    const latest = await rpcCall<MetricsSample | null>(socket, 'metrics.latest');
    expect(latest).not.toBeNull();
    expect(typeof latest!.sampledAt).toBe('number');
    expect(latest!.memory.totalBytes).toBeGreaterThan(0);

    // metrics.subscribe gets a notification.
    const sub = await rawClient();
    sub.sock.write('{"jsonrpc":"2.0","id":1,"method":"metrics.subscribe"}\n');
    expect(await sub.waitFor((l) => l.id === 1)).toEqual({ jsonrpc: '2.0', id: 1, result: { intervalSeconds: 1 } });
    const note = await sub.waitFor((l) => l.method === 'metrics.sample', 4000);
    expect(note.params.sampledAt).toBeGreaterThan(latest!.sampledAt - 1);
    sub.sock.destroy();

    // The stdio bridge.
    const bridged = cli(['rpc'], '{"jsonrpc":"2.0","id":1,"method":"agent.info"}\n{"jsonrpc":"2.0","id":2,"method":"metrics.history","params":{"range":"1h"}}\n{"jsonrpc":"2.0","id":3,"method":"nope"}\n');
    expect(bridged.status, bridged.stderr).toBe(0);
    const answers = bridged.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(answers.find((a) => a.id === 1).result.pid).toBe(agent.pid);
    expect(answers.find((a) => a.id === 2).result).toMatchObject({ range: '1h' });
    expect(answers.find((a) => a.id === 3).error.code).toBe(RPC_ERRORS.METHOD_NOT_FOUND);

    // status while running.
    const s = cli(['status', '--json']);
    expect(s.status).toBe(0);
    expect(JSON.parse(s.stdout)).toMatchObject({ running: true, pid: agent.pid, mode: 'user', socket });

    // Garbage and a 2 MiB line do not kill it.
    const g = await rawClient();
    g.sock.write(Buffer.from([0, 1, 2, 255, 254, 10, 123, 10, 91, 93, 10]));
    await g.waitFor((l) => l.error?.code === RPC_ERRORS.PARSE_ERROR);
    const huge = await rawClient();
    huge.sock.write(Buffer.alloc(2 * 1024 * 1024, 'x'));
    huge.sock.write('\n');
    expect(await huge.waitFor((l) => l.error?.code === RPC_ERRORS.MESSAGE_TOO_LARGE)).toMatchObject({ id: null });
    await huge.closed;
    g.sock.destroy();
    expect(MAX_MESSAGE_BYTES).toBeLessThan(2 * 1024 * 1024);
    expect((await rpcCall<AgentInfo>(socket, 'agent.info')).pid).toBe(agent.pid);
    expect(agent.exitCode).toBeNull();

    // A second daemon on the same socket refuses, naming the running one.
    const second = cli(['run', '--foreground']);
    expect(second.status).toBe(4);
    expect(second.stderr).toContain(`another fleetwake-agent is running, pid ${agent.pid}`);

    // SIGKILL leaves a stale socket; a new agent replaces it.
    agent.kill('SIGKILL');
    await exited(agent);
    expect(existsSync(socket)).toBe(true);
    expect(cli(['status']).status).toBe(3);
    const again = startAgent();
    const info2 = await waitForAgent();
    expect(info2.pid).toBe(again.pid);
    expect(again.stderrText()).toMatch(/removing a stale socket/);

    // SIGTERM: graceful, socket and pid file removed.
    again.kill('SIGTERM');
    expect(await exited(again)).toBe(0);
    expect(existsSync(socket)).toBe(false);
    expect(existsSync(join(dir, 'state', 'agent.pid'))).toBe(false);
    expect(cli(['status']).status).toBe(3);
  });

  it('run --detach starts a background daemon and returns once it answers', async () => {
    const r = cli(['run', '--detach']);
    expect(r.status, r.stderr).toBe(0);
    const info = await waitForAgent(2000);
    expect(r.stdout).toContain(`pid ${info.pid}`);
    process.kill(info.pid, 'SIGTERM');
    await waitFor('the socket to be removed', () => !existsSync(socket), { timeoutMs: 5000, intervalMs: 50 });
    expect(existsSync(socket)).toBe(false);
    expect(readFileSync(join(dir, 'state', 'agent.log'), 'utf8')).toMatch(/fleetwake-agent started/);
  });

  it('reports an invalid config while running on the last good one', async () => {
    const agent = startAgent();
    await waitForAgent();
    writeFileSync(join(dir, 'agent.yaml'), 'metrics:\n  interval_seconds: 1\n  nope: 2\n');
    agent.kill('SIGHUP');
    const info = await waitFor(
      'the config error in agent.info',
      async () => {
        const i = await rpcCall<AgentInfo>(socket, 'agent.info');
        return i.configError ? i : undefined;
      },
      { timeoutMs: 3000, intervalMs: 100 },
    );
    expect(info.configError).toMatch(/^agent\.yaml line 3: unknown key "metrics\.nope"/);
    expect((await rpcCall<{ intervalSeconds: number }>(socket, 'metrics.subscribe')).intervalSeconds).toBe(1);
    const s = cli(['status']);
    expect(s.stdout).toContain('unknown key "metrics.nope"');
    agent.kill('SIGTERM');
    expect(await exited(agent)).toBe(0);
    writeFileSync(join(dir, 'agent.yaml'), 'metrics:\n  interval_seconds: 1\n');
  });
});
