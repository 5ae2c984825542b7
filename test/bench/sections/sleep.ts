/**
 * Sleep and wake benchmarks:
 *   wake         live cycles on a real sshd with the real agent (user mode) and the sleep simulator as its
 *                suspend command: the agent suspends on its own after the idle timeout, the app wakes it
 *                with a magic packet on loopback, the simulator "boots" and brings sshd and the agent back.
 *                Rows: simulated boot finished -> the app shows `online` (peer: the usual shell loop
 *                `until ssh host true; do sleep 1; done`, started with the packet), and the suspend
 *                decision's lateness after the idle timeout ran out, in sampling intervals.
 *   idle-traces  the battery of load traces (test/support/load-traces.ts) through the idle engine and
 *                through the usual cron script (one reading every 5 min): false and missed suspends.
 *
 * NETWORK RULE: the host's Wake-on-LAN target is the simulator's port on 127.0.0.1, and the fleet's
 * wake guard refuses anything else before a packet leaves.
 */
import { spawn } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { HostStatus } from '../../../preload/api.js';
import { makeTestFleet, type TestFleet } from '../../support/fleet.js';
import { generateKey } from '../../support/keys.js';
import { cronScriptPolicy, DEFAULT_ENGINE_SETTINGS, enginePolicy, loadTraces, replayTrace } from '../../support/load-traces.js';
import { assertLoopbackTarget, startSleepSim, type SleepSim } from '../../support/sleep-sim.js';
import { startSshd, type SshdHandle } from '../../support/sshd.js';
import { authorizeKey, ensureUser } from '../../support/users.js';
import { repeat } from '../loop.js';
import { summarize } from '../stats.js';
import { fmtNumber } from '../table.js';
import { BENCH_USER } from '../testbed.js';
import type { BenchSection, Row } from '../types.js';
import { benchAgentHome, requireAgentBundle } from './agent.js';

const QUICK = process.env.FLEETWAKE_BENCH_QUICK === '1';
const CYCLES = QUICK ? 4 : 10;
const HOST = 'bench-sleepy';
const MAC = '02:00:5e:77:00:b1';
/** The agent's sampling interval in these cycles (s): short, so a cycle takes seconds, not half an hour. */
const INTERVAL_S = 1;
/** How long the simulated boot takes; the rows measure from its end, so its length does not matter. */
const BOOT_MS = 1_000;

/** The peer: what a user scripts without Fleetwake. Resolves with the time it got in (Date.now()). */
function sshUntilUp(server: SshdHandle, keyPath: string, deadlineMs: number): { done: Promise<number | null>; stop(): void } {
  const ssh = [
    'ssh', '-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
    '-o', 'IdentitiesOnly=yes', '-o', 'LogLevel=QUIET', '-o', 'ConnectTimeout=2', '-i', keyPath, '-p', String(server.port),
    '-l', BENCH_USER, server.host, 'true',
  ].map((a) => `'${a}'`).join(' ');
  const child = spawn('sh', ['-c', `until ${ssh} 2>/dev/null; do sleep 1; done`], { stdio: 'ignore' });
  const timer = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
  const done = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve(code === 0 ? Date.now() : null);
    });
  });
  return { done, stop: () => child.kill('SIGKILL') };
}

