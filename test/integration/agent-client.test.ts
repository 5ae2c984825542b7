import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AgentUnavailableError, openAgentClient } from '../../main/agent/client.js';
import { readInstallManifests, readManifest, type InstallManifest } from '../../main/remote/manifest.js';
import { AgentManager } from '../../main/agent/manager.js';
import type { AgentStatus, MetricsBatch } from '../../preload/api.js';
import { PROTOCOL_VERSION, type MetricsSample } from '../../remote-agent/protocol.js';
import { makeTestFleet, type TestFleet } from '../support/fleet.js';
import { generateKey, type GeneratedKey } from '../support/keys.js';
import { requireTools } from '../support/require-tools.js';
import { startSshd, type SshdHandle } from '../support/sshd.js';
import { authorizeKey, ensureUser, type TestUser } from '../support/users.js';
import { waitFor } from '../support/wait-for.js';

// The app side of contract 2 against a REAL sshd: direct-streamlocal to a unix socket served by a process
// of the test user, the exec'd stdio bridge when streamlocal cannot reach the socket, the bridge's own
// diagnosis, and the AgentManager restarting a detached agent and following the host offline and back.

const NODE = process.execPath;
const FAKE_VERSION = '9.9.9+fake';

/**
 * A stand-in for fleetwake-agent, plain CommonJS node, configured by `<script>.json` beside it:
 *   serve          listen on cfg.socket: agent.info, metrics.latest/subscribe/history; pid in <socket>.pid
 *   run --detach   start `serve` detached and return once the socket answers
 *   rpc            stdio bridge to cfg.bridgeTarget; when unreachable print one JSON-RPC error line (id
 *                  null, data.errno) and a stderr line and exit 1, as the real bridge does
 */
const FAKE_AGENT = String.raw`'use strict';
const net = require('net'), fs = require('fs'), { spawn } = require('child_process');
const cfg = JSON.parse(fs.readFileSync(__filename + '.json', 'utf8'));
const cmd = process.argv[2];
const sample = () => ({ sampledAt: Date.now(), cpu: { percent: 1, perCore: [1], load: [0, 0, 0] },
  memory: { totalBytes: 100, usedBytes: 50, availableBytes: 50, swapTotalBytes: 0, swapUsedBytes: 0 },
  disks: [], network: [], uptimeSeconds: 1, gpus: [], gpuProcesses: [], gpuError: null, cpuPowerW: null });
function serve() {
  try { fs.unlinkSync(cfg.socket); } catch {}
  const server = net.createServer((sock) => {
    let buf = '', timer = null;
    const send = (o) => { if (!sock.destroyed) sock.write(JSON.stringify(o) + '\n'); };
    sock.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const req = JSON.parse(buf.slice(0, nl)); buf = buf.slice(nl + 1);
        const ok = (result) => send({ jsonrpc: '2.0', id: req.id, result });
        if (req.method === 'agent.info') ok({ version: cfg.version, protocolVersion: cfg.protocolVersion, mode: 'user',
          capabilities: { gpu: false, gpuReason: 'fake', systemd: false, docker: false, sudo: false, rapl: false },
          hostname: require('os').hostname(), primaryInterface: null, pid: process.pid, startedAt: Date.now(),
          nodeVersion: process.version, configPath: '/dev/null', stateDir: '/tmp', configError: null });
        else if (req.method === 'metrics.latest') ok(sample());
        else if (req.method === 'metrics.subscribe') {
          clearInterval(timer);
          timer = setInterval(() => send({ jsonrpc: '2.0', method: 'metrics.sample', params: sample() }), 100);
          ok({ intervalSeconds: 0.1 });
        } else if (req.method === 'metrics.history') ok({ range: req.params.range, resolutionSeconds: 60, points: [{ t: 1, cpuPercent: 1,
          memUsedBytes: 1, memTotalBytes: 2, cpuPowerW: null, netRxBytesPerSec: null, netTxBytesPerSec: null, gpus: [] }] });
        else send({ jsonrpc: '2.0', id: req.id, error: { code: -32601, message: 'method not found: ' + req.method } });
      }
    });
    sock.on('close', () => clearInterval(timer));
    sock.on('error', () => {});
  });
  server.listen(cfg.socket, () => fs.writeFileSync(cfg.socket + '.pid', String(process.pid)));
}
function bridge() {
  const sock = net.connect(cfg.bridgeTarget);
  let connected = false;
  sock.on('connect', () => { connected = true; process.stdin.pipe(sock); sock.pipe(process.stdout); });
  sock.on('error', (e) => {
    if (connected) process.exit(1);
    const why = e.code === 'EACCES' ? 'permission denied on ' + cfg.bridgeTarget : 'agent not running (no socket at ' + cfg.bridgeTarget + ')';
    process.stdout.write(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32002, message: why, data: { errno: e.code, socket: cfg.bridgeTarget } } }) + '\n');
    process.stderr.write('fake-agent rpc: ' + why + '\n');
    process.exitCode = 1;
  });
  sock.on('close', () => { if (connected) process.exit(0); });
}
function detach() {
  spawn(process.execPath, [__filename, 'serve'], { detached: true, stdio: 'ignore' }).unref();
  const deadline = Date.now() + 5000;
  (function probe() {
    const s = net.connect(cfg.socket);
    s.on('connect', () => { s.destroy(); process.exit(0); });
    s.on('error', () => { if (Date.now() > deadline) { console.error('did not come up'); process.exit(1); } setTimeout(probe, 50); });
  })();
}
if (cmd === 'serve') serve();
else if (cmd === 'rpc') bridge();
else if (cmd === 'run' && process.argv.includes('--detach')) detach();
else { console.error('usage'); process.exit(2); }
`;

