/**
 * The real agent bundle deciding to suspend: built once per run (test/support/agent-bundle.ts), run in user mode with
 * tiny timings (interval 1 s, window 5 s, timeout 3 s, min_samples 2), a suspend command that only writes a
 * marker file, and fake `who` / `systemd-inhibit` / `ethtool` on PATH so the host's own state cannot leak in.
 * Network: the only packets sent go to 127.0.0.1.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import type { IdleStatus, SleepPeriod } from '../../remote-agent/protocol.js';
import { rpcCall } from '../../remote-agent/rpc/socket.js';
import { collectJsonLines } from '../support/streams.js';
import { waitFor } from '../support/wait-for.js';

let root = '';
let bundle = '';
const children: ChildProcess[] = [];

beforeAll(() => {
  root = mkdtempSync(join(os.tmpdir(), 'fw-agent-suspend-'));
  bundle = inject('agentBundle');
});

afterEach(() => {
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) {
      try {
        c.kill('SIGCONT');
        c.kill('SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

function script(path: string, body: string) {
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
}

interface Agent {
  dir: string;
  socket: string;
  marker: string;
  ethtoolLog: string;
  env: NodeJS.ProcessEnv;
  child: ChildProcess & { stderrText: () => string };
}

const CORES = os.availableParallelism?.() ?? os.cpus().length;
const BURNERS = Math.min(CORES, 8);
/**
 * One burner spins one core: the burners make 100 * BURNERS / CORES % of the whole box. The threshold is
 * half of that, so the test neither needs a silent machine (other work on a shared CI box) nor misses the load.
 */
const CPU_THRESHOLD = Math.max(1, Math.min(60, Math.floor((50 * BURNERS) / CORES)));

async function startAgent(name: string, extra = ''): Promise<Agent> {
  const dir = join(root, name);
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const marker = join(dir, 'suspended.marker');
  const ethtoolLog = join(dir, 'ethtool.log');
  script(join(bin, 'who'), 'exit 0');
  script(join(bin, 'systemd-inhibit'), 'echo "0 inhibitors listed."');
  script(join(bin, 'ethtool'), `echo "$@" >> '${ethtoolLog}'\nif [ "$1" = "-s" ]; then exit 0; fi\nprintf 'Settings for %s:\\n\\tSupports Wake-on: pumbg\\n\\tWake-on: d\\n' "$1"`);
  script(join(dir, 'fake-suspend.sh'), `date +%s%N >> '${marker}'`);
  writeFileSync(
    join(dir, 'agent.yaml'),
    `metrics:
  interval_seconds: 1
gpu:
  nvidia_smi: /nonexistent/nvidia-smi
idle:
  cpu_idle_threshold: ${CPU_THRESHOLD}
  window_seconds: 5
  idle_timeout_seconds: 3
  min_samples: 2
suspend:
  command: ['${join(dir, 'fake-suspend.sh')}']
  timeout_seconds: 5
${extra}wol:
  interface: fwtest0
ollama:
  url: http://127.0.0.1:1
`,
  );
  const socket = join(dir, 'agent.sock');
  const env: NodeJS.ProcessEnv = {
    PATH: `${bin}:/usr/bin:/bin`,
    HOME: dir,
    FLEETWAKE_AGENT_CONFIG: join(dir, 'agent.yaml'),
    FLEETWAKE_AGENT_STATE: join(dir, 'state'),
    FLEETWAKE_AGENT_SOCKET: socket,
  };
  const proc = spawn(process.execPath, [bundle, 'run', '--foreground'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  children.push(proc);
  const child = Object.assign(proc, { stderrText: () => err });
  await waitFor('the agent to answer agent.info', () => rpcCall(socket, 'agent.info', {}, 1000), { timeoutMs: 10_000, intervalMs: 50 }).catch((e: Error) => {
    throw new Error(`agent did not start: ${e.message}\n${err}`);
  });
  return { dir, socket, marker, ethtoolLog, env, child };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A socket client collecting every line (responses and notifications). */
function client(socket: string): Promise<{ sock: net.Socket; lines: any[]; call(method: string, params?: unknown): Promise<any>; waitFor(pred: (l: any) => boolean, ms?: number, from?: number): Promise<any> }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ path: socket });
    let id = 0;
    sock.setEncoding('utf8');
    const lines: any[] = collectJsonLines(sock);
    sock.on('error', () => undefined);
    const waitForLine = (pred: (l: any) => boolean, ms = 15_000, from = 0) =>
      waitFor(
        'a matching line',
        () => lines.slice(from).find(pred) ?? Promise.reject(new Error(`last lines ${JSON.stringify(lines.slice(-5)).slice(0, 1500)}`)),
        { timeoutMs: ms, intervalMs: 20 },
      );
    sock.once('connect', () =>
      resolve({
        sock,
        lines,
        waitFor: waitForLine,
        async call(method, params = {}) {
          const myId = ++id;
          sock.write(JSON.stringify({ jsonrpc: '2.0', id: myId, method, params }) + '\n');
          return waitForLine((l) => l.id === myId, 10_000);
        },
      }),
    );
    sock.once('error', reject);
  });
}

