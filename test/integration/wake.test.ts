/**
 * Sleep and wake end to end on the real sshd testbed: the real agent (built from source, user mode),
 * the sleep simulator standing in for suspend, real magic packets on loopback.
 *
 * NETWORK RULE: every host here has wolAddress 127.0.0.1 and the simulator's port; the fleet's wake
 * guard (assertLoopbackTarget) refuses any other target before a packet leaves, for local sends and
 * relayed ones alike, and the CLI's targets are checked before and after it runs.
 */
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostStatus, WakeProgress } from '../../preload/api.js';
import { stopScript } from '../../main/deploy/index.js';
import { localTargets } from '../../main/sleep/wake/targets.js';
import type { GuardedTarget } from '../../main/sleep/wake/wake.js';
import { makeTestFleet, type TestFleet } from '../support/fleet.js';
import { waitFor } from '../support/wait-for.js';
import { generateKey, type GeneratedKey } from '../support/keys.js';
import { requireTools } from '../support/require-tools.js';
import { assertLoopbackTarget, startSleepSim, type SleepSim } from '../support/sleep-sim.js';
import { startSshd, type SshdHandle } from '../support/sshd.js';
import { authorizeKey, ensureUser, type TestUser } from '../support/users.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(root, 'bin', 'fleetwake.cjs');


const SLEEPY_MAC = '02:00:5e:77:00:01'; // user-set (locally administered): must never be overwritten
const SLEEPY = 'sleepy';
const RELAY = 'relay';

let work: string;
let bundle: string;
let key: GeneratedKey;
let users: Record<string, TestUser>;
let sshdSleepy: SshdHandle;
let sshdRelay: SshdHandle;
let sim: SleepSim;
let t: TestFleet;
const guarded: GuardedTarget[] = [];
const progress: WakeProgress[] = [];

function guard(target: GuardedTarget): void {
  guarded.push(target);
  assertLoopbackTarget(target);
}

/** agent.yaml for the sleepy host: fast samples, tiny idle thresholds, the simulator as suspend command. */
function agentYaml(): string {
  const lines = ['metrics:', '  interval_seconds: 1'];
  {
    // Suspend starts disabled: the idle test switches it on over RPC, so nothing suspends while the
    // other tests run.
    lines.push(
      'idle:',
      '  cpu_idle_threshold: 50',
      '  gpu_idle_threshold: 50',
      '  window_seconds: 10',
      '  idle_timeout_seconds: 3',
      '  min_samples: 2',
      '  enable_suspend: false',
      'suspend:',
      `  command: [${sim.suspendCommand.map((a) => JSON.stringify(a)).join(', ')}]`,
    );
  }
  return `${lines.join('\n')}\n`;
}

async function cleanHome(u: TestUser): Promise<void> {
  for (const rel of ['.local/share/fleetwake', '.config/fleetwake']) rmSync(path.join(u.home, rel), { recursive: true, force: true });
}

async function stopAgents(): Promise<void> {
  for (const u of Object.values(users ?? {})) {
    await run('sh', ['-c', stopScript(`${u.home}/.local/share/fleetwake/fleetwake-agent.cjs`)]).catch(() => undefined);
  }
}

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { PATH: process.env.PATH, HOME: t.homeDir, FLEETWAKE_HOME: t.dataDir }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function state(name: string): Promise<HostStatus> {
  return (await t.fleet.getStatuses()).find((s) => s.name === name)!;
}