let keysDir: string;
let key: GeneratedKey;
let user: TestUser;
let other: TestUser;
let sshd: SshdHandle;
let fw: string; // ~/fw of the test user
let privateSocketServer: Server;
let privateSocket: string;
const pidFiles: string[] = [];

function writeAs(u: TestUser, file: string, content: string, mode = 0o644): void {
  writeFileSync(file, content, { mode });
  chmodSync(file, mode);
  chownSync(file, u.uid, u.gid);
}

function mkdirAs(u: TestUser, dir: string, mode = 0o755): void {
  mkdirSync(dir, { recursive: true, mode });
  chmodSync(dir, mode);
  chownSync(dir, u.uid, u.gid);
}

/** A copy of the fake agent with its own config; returns its path. */
function fakeAgent(name: string, cfg: { socket: string; bridgeTarget: string; version?: string; protocolVersion?: number }): string {
  const p = join(fw, `${name}.cjs`);
  writeAs(user, p, FAKE_AGENT, 0o755);
  writeAs(user, `${p}.json`, JSON.stringify({ version: FAKE_VERSION, protocolVersion: PROTOCOL_VERSION, ...cfg }));
  pidFiles.push(`${cfg.socket}.pid`);
  return p;
}

function manifest(over: Partial<InstallManifest>): InstallManifest {
  return {
    version: FAKE_VERSION,
    protocolVersion: PROTOCOL_VERSION,
    mode: 'user',
    installDir: fw,
    agentPath: join(fw, 'agent-a.cjs'),
    nodePath: NODE,
    uploadedRuntime: false,
    socketPath: join(fw, 'agent.sock'),
    configFile: join(fw, 'agent.yaml'),
    stateDir: fw,
    supervisor: 'detached',
    installedAt: new Date().toISOString(),
    ...over,
  };
}

function killPidFile(file: string): void {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 1) process.kill(pid, 'SIGKILL');
  } catch {
    /* not running */
  }
}

async function onlineFleet(): Promise<TestFleet> {
  const t = makeTestFleet();
  await t.fleet.addHost({ name: 'gpu', host: sshd.host, port: sshd.port, user: user.name, identityFile: key.privatePath });
  const s = await t.waitForState('gpu', 'host-key-unknown');
  await t.fleet.trustHostKey('gpu', s.fingerprint!);
  await t.waitForState('gpu', 'online');
  return t;
}