/** Complete marker lines only: the shell creates the file before `date` has written into it. */
function markers(a: Agent): number {
  return existsSync(a.marker) ? readFileSync(a.marker, 'utf8').split('\n').filter((l) => /^\d+$/.test(l)).length : 0;
}

function cli(a: Agent, args: string[]) {
  return spawnSync(process.execPath, [bundle, ...args], { env: a.env, encoding: 'utf8', timeout: 20_000 });
}

describe('agent suspend (real bundle)', () => {
  it('stays awake under load, suspends once idle for the timeout, notices a resume, and obeys suspend.now', async () => {
    const burners = Array.from({ length: BURNERS }, () => {
      const b = spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });
      children.push(b);
      return b;
    });
    const a = await startAgent('cycle');
    const c = await client(a.socket);
    await c.call('metrics.subscribe');

    // 1. Busy: high_cpu keeps it awake for well past the timeout.
    const busy = await c.waitFor((l) => l.method === 'idle.status' && l.params.state === 'active');
    expect(busy.params.gates.find((g: any) => g.gate === 'high_cpu')).toMatchObject({ status: 'busy', blocking: true });
    await sleep(6000);
    expect(markers(a)).toBe(0);
    expect(c.lines.filter((l) => l.method === 'agent.suspending')).toEqual([]);
    const st: IdleStatus = (await c.call('idle.status')).result;
    expect(st.state).toBe('active');
    // The checks that cannot run here say so, and do not block.
    expect(st.gates.find((g) => g.gate === 'ollama_busy')).toMatchObject({ status: 'unavailable', blocking: false });
    expect(st.gates.find((g) => g.gate === 'ollama_busy')!.reason).toMatch(/^not checked: Ollama not reachable at http:\/\/127\.0\.0\.1:1 .*not keeping the box awake$/);
    // No logins (fake `who`): clear, or unavailable where the host has no utmp file at all; never blocking.
    expect(st.gates.find((g) => g.gate === 'sessions')).toMatchObject({ blocking: false });

    // 2. Load stops: after the window settles and 3 s idle, it suspends (every client told first).
    for (const b of burners) b.kill('SIGKILL');
    const stoppedAt = Date.now();
    const ev = await c.waitFor((l) => l.method === 'agent.suspending', 30_000);
    expect(ev.params).toMatchObject({ reason: 'idle', dryRun: false, wolArmed: true });
    expect(ev.params.wolMessage).toMatch(/armed on fwtest0/);
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(3000);
    await waitFor('the suspend marker', () => markers(a) !== 0, { timeoutMs: 5000, intervalMs: 50 });
    expect(markers(a)).toBe(1);
    // The command ran after the announcement had its flush delay.
    const markedAt = Number(readFileSync(a.marker, 'utf8').trim()) / 1e6;
    expect(markedAt - ev.params.at).toBeGreaterThanOrEqual(250);
    expect(readFileSync(a.ethtoolLog, 'utf8')).toContain('-s fwtest0 wol g');
    let hist: SleepPeriod[] = (await c.call('sleep.history')).result;
    expect(hist[0]).toMatchObject({ suspendedAt: ev.params.at, resumedAt: null, reason: 'idle', wolArmed: true });

    // 3. "Asleep": the process is frozen longer than the gap threshold (3 x 1 s + 10 s), then continues.
    const pid = a.child.pid!;
    process.kill(pid, 'SIGSTOP');
    const from = c.lines.length;
    await sleep(14_500);
    process.kill(pid, 'SIGCONT');
    const resumed = await c.waitFor((l) => l.method === 'agent.resumed', 10_000, from);
    expect(resumed.params.sleptSeconds).toBeGreaterThanOrEqual(13);
    const warming = await c.waitFor((l) => l.method === 'idle.status' && l.params.state === 'warming_up', 10_000, c.lines.indexOf(resumed));
    expect(warming.params.samples).toBeLessThan(2);
    hist = (await c.call('sleep.history')).result;
    expect(hist[0]!.resumedAt).toBe(resumed.params.at);

    // 4. suspend.now: answered, then the same steps.
    await c.call('idle.configure', { settings: { enableSuspend: false } });
    const before = markers(a);
    const fromNow = c.lines.length;
    const now = await c.call('suspend.now');
    expect(now.result).toEqual({ at: expect.any(Number), dryRun: false });
    const manual = await c.waitFor((l) => l.method === 'agent.suspending', 5000, fromNow);
    expect(manual.params).toMatchObject({ at: now.result.at, reason: 'manual' });
    await waitFor('a new suspend marker', () => markers(a) !== before, { timeoutMs: 5000, intervalMs: 50 });
    expect(markers(a)).toBe(before + 1);
    expect((await c.call('sleep.history', { limit: 1 })).result[0]).toMatchObject({ reason: 'manual' });

    // The CLI talks to the same daemon.
    const status = cli(a, ['suspend', 'status', '--json']);
    expect(status.status).toBe(0);
    expect(JSON.parse(status.stdout).settings.enableSuspend).toBe(false);
    const enable = cli(a, ['suspend', 'enable']);
    expect(enable.status).toBe(0);
    expect(enable.stdout).toMatch(/^suspend when idle enabled\nstate: /);
    expect(enable.stdout).toMatch(/ok disabled {7}suspend is enabled/);
    expect(JSON.parse(readFileSync(join(a.dir, 'state', 'settings.json'), 'utf8')).idle).toEqual({ enableSuspend: true });
    expect(cli(a, ['suspend', 'bogus']).status).toBe(2);

    c.sock.destroy();
    a.child.kill('SIGTERM');
    await new Promise((r) => a.child.once('exit', r));
  }, 90_000);

  it('dry run: records and announces but never runs the command; wol.send relays to loopback', async () => {
    const a = await startAgent('dry', '  dry_run: true\n');
    const c = await client(a.socket);
    const ev = await c.waitFor((l) => l.method === 'agent.suspending', 30_000);
    expect(ev.params).toMatchObject({ reason: 'idle', dryRun: true, wolArmed: null });
    expect(ev.params.wolMessage).toMatch(/^dry run: would run ethtool -s fwtest0 wol g/);
    await sleep(500); // past the idle suspend's flush delay (a second suspend meanwhile is refused)
    const now = await c.call('suspend.now');
    expect(now.result.dryRun).toBe(true);
    await c.waitFor((l) => l.method === 'agent.suspending' && l.params.reason === 'manual', 5000);
    await sleep(1000);
    expect(markers(a)).toBe(0);
    expect(existsSync(a.ethtoolLog) ? readFileSync(a.ethtoolLog, 'utf8') : '').not.toContain('-s');
    const hist: SleepPeriod[] = (await c.call('sleep.history')).result;
    expect(hist.length).toBeGreaterThanOrEqual(2);
    for (const p of hist) expect(p.resumedAt).toBe(p.suspendedAt);
    expect(cli(a, ['suspend', 'status']).stdout).toMatch(/dry run: the command is not run/);

    // wol.send: a real UDP send, to a listener on 127.0.0.1 only.
    const server = dgram.createSocket('udp4');
    const got: Buffer[] = [];
    server.on('message', (m) => got.push(m));
    await new Promise<void>((r) => server.bind(0, '127.0.0.1', () => r()));
    try {
      const port = server.address().port;
      const r = await c.call('wol.send', { mac: '52:54:00:12:34:56', address: '127.0.0.1', port });
      expect(r.result).toEqual({ sent: 3, address: '127.0.0.1', port });
      await waitFor('three magic packets', () => got.length >= 3, { timeoutMs: 1000, intervalMs: 10 });
      expect(got).toHaveLength(3);
      const mac = Buffer.from('525400123456', 'hex');
      for (const m of got) {
        expect(m.length).toBe(102);
        expect(m.subarray(0, 6)).toEqual(Buffer.alloc(6, 0xff));
        for (let i = 0; i < 16; i++) expect(m.subarray(6 + 6 * i, 12 + 6 * i)).toEqual(mac);
      }
      const bad = await c.call('wol.send', { mac: 'not-a-mac', address: '127.0.0.1', port });
      expect(bad.error.message).toMatch(/^invalid params: mac must be 6 bytes/);
    } finally {
      server.close();
    }
    c.sock.destroy();
  }, 60_000);
});
