/**
 * The daemon's idle → suspend → resume cycle with a fake clock, fake checks and a fake exec (ethtool and
 * the suspend command are recorded, never run), plus idle.configure / sleep.history / wol.send over RPC.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex, PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../remote-agent/config/index.js';
import { AgentDaemon, EXPECTED_SLEEP_LATENESS_MS, resumeGapMs, type DaemonDeps, type History, type Sampler } from '../../remote-agent/daemon.js';
import type { CheckResult, ExternalGate } from '../../remote-agent/idle/engine.js';
import type { ExecResult } from '../../remote-agent/idle/exec.js';
import { RPC_ERRORS, type IdleStatus, type MetricsSample, type SleepPeriod } from '../../remote-agent/protocol.js';
import { FakeClock, flush } from '../support/fake-clock.js';
import { collectJsonLines } from '../support/streams.js';
import { metricsSample } from '../support/builders.js';
import { agentPathsIn } from '../support/agent-daemon.js';

function sampleAt(t: number, cpu: number): MetricsSample {
  return metricsSample(t, {
    cpu: { percent: cpu, perCore: [cpu] },
    network: [{ iface: 'eth0', rxBytesPerSec: 100, txBytesPerSec: 100 }],
    gpuError: 'nvidia-smi not found',
  });
}

const CONFIG = `metrics:
  interval_seconds: 5
idle:
  window_seconds: 30
  idle_timeout_seconds: 20
  min_samples: 3
suspend:
  command: [/usr/local/bin/fake-suspend, --now]
`;

const dirs: string[] = [];
const daemons: AgentDaemon[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

interface Setup {
  config?: string;
  dir?: string;
  cpu?: () => number;
  checks?: Partial<Record<ExternalGate, CheckResult>>;
  suspendResult?: ExecResult;
  ethtool?: string | null;
}

function setup(opts: Setup = {}) {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'fw-suspend-'));
  if (!opts.dir) dirs.push(dir);
  const paths = agentPathsIn(dir);
  writeFileSync(paths.configFile, opts.config ?? CONFIG);
  const clock = new FakeClock();
  const exec: { argv: string[]; at: number }[] = [];
  const inhibitCalls: { at: number; fresh: boolean }[] = [];
  const checks = { inhibit: { status: 'clear', reason: 'none' }, sessions: { status: 'clear', reason: 'none' }, ollama_busy: { status: 'unavailable', reason: 'no Ollama' }, custom_check: { status: 'unavailable', reason: 'none' }, ...opts.checks } as Record<ExternalGate, CheckResult>;
  const sampler: Sampler = { sample: async () => sampleAt(clock.now(), opts.cpu ? opts.cpu() : 1), capabilities: () => ({ gpu: false, gpuReason: 'x', rapl: false }) };
  const history: History = { add: () => undefined, query: (range) => ({ range, resolutionSeconds: 5, points: [] }), flush: () => undefined, close: () => undefined };
  const wolSent: unknown[] = [];
  const deps: DaemonDeps = {
    createSampler: () => sampler,
    createHistory: () => history,
    probeGpu: async () => ({ gpu: false, reason: 'none' }),
    primaryInterface: () => ({ name: 'eth0', mac: 'aa:bb:cc:dd:ee:ff', ipv4: '10.0.0.2', netmask: '255.255.255.0', broadcast: '10.0.0.255' }),
    detectHost: async () => ({ systemd: true, docker: false, sudo: true }),
    hostname: () => 'gpu-box-1',
    clock,
    idleChecks: {
      inhibit: async (fresh) => {
        inhibitCalls.push({ at: clock.now(), fresh: fresh === true });
        return checks.inhibit;
      },
      sessions: async () => checks.sessions,
      ollama: async () => checks.ollama_busy,
      custom: async () => checks.custom_check,
    },
    exec: async (file, args) => {
      exec.push({ argv: [file, ...args], at: clock.now() });
      if (file === 'ethtool') {
        if (opts.ethtool === null) return { code: null, stdout: '', stderr: '', failure: 'ENOENT' };
        return { code: 0, stdout: args.length === 1 ? (opts.ethtool ?? '\tSupports Wake-on: pumbg\n\tWake-on: d\n') : '', stderr: '', failure: null };
      }
      return opts.suspendResult ?? { code: 0, stdout: '', stderr: '', failure: null };
    },
    sendWol: async (o) => {
      wolSent.push({ mac: [...o.mac], address: o.address, port: o.port });
      return 3;
    },
  };
  const logLines: string[] = [];
  const log = createLogger({ write: (l) => logLines.push(l) });
  const daemon = new AgentDaemon({ paths, deps, log, listen: false, watchConfig: false, env: { PATH: '' } });
  daemons.push(daemon);
  return { daemon, clock, exec, checks, paths, logLines, wolSent, dir, inhibitCalls };
}

function connect(daemon: AgentDaemon) {
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  daemon.rpc.handle(Duplex.from({ readable: toServer, writable: toClient }));
  const lines: any[] = collectJsonLines(toClient);
  let id = 0;
  return {
    lines,
    notes: (method: string) => lines.filter((l) => l.method === method).map((l) => l.params),
    async call(method: string, params?: unknown) {
      const myId = ++id;
      toServer.write(JSON.stringify({ jsonrpc: '2.0', id: myId, method, ...(params === undefined ? {} : { params }) }) + '\n');
      for (let i = 0; i < 100; i++) {
        const k = lines.findIndex((l) => l.id === myId);
        if (k !== -1) return lines[k];
        await flush();
      }
      throw new Error(`no answer to ${method}`);
    },
  };
}

const suspendCmd = (exec: { argv: string[]; at: number }[]) => exec.filter((e) => e.argv[0] === '/usr/local/bin/fake-suspend');

describe('idle suspend in the daemon', () => {
  it('suspends an idle box once after the timeout: WoL armed, period recorded, every client told, then the command', async () => {
    const { daemon, clock, exec } = setup();
    await daemon.start();
    const a = connect(daemon);
    const b = connect(daemon);
    await a.call('metrics.subscribe');
    // 3 samples to warm up (0, 5, 10 s), idle from 10 s, timeout 20 s → decision at 30 s.
    await clock.advance(29_000);
    expect(a.notes('agent.suspending')).toEqual([]);
    const idle = a.notes('idle.status').at(-1) as IdleStatus;
    expect(idle.state).toBe('idle');
    expect(idle.suspendAt).not.toBeNull();
    expect(idle.suspendCommand).toEqual(['/usr/local/bin/fake-suspend', '--now']);
    await clock.advance(1_100);
    const ev = a.notes('agent.suspending');
    expect(ev).toHaveLength(1);
    expect(ev[0]).toEqual({ at: expect.any(Number), reason: 'idle', wolArmed: true, wolMessage: 'Wake-on-LAN (magic packet) armed on eth0 (Supports Wake-on: pumbg)', dryRun: false });
    expect(b.notes('agent.suspending')).toEqual(ev); // unsubscribed clients get it too
    expect(b.notes('idle.status')).toEqual([]); // ...but not idle.status
    expect(exec.map((e) => e.argv.join(' '))).toEqual(['ethtool eth0', 'ethtool -s eth0 wol g']);
    // The command runs after the flush delay.
    await clock.advance(300);
    expect(suspendCmd(exec)).toHaveLength(1);
    expect(suspendCmd(exec)[0]!.at - ev[0].at).toBeGreaterThanOrEqual(300);
    const { result: hist } = await a.call('sleep.history');
    expect(hist).toEqual([{ suspendedAt: ev[0].at, resumedAt: null, reason: 'idle', wolArmed: true, wolMessage: ev[0].wolMessage }]);
    // The next sample: warming up again, no second suspend for a fresh window + timeout.
    await clock.advance(5_000);
    expect((a.notes('idle.status').at(-1) as IdleStatus).state).toBe('warming_up');
    await clock.advance(20_000);
    expect(suspendCmd(exec)).toHaveLength(1);
    expect(daemon.counters.suspends).toBe(1);
  });

  it('asks the outside checks afresh (no cached inhibitor list) in the two intervals before the planned suspend', async () => {
    const { daemon, clock, exec, inhibitCalls } = setup();
    await daemon.start();
    // Idle from 10 s, timeout 20 s: suspend planned at 30 s; fresh from the tick at 20 s on.
    await clock.advance(31_400);
    expect(suspendCmd(exec)).toHaveLength(1);
    const t0 = inhibitCalls[0]!.at;
    expect(inhibitCalls.map((c) => [(c.at - t0) / 1000, c.fresh])).toEqual([
      [0, false],
      [5, false],
      [10, false],
      [15, false],
      [20, true],
      [25, true],
      [30, true],
    ]);
  });

  it('detects a resume from the gap between ticks: agent.resumed, period closed, window reset', async () => {
    const { daemon, clock, exec } = setup();
    await daemon.start();
    const a = connect(daemon);
    await a.call('metrics.subscribe');
    await clock.advance(31_000);
    expect(suspendCmd(exec)).toHaveLength(1);
    const before = a.notes('idle.status').length;
    clock.sleep(3_600_000); // an hour asleep
    await clock.advance(5_000);
    const resumed = a.notes('agent.resumed');
    expect(resumed).toHaveLength(1);
    expect(resumed[0].sleptSeconds).toBeGreaterThanOrEqual(3600);
    expect(resumed[0].sleptSeconds).toBeLessThan(3620);
    const { result: hist } = await a.call('sleep.history');
    expect(hist[0].resumedAt).toBe(resumed[0].at);
    const { result: st } = await a.call('idle.status');
    expect(st.state).toBe('warming_up');
    expect(st.samples).toBe(0); // the sample spanning the sleep is not fed
    expect(a.notes('idle.status').length).toBeGreaterThanOrEqual(before);
    // A full warm-up and timeout before the next suspend.
    await clock.advance(30_000);
    expect(suspendCmd(exec)).toHaveLength(1);
    await clock.advance(10_000);
    expect(suspendCmd(exec)).toHaveLength(2);
  });

  it('after its own suspend command, a short freeze is already a resume (the sleep was expected)', async () => {
    const { daemon, clock, exec } = setup();
    await daemon.start();
    const a = connect(daemon);
    await clock.advance(31_000);
    expect(suspendCmd(exec)).toHaveLength(1);
    clock.sleep(EXPECTED_SLEEP_LATENESS_MS + 1000);
    await clock.advance(5_000);
    expect(a.notes('agent.resumed')).toEqual([{ at: expect.any(Number), sleptSeconds: Math.round((EXPECTED_SLEEP_LATENESS_MS + 1000) / 1000) }]);
    expect((await a.call('sleep.history')).result[0].resumedAt).not.toBeNull();
    // With no sleep period open, the same freeze is not taken for a resume.
    clock.sleep(EXPECTED_SLEEP_LATENESS_MS + 1000);
    await clock.advance(5_000);
    expect(a.notes('agent.resumed')).toHaveLength(1);
  });

  it('a sleep the agent did not start is recorded as external; a frozen agent is not a sleep', async () => {
    const { daemon, clock } = setup({ config: CONFIG.replace('min_samples: 3', 'min_samples: 3\n  enable_suspend: false') });
    await daemon.start();
    const a = connect(daemon);
    await clock.advance(10_000);
    clock.sleep(3_600_000); // suspended by hand, or a lid
    await clock.advance(5_000);
    expect(a.notes('agent.resumed')).toHaveLength(1);
    const { result: hist } = await a.call('sleep.history');
    expect(hist).toHaveLength(1);
    expect(hist[0]).toMatchObject({ reason: 'external', resumedAt: a.notes('agent.resumed')[0].at, wolArmed: null });
    expect(hist[0].resumedAt - hist[0].suspendedAt).toBeGreaterThanOrEqual(3_600_000);
    expect(hist[0].resumedAt - hist[0].suspendedAt).toBeLessThan(3_610_000);

    clock.freeze(600_000); // SIGSTOP for ten minutes: a resume for the idle engine, but no sleep
    await clock.advance(5_000);
    expect(a.notes('agent.resumed')).toHaveLength(2);
    expect((await a.call('sleep.history')).result).toHaveLength(1);
  });

  it('a short pause is not a resume', async () => {
    const { daemon, clock } = setup();
    await daemon.start();
    const a = connect(daemon);
    clock.sleep(resumeGapMs(5) - 6000);
    await clock.advance(5000);
    expect(a.notes('agent.resumed')).toEqual([]);
    expect(daemon.counters.resumes).toBe(0);
  });

  it('stays awake while busy and while an outside check is busy', async () => {
    let cpu = 90;
    const { daemon, clock, exec, checks } = setup({ cpu: () => cpu });
    await daemon.start();
    await clock.advance(300_000);
    expect(suspendCmd(exec)).toEqual([]);
    expect(daemon.idleStatus().state).toBe('active');
    cpu = 1;
    checks.sessions = { status: 'busy', reason: '1 interactive login: alice on pts/0' };
    await clock.advance(300_000);
    expect(suspendCmd(exec)).toEqual([]);
    expect(daemon.idleStatus().gates.find((g) => g.gate === 'sessions')).toMatchObject({ status: 'busy', blocking: true });
    checks.sessions = { status: 'clear', reason: 'none' };
    await clock.advance(30_000);
    await clock.advance(300);
    expect(suspendCmd(exec)).toHaveLength(1);
  });

  it('suspend.now answers first, then does the same steps; a second one meanwhile is refused', async () => {
    const { daemon, clock, exec } = setup();
    await daemon.start();
    const a = connect(daemon);
    const r = await a.call('suspend.now');
    expect(r.result).toEqual({ at: expect.any(Number), dryRun: false });
    const again = await a.call('suspend.now');
    expect(again.error).toMatchObject({ code: RPC_ERRORS.UNAVAILABLE, message: 'a suspend is already in progress' });
    await flush();
    const answerIdx = a.lines.findIndex((l) => l.id === 1);
    const evIdx = a.lines.findIndex((l) => l.method === 'agent.suspending');
    expect(answerIdx).toBeGreaterThanOrEqual(0);
    expect(evIdx).toBeGreaterThan(answerIdx);
    expect(a.lines[evIdx].params).toMatchObject({ at: r.result.at, reason: 'manual', wolArmed: true, dryRun: false });
    await clock.advance(300);
    expect(suspendCmd(exec)).toHaveLength(1);
    const { result: hist } = await a.call('sleep.history', { limit: 1 });
    expect(hist).toEqual([expect.objectContaining({ reason: 'manual', suspendedAt: r.result.at, resumedAt: null })]);
  });

  it('dry run: records and announces, never runs the command nor changes the NIC', async () => {
    const { daemon, clock, exec } = setup({ config: CONFIG + '  dry_run: true\n' });
    await daemon.start();
    const a = connect(daemon);
    await clock.advance(31_000);
    const ev = a.notes('agent.suspending');
    expect(ev).toEqual([{ at: expect.any(Number), reason: 'idle', wolArmed: null, wolMessage: 'dry run: would run ethtool -s eth0 wol g (Supports Wake-on: pumbg)', dryRun: true }]);
    await clock.advance(120_000);
    expect(suspendCmd(exec)).toEqual([]);
    expect(exec.every((e) => e.argv.join(' ') === 'ethtool eth0')).toBe(true);
    const { result: hist } = await a.call('sleep.history');
    expect(hist.length).toBeGreaterThanOrEqual(2);
    for (const p of hist as SleepPeriod[]) expect(p.resumedAt).toBe(p.suspendedAt);
    expect((await a.call('idle.status')).result.dryRun).toBe(true);
  });

  it('a failing suspend command: the period is closed and the clients hear the box is still up', async () => {
    const { daemon, clock, logLines } = setup({ suspendResult: { code: 1, stdout: '', stderr: 'Failed to suspend system: Access denied\n', failure: null } });
    await daemon.start();
    const a = connect(daemon);
    await clock.advance(31_000);
    await clock.advance(300);
    expect(a.notes('agent.resumed')).toEqual([{ at: expect.any(Number), sleptSeconds: 0 }]);
    const { result: hist } = await a.call('sleep.history');
    expect(hist[0].resumedAt).not.toBeNull();
    expect(logLines.join('')).toMatch(/suspend command failed: the box stays up .*Access denied/);
  });

  it('no ethtool: wolArmed null with a message; a NIC without g: false', async () => {
    const one = setup({ ethtool: null });
    await one.daemon.start();
    const a = connect(one.daemon);
    await a.call('suspend.now');
    await flush();
    expect(a.notes('agent.suspending')[0]).toMatchObject({ wolArmed: null, wolMessage: 'ethtool is not installed: cannot arm Wake-on-LAN on eth0; waking it may not work' });
    await one.clock.advance(300);

    const two = setup({ ethtool: '\tSupports Wake-on: d\n\tWake-on: d\n' });
    await two.daemon.start();
    const b = connect(two.daemon);
    await b.call('suspend.now');
    await flush();
    expect(b.notes('agent.suspending')[0]).toMatchObject({ wolArmed: false, wolMessage: 'eth0 does not support magic-packet wake (Supports Wake-on: d)' });
    await two.clock.advance(300);
  });

  it('idle.status is pushed to subscribers when the state or a gate changes, not on every sample', async () => {
    const { daemon, clock } = setup({ config: CONFIG.replace('idle_timeout_seconds: 20', 'idle_timeout_seconds: 3600') });
    await daemon.start();
    const a = connect(daemon);
    await a.call('metrics.subscribe');
    await clock.advance(600_000);
    const pushes = a.notes('idle.status') as IdleStatus[];
    expect(a.notes('metrics.sample').length).toBeGreaterThan(100);
    expect(pushes.length).toBeLessThan(10);
    expect(pushes.at(-1)!.state).toBe('idle');
  });
});

describe('idle.configure and settings persistence', () => {
  it('rejects bad values with a clear message per field, and commands altogether', async () => {
    const { daemon } = setup();
    await daemon.start();
    const a = connect(daemon);
    const r = await a.call('idle.configure', { settings: { cpuIdleThreshold: 150, windowSeconds: 2.5, enableSuspend: 'yes', suspendCommand: ['rm'] } });
    expect(r.error.code).toBe(RPC_ERRORS.INVALID_PARAMS);
    expect(r.error.message).toBe(
      'invalid params: cpuIdleThreshold must be a number from 0 to 100 (got 150); windowSeconds must be a whole number from 10 to 86400 (got 2.5); ' +
        'enableSuspend must be true or false (got "yes"); unknown setting "suspendCommand" (known: cpuIdleThreshold, gpuIdleThreshold, windowSeconds, ' +
        'idleTimeoutSeconds, minSamples, networkThresholdBytesPerSec, enableSuspend; commands are set only in agent.yaml)',
    );
    const cross = await a.call('idle.configure', { settings: { minSamples: 7 } });
    expect(cross.error).toEqual({ code: RPC_ERRORS.INVALID_PARAMS, message: 'invalid params: minSamples: min_samples 7 can never be reached: a 30 s window holds at most 6 samples at a 5 s interval' });
    expect((await a.call('idle.configure', {})).error.code).toBe(RPC_ERRORS.INVALID_PARAMS);
    expect((await a.call('idle.configure', { settings: {}, extra: 1 })).error.message).toBe('invalid params: unexpected param "extra"');
  });

  it('valid changes apply at once, are written to settings.json atomically, and survive a restart over the file', async () => {
    const first = setup();
    await first.daemon.start();
    const a = connect(first.daemon);
    const r = await a.call('idle.configure', { settings: { enableSuspend: false, cpuIdleThreshold: 25, networkThresholdBytesPerSec: 5_000_000 } });
    expect(r.result.settings).toEqual({
      cpuIdleThreshold: 25,
      gpuIdleThreshold: 5,
      windowSeconds: 30,
      idleTimeoutSeconds: 20,
      minSamples: 3,
      enableSuspend: false,
      networkThresholdBytesPerSec: 5_000_000,
    });
    const file = join(first.paths.stateDir, 'settings.json');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ version: 1, idle: { enableSuspend: false, cpuIdleThreshold: 25, networkThresholdBytesPerSec: 5_000_000 } });
    // Disabled: the box idles but never suspends.
    await first.clock.advance(120_000);
    expect(suspendCmd(first.exec)).toEqual([]);
    expect(first.daemon.idleStatus().gates[0]).toMatchObject({ gate: 'disabled', blocking: true });
    await first.daemon.stop();

    const second = setup({ dir: first.dir });
    await second.daemon.start();
    const st = second.daemon.idleStatus();
    expect(st.settings).toMatchObject({ enableSuspend: false, cpuIdleThreshold: 25, windowSeconds: 30 });
    // Enabling goes through the same path and is kept with the others.
    const b = connect(second.daemon);
    await b.call('idle.configure', { settings: { enableSuspend: true } });
    expect(JSON.parse(readFileSync(file, 'utf8')).idle).toEqual({ enableSuspend: true, cpuIdleThreshold: 25, networkThresholdBytesPerSec: 5_000_000 });
    expect(existsSync(`${file}.${process.pid}.tmp`)).toBe(false);
  });

  it('an edit of agent.yaml after the app set the same setting wins; other overrides stay', async () => {
    const s = setup();
    await s.daemon.start();
    const a = connect(s.daemon);
    await a.call('idle.configure', { settings: { enableSuspend: false, cpuIdleThreshold: 25 } });
    // Unrelated edits keep the app's values.
    writeFileSync(s.paths.configFile, CONFIG.replace('window_seconds: 30', 'window_seconds: 40'));
    expect(s.daemon.reloadConfig()).toBeNull();
    expect(s.daemon.idleStatus().settings).toMatchObject({ enableSuspend: false, cpuIdleThreshold: 25, windowSeconds: 40 });
    // The admin switches suspend on in the file: that is newer than the app's "off".
    writeFileSync(s.paths.configFile, CONFIG.replace('window_seconds: 30', 'window_seconds: 40').replace('min_samples: 3', 'min_samples: 3\n  enable_suspend: true'));
    expect(s.daemon.reloadConfig()).toBeNull();
    // (unchanged from the file's point of view: enable_suspend was already true by default)
    expect(s.daemon.idleStatus().settings.enableSuspend).toBe(false);
    writeFileSync(s.paths.configFile, CONFIG.replace('min_samples: 3', 'min_samples: 3\n  enable_suspend: false\n  cpu_idle_threshold: 30'));
    expect(s.daemon.reloadConfig()).toBeNull();
    writeFileSync(s.paths.configFile, CONFIG.replace('min_samples: 3', 'min_samples: 3\n  enable_suspend: true\n  cpu_idle_threshold: 30'));
    expect(s.daemon.reloadConfig()).toBeNull();
    expect(s.daemon.idleStatus().settings).toMatchObject({ enableSuspend: true, cpuIdleThreshold: 30 });
    expect(JSON.parse(readFileSync(join(s.paths.stateDir, 'settings.json'), 'utf8')).idle).toEqual({});
  });

  it('a corrupt settings.json is ignored with a warning, not a crash', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fw-suspend-'));
    dirs.push(dir);
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'state'));
    writeFileSync(join(dir, 'state', 'settings.json'), '{ nope');
    const s = setup({ dir });
    await s.daemon.start();
    expect(s.daemon.idleStatus().settings.cpuIdleThreshold).toBe(10);
    expect(s.logLines.join('')).toMatch(/idle settings file problem .*not valid JSON/);
  });
});

describe('sleep.history and wol.send over RPC', () => {
  it('sleep.history validates limit and lists newest first; an open period left by a previous run is closed at start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fw-suspend-'));
    dirs.push(dir);
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'state'));
    const lines = [
      { suspendedAt: 1000, resumedAt: 2000, reason: 'idle', wolArmed: true, wolMessage: 'ok' },
      { suspendedAt: 3000, resumedAt: null, reason: 'manual', wolArmed: null, wolMessage: 'no ethtool' },
    ];
    writeFileSync(join(dir, 'state', 'sleep-history.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\nnot json\n');
    const s = setup({ dir });
    await s.daemon.start();
    const a = connect(s.daemon);
    const { result } = await a.call('sleep.history');
    expect(result.map((p: SleepPeriod) => p.suspendedAt)).toEqual([3000, 1000]);
    expect(result[0].resumedAt).toBe(s.clock.t);
    expect((await a.call('sleep.history', { limit: 0 })).error.message).toBe('invalid params: limit must be a whole number from 1 to 10000');
    expect((await a.call('sleep.history', { limit: 1 })).result).toHaveLength(1);
  });

  it('wol.send validates the MAC and defaults to the primary interface broadcast, port 9', async () => {
    const { daemon, wolSent } = setup();
    await daemon.start();
    const a = connect(daemon);
    const bad = await a.call('wol.send', { mac: 'zz:bb:cc:dd:ee:ff' });
    expect(bad.error).toEqual({ code: RPC_ERRORS.INVALID_PARAMS, message: 'invalid params: mac must be 6 bytes like aa:bb:cc:dd:ee:ff (got "zz:bb:cc:dd:ee:ff")' });
    expect((await a.call('wol.send', { mac: 'aa:bb:cc:dd:ee:ff', address: 'example.com' })).error.message).toMatch(/^invalid params: address must be an IPv4 address/);
    expect((await a.call('wol.send', { mac: 'aa:bb:cc:dd:ee:ff', port: 70000 })).error.message).toBe('invalid params: port must be a whole number from 1 to 65535 (got 70000)');
    const ok = await a.call('wol.send', { mac: 'AA-BB-CC-DD-EE-01' });
    expect(ok.result).toEqual({ sent: 3, address: '10.0.0.255', port: 9 });
    expect(wolSent).toEqual([{ mac: [0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0x01], address: '10.0.0.255', port: 9 }]);
  });
});

describe('fleetwake-agent suspend (CLI parsing and output)', () => {
  it('parses status|enable|disable|now with --json, and rejects the rest', async () => {
    const { parseArgs, formatIdleStatus } = await import('../../remote-agent/cli.js');
    expect(parseArgs(['suspend', 'now', '--json'])).toMatchObject({ command: 'suspend', sub: 'now', json: true });
    expect(parseArgs(['suspend', 'disable'])).toMatchObject({ command: 'suspend', sub: 'disable', json: false });
    expect(parseArgs(['suspend'])).toBe('suspend needs one of status|enable|disable|now');
    expect(parseArgs(['suspend', 'later'])).toBe('suspend needs one of status|enable|disable|now (got later)');
    expect(parseArgs(['suspend', 'now', 'please'])).toBe('unexpected argument please');
    expect(parseArgs(['status', 'now'])).toBe('unexpected argument now');
    const { daemon, clock } = setup();
    await daemon.start();
    await clock.advance(16_000);
    const text = formatIdleStatus(daemon.idleStatus(), clock.t);
    expect(text).toMatch(/^state: {4}idle since /);
    expect(text).toMatch(/\nnext: {5}suspends at .* \(in 0:1\d\) if nothing changes\n/);
    expect(text).toMatch(/\n {2}x {2}below_timeout {2}idle for 0:0\d of 0:20\n/);
    expect(text).toMatch(/\n {2}\? {2}ollama_busy {4}not checked: no Ollama, not keeping the box awake\n/);
  });
});