beforeAll(async () => {
  requireTools();
  keysDir = mkdtempSync(join(tmpdir(), 'fleetwake-agentkeys-'));
  key = await generateKey(keysDir, { type: 'ed25519', name: 'agent' });
  user = await ensureUser('fwtagentuser');
  other = await ensureUser('fwtagentother');
  await authorizeKey(user.name, key.publicKey);
  sshd = await startSshd({ allowUsers: [user.name], passwordAuthentication: false });
  // Fresh per run: nothing of a previous run (a manifest, a socket) may leak into this one.
  fw = join(user.home, 'fw');
  rmSync(fw, { recursive: true, force: true });
  rmSync(join(user.home, '.local/share/fleetwake'), { recursive: true, force: true });
  mkdirAs(user, fw);
  // A socket the test user cannot reach: in a 0700 directory of another user.
  const priv = join(other.home, 'fw-private');
  rmSync(priv, { recursive: true, force: true });
  mkdirAs(other, priv, 0o700);
  privateSocket = join(priv, 'agent.sock');
  privateSocketServer = createServer((s) => s.destroy());
  await new Promise<void>((r) => privateSocketServer.listen(privateSocket, r));
});

afterAll(async () => {
  for (const f of pidFiles) killPidFile(f);
  await new Promise<void>((r) => (privateSocketServer ? privateSocketServer.close(() => r()) : r()));
  await sshd?.destroy();
});