beforeAll(async () => {
  requireTools();
  work = mkdtempSync(path.join(tmpdir(), 'fwt-wake-'));
  chmodSync(work, 0o755);
  const { stdout } = await run(
    process.execPath,
    ['--input-type=module', '-e', `const m = await import(${JSON.stringify(path.join(root, 'scripts/build-agent.mjs'))}); const r = await m.buildAgent({ outDir: ${JSON.stringify(path.join(work, 'agent'))}, quiet: true }); console.log(r.outfile);`],
    { cwd: root },
  );
  bundle = stdout.trim();
  key = await generateKey(path.join(work, 'keys'), { type: 'ed25519', name: 'wake' });
  users = {};
  for (const name of ['fwtwake', 'fwtwakerelay']) {
    users[name] = await ensureUser(name);
    await authorizeKey(name, key.publicKey);
    await cleanHome(users[name]!);
  }
  [sshdSleepy, sshdRelay] = await Promise.all([
    startSshd({ allowUsers: ['fwtwake'], passwordAuthentication: false }),
    startSshd({ allowUsers: ['fwtwakerelay'], passwordAuthentication: false }),
  ]);
  const u = users.fwtwake!;
  sim = await startSleepSim({ sshd: sshdSleepy, user: u, mac: SLEEPY_MAC });

  // The config exists before deploy, so deploy keeps it.
  const confDir = path.join(u.home, '.config', 'fleetwake');
  mkdirSync(confDir, { recursive: true });
  for (const d of [path.join(u.home, '.config'), confDir]) chownSync(d, u.uid, u.gid);
  writeFileSync(path.join(confDir, 'agent.yaml'), agentYaml(), { mode: 0o600 });
  chownSync(path.join(confDir, 'agent.yaml'), u.uid, u.gid);

  t = makeTestFleet({ agentBundle: bundle, wake: { guard, pollIntervalMs: 100 }, agent: { retryMs: 500, restartIntervalMs: 500 } });
  t.fleet.on('wake-progress', (p) => progress.push(p));
  await t.fleet.addHost({ name: SLEEPY, host: sshdSleepy.host, port: sshdSleepy.port, user: 'fwtwake', identityFile: key.privatePath, mac: SLEEPY_MAC, wolAddress: sim.udpAddress, wolPort: sim.udpPort });
  await t.fleet.addHost({ name: RELAY, host: sshdRelay.host, port: sshdRelay.port, user: 'fwtwakerelay', identityFile: key.privatePath, wolAddress: '127.0.0.1', wolPort: sim.udpPort });
  await t.fleet.trustHostKey(SLEEPY, sshdSleepy.hostKeyFingerprint);
  await t.fleet.trustHostKey(RELAY, sshdRelay.hostKeyFingerprint);
  const [a, b] = await Promise.all([t.fleet.deployAgent(SLEEPY, { mode: 'user' }), t.fleet.deployAgent(RELAY, { mode: 'user' })]);
  expect(a.state, a.message).toBe('running');
  expect(b.state, b.message).toBe('running');
}, 120_000);

afterAll(async () => {
  await t?.fleet.close().catch(() => undefined);
  await sim?.close().catch(() => undefined);
  if (sshdSleepy && sshdSleepy.pid === null) await sshdSleepy.start().catch(() => undefined);
  await stopAgents();
  for (const u of Object.values(users ?? {})) await cleanHome(u).catch(() => undefined);
  await Promise.all([sshdSleepy, sshdRelay].map((h) => h?.destroy()));
  if (work) rmSync(work, { recursive: true, force: true });
  // The network rule, checked once more over everything this file sent or relayed.
  for (const g of guarded) assertLoopbackTarget(g);
}, 60_000);