async function wakeRows(): Promise<Row[]> {
  const bundle = requireAgentBundle();
  const agentHome = await benchAgentHome();
  const user = await ensureUser(BENCH_USER);
  const keysDir = mkdtempSync(path.join(tmpdir(), 'fleetwake-bench-sleep-'));
  let sshd: SshdHandle | undefined;
  let sim: SleepSim | undefined;
  let t: TestFleet | undefined;
  try {
    const key = await generateKey(keysDir, { type: 'ed25519', name: 'sleep' });
    await authorizeKey(BENCH_USER, key.publicKey);
    sshd = await startSshd({ allowUsers: [BENCH_USER], passwordAuthentication: false });
    sim = await startSleepSim({ sshd, user, mac: MAC, bootDelayMs: BOOT_MS });

    // agent.yaml before deploy (deploy keeps it). CPU/GPU thresholds are high because this box runs the
    // bench, the app and the "server" at once; the idle timing is what is measured, not the thresholds.
    const confDir = path.join(user.home, '.config', 'fleetwake');
    for (const d of [path.join(user.home, '.config'), confDir]) {
      mkdirSync(d, { recursive: true });
      chownSync(d, user.uid, user.gid);
    }
    const yaml = [
      'metrics:', `  interval_seconds: ${INTERVAL_S}`,
      'idle:', '  cpu_idle_threshold: 90', '  gpu_idle_threshold: 90', '  window_seconds: 4', '  idle_timeout_seconds: 3',
      '  min_samples: 2', '  enable_suspend: false',
      'suspend:', `  command: [${sim.suspendCommand.map((a) => JSON.stringify(a)).join(', ')}]`, '',
    ].join('\n');
    writeFileSync(path.join(confDir, 'agent.yaml'), yaml, { mode: 0o600 });
    chownSync(path.join(confDir, 'agent.yaml'), user.uid, user.gid);

    // The app's own connection and wake settings (not the tests' short ones).
    t = makeTestFleet({ agentBundle: bundle, connection: {}, wake: { guard: assertLoopbackTarget } });
    const fleet = t.fleet;
    await fleet.addHost({ name: HOST, host: sshd.host, port: sshd.port, user: BENCH_USER, identityFile: key.privatePath, mac: MAC, wolAddress: sim.udpAddress, wolPort: sim.udpPort });
    await fleet.trustHostKey(HOST, sshd.hostKeyFingerprint);
    const deployed = await fleet.deployAgent(HOST, { mode: 'user' });
    if (deployed.state !== 'running') throw new Error(`agent deploy failed: ${deployed.message}`);

    let lastSuspendAt: number | null = null;
    fleet.on('idle-status', (i) => {
      if (i.name === HOST && i.status?.suspendAt != null) lastSuspendAt = i.status.suspendAt;
    });
    let onlineAt: number | null = null;
    fleet.on('host-status', (s: HostStatus) => {
      if (s.name === HOST && s.state === 'online' && onlineAt === null) onlineAt = Date.now();
    });

    const wakeMs: number[] = [];
    const peerMs: number[] = [];
    const decisionIntervals: number[] = [];
    const commandMs: number[] = [];
    const failures: string[] = [];
    await fleet.configureIdle(HOST, { enableSuspend: true });
    const r = await repeat({ count: CYCLES, budgetMs: CYCLES * 30_000 }, async () => {
      // The agent decides by itself: warm-up, then the idle timeout.
      const suspendsBefore = sim!.suspends;
      await sim!.waitFor('asleep', 30_000);
      if (sim!.suspends !== suspendsBefore + 1) throw new Error(`expected one suspend, saw ${sim!.suspends - suspendsBefore}`);
      await t!.waitForState(HOST, 'asleep', 15_000);
      const decidedFor = lastSuspendAt;

      onlineAt = null;
      const peer = sshUntilUp(sshd!, key.privatePath, 60_000);
      const woke = await fleet.wakeHost(HOST, { wait: true, timeoutSeconds: 60 });
      const peerAt = await peer.done;
      const booted = sim!.bootedAt!;
      if (woke.state !== 'online' || onlineAt === null) failures.push(`wake ended ${woke.state}`);
      else wakeMs.push(onlineAt - booted);
      if (peerAt !== null) peerMs.push(peerAt - booted);

      const period = (await fleet.getSleepHistory(HOST))[0];
      if (period && decidedFor !== null && period.reason === 'idle') {
        decisionIntervals.push((period.suspendedAt - decidedFor) / (INTERVAL_S * 1000));
        commandMs.push(sim!.triggeredAt! - period.suspendedAt);
      }
    });
    await fleet.configureIdle(HOST, { enableSuspend: false }).catch(() => undefined);

    const wake = summarize(wakeMs);
    const peer = summarize(peerMs);
    const decision = summarize(decisionIntervals, 'intervals');
    const cmd = summarize(commandMs);
    const budget = r.timedOut ? [`time budget reached after ${r.done} of ${CYCLES} cycles`] : [];
    return [
      {
        name: 'wake: simulated boot done -> app shows online',
        value: wake,
        peerName: 'until ssh host true; sleep 1',
        peer,
        ratio: wake.p50 / peer.p50,
        target: 'p90 < 1000 ms',
        pass: wake.n > 0 && failures.length === 0 && wake.p90 < 1000,
        notes: [
          `${wake.n} wakes with the app's default poll (500 ms) and connection settings; "boot done" is when the simulator's sshd answers with its banner and the agent is thawed, "online" is the Fleet core's host-status event.`,
          `The peer loop starts with the magic packet and measures to the moment its ssh got in.`,
          ...failures.map((f) => `failure: ${f}`),
          ...budget,
        ],
      },
      {
        name: 'suspend decision after the idle timeout',
        value: decision,
        target: 'p90 < 2 intervals',
        pass: decision.n > 0 && decision.p90 < 2,
        notes: [
          `Agent clock: the suspend decision (the sleep period's start) minus suspendAt (idle since + timeout) from the agent's last idle status, in sampling intervals of ${INTERVAL_S} s; ${decision.n} automatic suspends.`,
          `Decision to suspend command running: p50 ${fmtNumber(cmd.p50)} ms (armed WoL, history flushed, clients told, then a 300 ms grace for the announcement to leave).`,
        ],
      },
    ];
  } finally {
    await t?.fleet.close().catch(() => undefined);
    await sim?.close().catch(() => undefined);
    if (sshd && sshd.pid === null) await sshd.start().catch(() => undefined);
    await agentHome.finish();
    await sshd?.destroy();
    rmSync(keysDir, { recursive: true, force: true });
  }
}