describe('agent client over real sshd', () => {
  it('reads install.json, talks over direct-streamlocal, falls back to the exec bridge, reports the bridge diagnosis', async () => {
    const t = await onlineFleet();
    try {
      const conn = t.fleet.connection('gpu');
      const sock = join(fw, 'agent.sock');
      const agentA = fakeAgent('agent-a', { socket: sock, bridgeTarget: sock });

      // No install of this user's own yet (a system agent on this machine may have one).
      expect((await readInstallManifests(conn)).user).toBeNull();
      const m = manifest({ agentPath: agentA });
      const dir = join(user.home, '.local/share/fleetwake');
      mkdirAs(user, join(user.home, '.local'));
      mkdirAs(user, join(user.home, '.local/share'));
      mkdirAs(user, dir);
      writeAs(user, join(dir, 'install.json'), JSON.stringify(m, null, 2));
      expect(await readManifest(conn)).toEqual(m);

      // Start the agent as the test user, detached, the way the app restarts one.
      const started = await conn.exec(`'${NODE}' '${agentA}' run --mode user --detach`, { timeoutMs: 10_000 });
      expect(started.code, started.stderr).toBe(0);

      // 1. direct-streamlocal to the socket.
      const a = await openAgentClient(conn, m);
      expect(a.transport).toBe('streamlocal');
      expect(a.info).toMatchObject({ version: FAKE_VERSION, protocolVersion: PROTOCOL_VERSION, mode: 'user' });
      const got: MetricsSample[] = [];
      a.client.onNotification('metrics.sample', (s) => got.push(s));
      expect(await a.client.call('metrics.subscribe', {})).toEqual({ intervalSeconds: 0.1 });
      await waitFor('two samples over streamlocal', () => got.length >= 2);
      const h = await a.client.call('metrics.history', { range: '1h' });
      expect(h.points).toHaveLength(1);
      await expect(a.client.call('nope' as never, {} as never)).rejects.toMatchObject({ code: -32601 });
      // Round trips are quick once an exec has primed TCP_NODELAY.
      const t0 = performance.now();
      for (let i = 0; i < 20; i++) await a.client.call('agent.info', {});
      expect((performance.now() - t0) / 20).toBeLessThan(20);
      a.client.close();

      // 2. The manifest's socket is unreachable for this user (another user's 0700 dir): sshd says only
      //    "open failed"; the exec'd bridge (which reaches the agent here) carries the protocol instead.
      const agentB = fakeAgent('agent-b', { socket: sock, bridgeTarget: sock });
      const b = await openAgentClient(conn, manifest({ agentPath: agentB, socketPath: privateSocket }));
      expect(b.transport).toBe('exec');
      expect(b.streamlocalError).toMatch(/open failed/);
      expect(b.info.version).toBe(FAKE_VERSION);
      const viaBridge: MetricsSample[] = [];
      b.client.onNotification('metrics.sample', (s) => viaBridge.push(s));
      await b.client.call('metrics.subscribe', {});
      await waitFor('samples over the exec bridge', () => viaBridge.length >= 2);
      const closed = new Promise((r) => b.client.once('close', r));
      b.client.close();
      await closed;

      // 3. When the bridge cannot reach the agent either, its own diagnosis is the error.
      const agentC = fakeAgent('agent-c', { socket: join(fw, 'c.sock'), bridgeTarget: privateSocket });
      const eacces = (await openAgentClient(conn, manifest({ agentPath: agentC, socketPath: privateSocket })).catch((e: unknown) => e)) as AgentUnavailableError;
      expect(eacces).toBeInstanceOf(AgentUnavailableError);
      expect(eacces.reason).toBe('permission');
      expect(eacces.message).toMatch(/permission denied.*EACCES/);

      const missing = join(fw, 'missing.sock');
      const agentD = fakeAgent('agent-d', { socket: missing, bridgeTarget: missing });
      await expect(openAgentClient(conn, manifest({ agentPath: agentD, socketPath: missing }))).rejects.toMatchObject({
        reason: 'not-running',
        message: expect.stringMatching(/agent not running.*ENOENT/),
      });

      await expect(openAgentClient(conn, manifest({ agentPath: join(fw, 'no-such-agent.cjs'), socketPath: missing }))).rejects.toMatchObject({
        reason: 'missing',
      });

      // Nothing left open on the server side: every channel we opened was closed.
      const ps = await conn.exec(`ps -o pid=,args= -u ${user.name}`);
      expect(ps.stdout).not.toMatch(/ rpc$/m);
    } finally {
      await t.fleet.close();
    }
  });

  it('AgentManager: running, batched metrics, restarts a killed detached agent, host offline and back', async () => {
    const t = await onlineFleet();
    const statuses: AgentStatus[] = [];
    const batches: MetricsBatch[] = [];
    const manager = new AgentManager({
      connections: { get: (n) => t.fleet.connection(n), names: () => ['gpu'] },
      statusEvents: (l) => t.fleet.on('host-status', l),
      bundledVersion: FAKE_VERSION,
      onStatus: (s) => statuses.push(s),
      onMetrics: (b) => batches.push(b),
      batchIntervalMs: 200,
      retryMs: 300,
      restartIntervalMs: 60_000,
    });
    const state = () => manager.status('gpu');
    try {
      // The manifest from the first test is still in place (detached, agent-a, ~/fw/agent.sock).
      manager.start();
      await waitFor('running', () => state().state === 'running');
      expect(state()).toMatchObject({ version: FAKE_VERSION, mode: 'user' });
      await waitFor('a metrics batch', () => batches.some((b) => b.samples.some((s) => s.name === 'gpu')));
      expect((await manager.history('gpu', '24h')).points).toHaveLength(1);

      // Kill the agent: connection lost, then the manager starts it again with run --detach.
      const pidFile = join(fw, 'agent.sock.pid');
      const oldPid = readFileSync(pidFile, 'utf8').trim();
      killPidFile(pidFile);
      await waitFor('unreachable after the kill', () => statuses.some((s) => s.state === 'unreachable' && /connection lost/.test(s.message ?? '')));
      await waitFor('running again', () => state().state === 'running' && readFileSync(pidFile, 'utf8').trim() !== oldPid);

      // Host offline: unreachable "host offline", latest metrics kept.
      expect(manager.latest('gpu')).not.toBeNull();
      await sshd.stop();
      await waitFor('host offline', () => state().state === 'unreachable' && state().message === 'host offline');
      const kept = manager.latest('gpu');
      expect(kept).not.toBeNull();
      await new Promise((r) => setTimeout(r, 300));
      expect(manager.latest('gpu')).toBe(kept);
      await sshd.start();
      await t.waitForState('gpu', 'online', 20_000);
      await waitFor('running after reconnect', () => state().state === 'running');
      const n = batches.length;
      await waitFor('metrics after reconnect', () => batches.length > n);
    } finally {
      manager.close();
      await t.fleet.close();
      if (sshd.pid === null) await sshd.start();
    }
  });

  it('the real agent bundle, started with run --detach in user mode, over streamlocal', async () => {
    // Built from the current source once per run (test/support/agent-bundle.ts), so this case never
    // depends on a stale or missing bundle.
    const bundle = inject('agentBundle');
    const t = await onlineFleet();
    const dir = join(fw, 'real');
    mkdirAs(user, dir);
    const agentPath = join(dir, 'fleetwake-agent.cjs');
    copyFileSync(bundle, agentPath);
    chmodSync(agentPath, 0o755);
    chownSync(agentPath, user.uid, user.gid);
    const socketPath = join(dir, 'agent.sock');
    const env = `FLEETWAKE_AGENT_CONFIG='${join(dir, 'agent.yaml')}' FLEETWAKE_AGENT_STATE='${join(dir, 'state')}' FLEETWAKE_AGENT_SOCKET='${socketPath}'`;
    const conn = t.fleet.connection('gpu');
    try {
      const version = (await conn.exec(`'${NODE}' '${agentPath}' version`)).stdout.trim();
      const r = await conn.exec(`${env} '${NODE}' '${agentPath}' run --mode user --detach`, { timeoutMs: 30_000 });
      expect(r.code, r.stderr + r.stdout).toBe(0);
      const m = manifest({ agentPath, socketPath, version, configFile: join(dir, 'agent.yaml'), stateDir: join(dir, 'state') });
      const a = await openAgentClient(conn, m);
      expect(a.transport).toBe('streamlocal');
      expect(a.info.protocolVersion).toBe(PROTOCOL_VERSION);
      expect(version).toContain(a.info.version);
      const samples: MetricsSample[] = [];
      a.client.onNotification('metrics.sample', (s) => samples.push(s));
      const latest = await a.client.call('metrics.latest', {});
      if (latest) expect(latest.memory.totalBytes).toBeGreaterThan(0);
      await a.client.call('metrics.subscribe', {});
      await waitFor('a real sample', () => samples.length >= 1, { timeoutMs: 20_000 });
      expect(samples[0]!.memory.totalBytes).toBeGreaterThan(0);
      a.client.close();

      // The real `rpc` bridge, where no agent listens (no env override, so it looks in the default
      // places): its JSON-RPC error line becomes the error, classified as not running.
      const err = (await openAgentClient(conn, manifest({ agentPath, socketPath: join(dir, 'nowhere.sock') })).catch((e: unknown) => e)) as AgentUnavailableError;
      expect(err).toBeInstanceOf(AgentUnavailableError);
      // Normally "not running (no socket at ~/.local/share/fleetwake/run/agent.sock)". A system agent on
      // this machine makes the bridge find /run/fleetwake/agent.sock, which this user may not open: then
      // it says the socket is only for group fleetwake. Either way the bridge's words come through.
      expect(['not-running', 'permission'], err.message).toContain(err.reason);
      expect(err.message).toMatch(/agent not running \(no socket at|permission denied: the system agent's socket/);
    } finally {
      // Stop the real agent by the pid it reports in agent.info (started by this test).
      try {
        const m = manifest({ socketPath });
        const a = await openAgentClient(conn, m);
        process.kill(a.info.pid, 'SIGTERM');
        a.client.close();
      } catch {
        /* not running */
      }
      await t.fleet.close();
    }
  });
});