describe('wake on the sshd testbed', () => {
  it('learns MAC and subnet from the agent; a user-set MAC is kept', async () => {
    const agents = await t.fleet.getAgentStatuses();
    const relayInfo = agents.find((s) => s.name === RELAY)!.info!;
    expect(relayInfo.primaryInterface).not.toBeNull();
    const hosts = await t.fleet.listHosts();
    expect(hosts.find((h) => h.name === RELAY)!.mac).toBe(relayInfo.primaryInterface!.mac);
    expect(hosts.find((h) => h.name === SLEEPY)!.mac).toBe(SLEEPY_MAC);
    const state = JSON.parse(readFileSync(path.join(t.dataDir, 'wake-state.json'), 'utf8'));
    expect(state.hosts[SLEEPY].net).toMatchObject({ mac: relayInfo.primaryInterface!.mac, broadcast: relayInfo.primaryInterface!.broadcast });
  });

  it('a host that vanishes without an announcement is offline; a magic packet brings it back, step by step', async () => {
    const conn = t.fleet.connection(SLEEPY);
    // The simulator's trigger, run as the host's user, exactly as the agent's suspend command would.
    const r = await conn.exec(sim.suspendCommand.map((a) => `'${a}'`).join(' '), { timeoutMs: 10_000 });
    expect(r.code, r.stderr).toBe(0);
    await sim.waitFor('asleep', 5_000);
    expect(sim.frozen.length).toBeGreaterThan(0);
    await t.waitForState(SLEEPY, 'offline', 10_000);
    expect((await state(SLEEPY)).state).toBe('offline');

    progress.length = 0;
    const states: string[] = [];
    const off = t.fleet.on('host-status', (s) => s.name === SLEEPY && states.push(s.state));
    const result = await t.fleet.wakeHost(SLEEPY, { wait: true, timeoutSeconds: 30 });
    off();
    expect(result).toMatchObject({ name: SLEEPY, sentVia: 'local', targets: [{ address: '127.0.0.1', port: sim.udpPort }], state: 'online' });
    expect(progress.map((p) => p.step)).toEqual(['packet-sent', 'network-up', 'ssh-up', 'agent-up']);
    expect(states[0]).toBe('waking');
    expect(states).toContain('online');
    expect(sim.wakes).toBe(1);
    expect(sim.packets.length).toBeGreaterThanOrEqual(1);
    expect(sim.packets.every((p) => p.valid && p.bytes === 102)).toBe(true);
    expect((await state(SLEEPY)).state).toBe('online');
  });

  it('a packet for another MAC does not wake it', async () => {
    const conn = t.fleet.connection(SLEEPY);
    await conn.exec(sim.suspendCommand.map((a) => `'${a}'`).join(' '), { timeoutMs: 10_000 });
    await sim.waitFor('asleep', 5_000);
    const { sendMagicPackets } = await import('../../main/sleep/wake/magic-packet.js');
    await sendMagicPackets('02:00:5e:77:00:99', [{ address: '127.0.0.1', port: sim.udpPort }], { guard: assertLoopbackTarget, intervalMs: 10 });
    await new Promise((r) => setTimeout(r, 300));
    expect(sim.state).toBe('asleep');
    expect(sim.packets.at(-1)!.valid).toBe(false);

    // Waiting can be cancelled: with a wrong MAC it stays asleep, and Cancel ends the wait at once.
    const h = (await t.fleet.listHosts()).find((x) => x.name === SLEEPY)!;
    const input = { name: SLEEPY, host: h.host, port: h.port, user: h.user, identityFile: h.identityFile!, wolAddress: h.wolAddress!, wolPort: h.wolPort! };
    await t.fleet.updateHost(SLEEPY, { ...input, mac: '02:00:5e:77:00:99' });
    try {
      const waiting = t.fleet.wakeHost(SLEEPY, { wait: true, timeoutSeconds: 60 }).catch((e: Error) => e);
      await waitFor('the wake to be under way', async () => (await state(SLEEPY)).state === 'waking');
      const asked = Date.now();
      await t.fleet.cancelWake(SLEEPY);
      const err = await waiting;
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(/Stopped waiting for sleepy \(cancelled\)/);
      expect(Date.now() - asked).toBeLessThan(10_000);
      expect(progress.at(-1)).toMatchObject({ step: 'failed', failure: 'cancelled', deadlineAt: expect.any(Number) });
      await expect(t.fleet.cancelWake(SLEEPY)).rejects.toMatchObject({ code: 'not-found' });
      expect(sim.state).toBe('asleep');
    } finally {
      await t.fleet.updateHost(SLEEPY, { ...input, mac: SLEEPY_MAC });
    }
    await t.fleet.wakeHost(SLEEPY, { wait: true, timeoutSeconds: 30 });
    expect(sim.state).toBe('awake');
  });

  describe('with the agent suspending', () => {
    it('suspendHost: the agent announces, the app shows asleep, `fleetwake wake --wait` brings it back', async () => {
      expect(await t.fleet.suspendHost(SLEEPY)).toMatchObject({ name: SLEEPY, dryRun: false, at: expect.any(Number) });
      await sim.waitFor('asleep', 10_000);
      await t.waitForState(SLEEPY, 'asleep', 10_000);
      expect((await state(SLEEPY)).state).toBe('asleep');

      // Guard for the CLI (a separate process): the targets it will compute are loopback only.
      const h = (await t.fleet.listHosts()).find((x) => x.name === SLEEPY)!;
      for (const target of localTargets(h, null)) assertLoopbackTarget(target);
      const r = await cli(['wake', SLEEPY, '--wait', '--timeout', '30', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.steps.map((s: { step: string }) => s.step)).toEqual(['packet-sent', 'network-up', 'ssh-up', 'agent-up']);
      for (const target of out.targets) assertLoopbackTarget(target);
      expect(out.state).toBe('online');
      await t.waitForState(SLEEPY, 'online', 10_000);
    });
  });

  describe('with the idle engine', () => {
    it('load keeps it awake (high_cpu); idle suspends it; the app shows asleep', async () => {
      const idleEvents: string[] = [];
      const off = t.fleet.on('idle-status', (i) => i.name === SLEEPY && i.status && idleEvents.push(i.status.state));
      try {
        const conn = t.fleet.connection(SLEEPY);
        // Two busy loops (this machine's cores), marked so they can be found and stopped.
        await conn.exec(`for i in 1 2 3 4; do nohup sh -c 'while :; do :; done # fwtburn' >/dev/null 2>&1 & done; echo started`, { timeoutMs: 5_000 });
        // Suspending is switched on only now, so nothing suspends before the load runs.
        await t.fleet.configureIdle(SLEEPY, { enableSuspend: true });
        await expect
          .poll(async () => (await t.fleet.getIdleStatus(SLEEPY)).status?.gates.find((g) => g.gate === 'high_cpu')?.blocking, { timeout: 15_000, interval: 250 })
          .toBe(true);
        const busy = (await t.fleet.getIdleStatus(SLEEPY)).status!;
        expect(busy.state).toBe('active');
        expect(busy.suspendAt).toBeNull();
        const cli1 = await cli(['suspend', SLEEPY, 'status', '--json']);
        expect(cli1.code, cli1.stderr).toBe(0);
        const js = JSON.parse(cli1.stdout);
        expect(js.state).toBeTypeOf('string');
        expect(js.gates.map((g: { gate: string }) => g.gate)).toContain('high_cpu');

        await conn.exec(`pkill -f fwtburn; true`, { timeoutMs: 5_000 });
        await sim.waitFor('asleep', 40_000);
        await t.waitForState(SLEEPY, 'asleep', 10_000);
        expect(idleEvents.length).toBeGreaterThan(0);
      } finally {
        off();
        await run('pkill', ['-u', 'fwtwake', '-f', 'fwtburn']).catch(() => undefined);
      }
    });

    it('a relay wakes it through its agent; the idle window starts over; the sleep is in the history', async () => {
      expect(sim.state).toBe('asleep');
      progress.length = 0;
      const before = guarded.length;
      const r = await t.fleet.wakeHost(SLEEPY, { via: RELAY, wait: true, timeoutSeconds: 30 });
      expect(r).toMatchObject({ sentVia: RELAY, state: 'online' });
      for (const target of r.targets) assertLoopbackTarget(target);
      expect(guarded.slice(before).every((g) => g.via === RELAY)).toBe(true);
      expect(progress.map((p) => p.step)).toEqual(['packet-sent', 'network-up', 'ssh-up', 'agent-up']);
      expect(sim.packets.at(-1)!.valid).toBe(true);
      await expect.poll(async () => (await t.fleet.getIdleStatus(SLEEPY)).status?.state, { timeout: 10_000, interval: 250 }).toBe('warming_up');
      const history = await t.fleet.getSleepHistory(SLEEPY);
      expect(history.some((p) => p.reason === 'idle')).toBe(true);
    });

    it('nobody connected when it went to sleep: the next look (app and `fleetwake status`) shows it asleep as planned', async () => {
      await t.waitForState(SLEEPY, 'online', 10_000);
      // The lid closes the moment the app has heard the plan: the suspend announcement reaches nobody.
      let lidClosed = false;
      const off = t.fleet.on('idle-status', (i) => {
        if (!lidClosed && i.name === SLEEPY && i.status?.suspendAt != null) {
          lidClosed = true;
          void t.fleet.disconnectHost(SLEEPY);
        }
      });
      try {
        await t.fleet.configureIdle(SLEEPY, { enableSuspend: true });
        await waitFor('an idle status with a planned suspend', () => lidClosed, { timeoutMs: 40_000 });
      } finally {
        off();
      }
      await sim.waitFor('asleep', 40_000);
      // The CLI is a new run that heard nothing: it has only what the app kept.
      const r = await cli(['status', SLEEPY, '--json']);
      const [s] = JSON.parse(r.stdout);
      expect(s, r.stderr).toMatchObject({ name: SLEEPY, state: 'asleep', asleepBasis: 'planned' });
      const text = await cli(['status', SLEEPY]);
      expect(text.stdout).toMatch(/asleep\s+presumed asleep: its agent planned to suspend at .+ and it has not answered since/);
      // So does the app, reconnecting in the morning.
      expect(await t.fleet.connectHost(SLEEPY)).toMatchObject({ state: 'asleep', asleepBasis: 'planned', canWake: true });

      await t.fleet.wakeHost(SLEEPY, { wait: true, timeoutSeconds: 30 });
      expect((await state(SLEEPY)).state).toBe('online');
      // The refused connections while it slept are not left on the card as its "last error".
      expect((await state(SLEEPY)).lastError).toBeUndefined();
      // Stop it suspending again while the file winds down.
      await t.fleet.configureIdle(SLEEPY, { enableSuspend: false });
      const again = await cli(['status', SLEEPY, '--json']);
      expect(JSON.parse(again.stdout)[0]).toMatchObject({ state: 'online' });
    });
  });
});