export const wakeSection: BenchSection = {
  name: 'wake',
  description: 'idle suspend and Wake-on-LAN cycles on a real sshd with the sleep simulator',
  run: wakeRows,
};

export const idleTracesSection: BenchSection = {
  name: 'idle-traces',
  description: 'false and missed suspends over a battery of load traces, idle engine vs a cron script',
  async run(): Promise<Row[]> {
    const traces = loadTraces();
    const hours = traces.reduce((a, t) => a + (t.ticks.at(-1)!.t - t.ticks[0]!.t), 0) / 3_600_000;
    const engine = traces.map((t) => replayTrace(t, enginePolicy()));
    const cron = traces.map((t) => replayTrace(t, cronScriptPolicy()));
    const count = (rs: typeof engine, k: 'falseSuspends' | 'missed') => rs.reduce((a, r) => a + r[k].length, 0);
    const asMeasure = (n: number) => ({ p50: n, p90: n, n: traces.length, unit: 'suspends' });
    const worstCron = cron
      .filter((r) => r.falseSuspends.length > 0)
      .map((r) => `${r.trace} ${r.falseSuspends.length}`)
      .join(', ');
    const s = DEFAULT_ENGINE_SETTINGS;
    const setup = `${traces.length} seeded traces, ${hours.toFixed(0)} simulated hours, agent defaults (CPU < ${s.cpuIdleThreshold} %, GPU < ${s.gpuIdleThreshold} %, window ${s.windowSeconds} s, timeout ${s.idleTimeoutSeconds / 60} min, ${s.intervalSeconds} s samples); after a suspend the box sleeps until it is next needed.`;
    return [
      {
        name: 'false suspends (box in use within the timeout)',
        value: asMeasure(count(engine, 'falseSuspends')),
        peerName: 'cron script, 1 reading / 5 min',
        peer: asMeasure(count(cron, 'falseSuspends')),
        ratio: null,
        target: '0',
        pass: count(engine, 'falseSuspends') === 0,
        notes: [setup, `The cron script's false suspends by trace: ${worstCron || 'none'}.`],
      },
      {
        name: 'missed suspends (quiet long enough, stayed up)',
        value: asMeasure(count(engine, 'missed')),
        peerName: 'cron script, 1 reading / 5 min',
        peer: asMeasure(count(cron, 'missed')),
        ratio: null,
        target: '0',
        pass: count(engine, 'missed') === 0,
        notes: [`Engine suspends: ${engine.reduce((a, r) => a + r.suspends.length, 0)}; a quiet stretch counts once it lasts window + warm-up + timeout + 2 intervals.`],
      },
    ];
  },
};
