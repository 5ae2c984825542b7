import dgram from 'node:dgram';
import { mkdtempSync, readFileSync } from 'node:fs';
import type os from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentStatus, HostState, HostStatus, WakeProgress } from '../../preload/api.js';
import { FleetError } from '../../main/core/errors.js';
import type { HostRecord } from '../../main/hosts/types.js';
import { checkIdleSettings, idleLocked, idleRefusal, overlayStatus } from '../../main/sleep/wake/idle.js';
import { SleepService } from '../../main/sleep/service.js';
import { AgentRpcError } from '../../main/agent/client.js';
import { RPC_ERRORS } from '../../remote-agent/protocol.js';
import { checkMac, isMagicPacketFor, magicPacket, magicPacketMac, sendMagicPackets, type WolTarget } from '../../main/sleep/wake/magic-packet.js';
import { checkedNet, isSubnetLocal, localTargets, relayTargets, subnetOf, type LearnedNet } from '../../main/sleep/wake/targets.js';
import { macToStore, WakeState } from '../../main/sleep/wake/wake-state.js';
import { checkWakeOptions, WAKE_CANCELLED, wakeHost, type WakeDeps } from '../../main/sleep/wake/wake.js';
import { waitFor } from '../support/wait-for.js';
import { assertLoopbackTarget, isValidMagicPacket } from '../support/sleep-sim.js';

const MAC = '02:00:5e:10:00:01';

function host(name: string, extra: Partial<HostRecord> = {}): HostRecord {
  return { name, host: '127.0.0.1', port: 2222, user: 'u', identityFile: null, passwordEnv: null, jump: null, mac: null, wolAddress: null, wolPort: null, knownHostsFiles: [], ...extra };
}

const closers: (() => void)[] = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
});

function listenUdp(): Promise<{ port: number; got: Buffer[] }> {
  const sock = dgram.createSocket('udp4');
  const got: Buffer[] = [];
  sock.on('message', (m) => got.push(m));
  closers.push(() => sock.close());
  return new Promise((resolve) => sock.bind(0, '127.0.0.1', () => resolve({ port: sock.address().port, got })));
}

describe('magic packets', () => {
  it('is 6 x ff then the MAC 16 times, and the checkers agree', () => {
    const p = magicPacket('02-00-5E-10-00-01');
    expect(p.length).toBe(102);
    expect([...p.subarray(0, 6)]).toEqual([255, 255, 255, 255, 255, 255]);
    expect(p.subarray(6, 12).toString('hex')).toBe('02005e100001');
    expect(p.subarray(96).toString('hex')).toBe('02005e100001');
    expect(isMagicPacketFor(p, MAC)).toBe(true);
    expect(isValidMagicPacket(p, MAC)).toBe(true);
    expect(magicPacketMac(p)).toBe(MAC);
    expect(isMagicPacketFor(p, '02:00:5e:10:00:02')).toBe(false);
    expect(isMagicPacketFor(Buffer.concat([p, Buffer.from([0])]), MAC)).toBe(false);
    expect(isMagicPacketFor(p.subarray(0, 101), MAC)).toBe(false);
    const bad = Buffer.from(p);
    bad[50] = 0;
    expect(isMagicPacketFor(bad, MAC)).toBe(false);
    expect(isValidMagicPacket(bad, MAC)).toBe(false);
    expect(magicPacketMac(bad)).toBeNull();
  });

  it('refuses invalid MACs with a message that says what a MAC looks like', () => {
    for (const bad of ['', 'zz:00:00:00:00:00', '02:00:5e:10:00', 'ff:ff:ff:ff:ff:ff', '00:00:00:00:00:00']) {
      try {
        checkMac(bad);
        expect.unreachable(bad);
      } catch (e) {
        expect(e).toBeInstanceOf(FleetError);
        expect((e as FleetError).code).toBe('invalid-input');
        expect((e as FleetError).field).toBe('mac');
        expect((e as FleetError).message).toMatch(/MAC|network card/);
      }
    }
    expect(checkMac('0200.5e10.0001')).toBe(MAC);
  });

  it('sends a few valid packets to each loopback target', async () => {
    const a = await listenUdp();
    const b = await listenUdp();
    const targets: WolTarget[] = [
      { address: '127.0.0.1', port: a.port },
      { address: '127.0.0.1', port: b.port },
    ];
    const sent = await sendMagicPackets(MAC, targets, { packetsPerTarget: 3, intervalMs: 5, guard: assertLoopbackTarget });
    expect(sent).toEqual(targets);
    await expect.poll(() => a.got.length + b.got.length).toBe(6);
    for (const m of [...a.got, ...b.got]) expect(isValidMagicPacket(m, MAC)).toBe(true);
  });

  it('the guard stops a non-loopback target before anything is sent', async () => {
    const a = await listenUdp();
    await expect(
      sendMagicPackets(MAC, [{ address: '127.0.0.1', port: a.port }, { address: '255.255.255.255', port: 9 }], { guard: assertLoopbackTarget }),
    ).rejects.toThrow(/NETWORK RULE/);
    await new Promise((r) => setTimeout(r, 50));
    expect(a.got.length).toBe(0);
    await expect(sendMagicPackets(MAC, [{ address: '127.0.0.1', port: 0 }], { guard: assertLoopbackTarget })).rejects.toThrow(/port/);
  });
});

describe('targets', () => {
  const net: LearnedNet = { mac: MAC, ipv4: '10.1.2.3', netmask: '255.255.255.0', broadcast: '10.1.2.255', at: 1 };

  it('defaults to the learned directed broadcast and 255.255.255.255 on ports 9 and 7', () => {
    expect(localTargets(host('a'), net)).toEqual([
      { address: '10.1.2.255', port: 9 },
      { address: '10.1.2.255', port: 7 },
      { address: '255.255.255.255', port: 9 },
      { address: '255.255.255.255', port: 7 },
    ]);
    expect(localTargets(host('a'), null)).toEqual([
      { address: '255.255.255.255', port: 9 },
      { address: '255.255.255.255', port: 7 },
    ]);
  });

  it('a configured wolAddress / wolPort replaces the defaults', () => {
    expect(localTargets(host('a', { wolAddress: '127.0.0.1', wolPort: 40009 }), net)).toEqual([{ address: '127.0.0.1', port: 40009 }]);
    expect(localTargets(host('a', { wolPort: 40009 }), net)).toEqual([
      { address: '10.1.2.255', port: 40009 },
      { address: '255.255.255.255', port: 40009 },
    ]);
    expect(relayTargets(host('a', { wolAddress: '127.0.0.1', wolPort: 40009 }), net)).toEqual([{ address: '127.0.0.1', port: 40009 }]);
    expect(relayTargets(host('a'), net)).toEqual([
      { address: '10.1.2.255', port: 9 },
      { address: '10.1.2.255', port: 7 },
    ]);
    expect(relayTargets(host('a'), null)).toEqual([{ port: 9 }, { port: 7 }]);
  });

  it('knows whether a subnet is one of this computer\'s', () => {
    expect(subnetOf('10.1.2.3', '255.255.255.0')).toBe('10.1.2.0/24');
    expect(subnetOf('10.1.2.3', '255.0.255.0')).toBeNull();
    const ifaces = {
      lo: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', internal: true, mac: '00:00:00:00:00:00', cidr: '127.0.0.1/8' }],
      eth0: [{ address: '10.1.2.77', netmask: '255.255.255.0', family: 'IPv4', internal: false, mac: '02:00:00:00:00:09', cidr: '10.1.2.77/24' }],
    } as NodeJS.Dict<os.NetworkInterfaceInfo[]>;
    expect(isSubnetLocal(net, ifaces)).toBe(true);
    expect(isSubnetLocal({ ...net, ipv4: '10.9.9.9', broadcast: '10.9.9.255' }, ifaces)).toBe(false);
    expect(isSubnetLocal(null, ifaces)).toBeNull();
  });
});

describe('network facts reported by an agent', () => {
  const pi = (over: Partial<Omit<LearnedNet, 'at'>> = {}) => ({ mac: MAC, ipv4: '10.1.2.7', netmask: '255.255.255.0', broadcast: '10.1.2.255', ...over });

  it("keeps a broadcast only when it is its subnet's own", () => {
    expect(checkedNet(pi(), 1)).toEqual({ net: { ...pi(), at: 1 }, problem: null });
    expect(checkedNet(pi({ netmask: '255.255.0.0', broadcast: '10.1.255.255' }), 1).problem).toBeNull();
    // A missing broadcast is the subnet's own.
    expect(checkedNet(pi({ broadcast: null }), 1).net.broadcast).toBe('10.1.2.255');
  });

  it('replaces a broadcast outside the subnet (a real address elsewhere) and says so', () => {
    const r = checkedNet(pi({ broadcast: '8.8.8.8' }), 1);
    expect(r.net.broadcast).toBe('10.1.2.255');
    expect(r.problem).toBe('the agent reported broadcast 8.8.8.8, which is not the broadcast of its subnet 10.1.2.0/24 (10.1.2.255); using 10.1.2.255');
    // An address inside the subnet that is not its broadcast is a host: not a broadcast either.
    expect(checkedNet(pi({ broadcast: '10.1.2.9' }), 1).net.broadcast).toBe('10.1.2.255');
  });

  it('drops a broadcast it cannot check, and an address or netmask that do not parse', () => {
    const r = checkedNet(pi({ netmask: '255.0.255.0' }), 1);
    expect(r.net).toMatchObject({ netmask: null, broadcast: null });
    expect(r.problem).toMatch(/without a valid address and netmask; not using it/);
    expect(checkedNet(pi({ ipv4: '10.1.2.300' }), 1).net).toMatchObject({ ipv4: null, broadcast: null });
    const h = { name: 'gpu', wolAddress: null, wolPort: null } as HostRecord;
    expect(localTargets(h, checkedNet(pi({ broadcast: '8.8.8.8' }), 1).net).map((t) => t.address)).not.toContain('8.8.8.8');
  });
});

describe('state overlays and persistence', () => {
  const st = (state: HostState): HostStatus => ({ name: 'a', state, since: 5 });

  it('waking over asleep over offline/connecting; online and auth problems show through', () => {
    const mark = { at: 100, reason: 'idle' as const };
    expect(overlayStatus(st('offline'), mark, undefined, null)).toMatchObject({ state: 'asleep', since: 100 });
    expect(overlayStatus(st('connecting'), mark, undefined, null).state).toBe('asleep');
    expect(overlayStatus(st('offline'), mark, 200, null)).toMatchObject({ state: 'waking', since: 200 });
    expect(overlayStatus(st('offline'), null, undefined, null).state).toBe('offline');
    expect(overlayStatus(st('online'), mark, 200, null).state).toBe('online');
    expect(overlayStatus(st('auth-failed'), mark, 200, null).state).toBe('auth-failed');
  });

  it('says whether Wake makes sense: asleep always, offline only with a MAC, never online or waking', () => {
    const mark = { at: 100, reason: 'idle' as const };
    expect(overlayStatus(st('offline'), mark, undefined, null).canWake).toBe(true);
    expect(overlayStatus(st('offline'), null, undefined, null).canWake).toBe(false);
    expect(overlayStatus(st('offline'), null, undefined, 'aa:bb:cc:dd:ee:ff').canWake).toBe(true);
    expect(overlayStatus(st('online'), null, undefined, 'aa:bb:cc:dd:ee:ff').canWake).toBe(false);
    expect(overlayStatus(st('offline'), mark, 200, 'aa:bb:cc:dd:ee:ff').canWake).toBe(false);
  });

  it('keeps announcements and learned networks in a file across restarts', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'fwt-wakestate-')), 'wake-state.json');
    const a = new WakeState(file);
    a.setAsleep('gpu', { at: 123, reason: 'manual' });
    a.setNet('gpu', { mac: MAC, ipv4: '10.0.0.2', netmask: '255.255.255.0', broadcast: '10.0.0.255', at: 1 });
    const b = new WakeState(file);
    expect(b.asleep('gpu')).toEqual({ at: 123, reason: 'manual' });
    expect(b.net('gpu')?.broadcast).toBe('10.0.0.255');
    b.rename('gpu', 'gpu2');
    b.setAsleep('gpu2', null);
    const c = new WakeState(file);
    expect(c.asleep('gpu2')).toBeNull();
    expect(c.net('gpu2')?.mac).toBe(MAC);
    expect(JSON.parse(readFileSync(file, 'utf8')).hosts.gpu).toBeUndefined();
  });

  it('fills an empty MAC and follows a new NIC, but never overwrites a MAC the user typed', () => {
    const A = 'aa:bb:cc:00:00:01';
    const B = 'aa:bb:cc:00:00:02';
    const USER = '02:00:5e:00:00:09';
    expect(macToStore(null, null, A)).toBe(A); // empty: filled
    expect(macToStore(A, A, B)).toBe(B); // filled by the app, the NIC changed: follows it
    expect(macToStore(USER, null, B)).toBeNull(); // typed by the user: kept
    expect(macToStore(USER, A, B)).toBeNull(); // the user replaced the adopted one: theirs now
    expect(macToStore(A, A, A)).toBeNull();
    expect(macToStore(null, null, null)).toBeNull();
    const st = new WakeState(null);
    st.setAdoptedMac('gpu', A);
    expect(st.adoptedMac('gpu')).toBe(A);
  });

  it('checks idle settings before they reach the agent', () => {
    expect(checkIdleSettings({ enableSuspend: false, idleTimeoutSeconds: 60 })).toEqual({ enableSuspend: false, idleTimeoutSeconds: 60 });
    expect(() => checkIdleSettings({ sleepy: true })).toThrow(/Unknown idle setting "sleepy"/);
    expect(() => checkIdleSettings({ enableSuspend: 'yes' })).toThrow(/true or false/);
    expect(() => checkIdleSettings({})).toThrow(/at least one/);
    expect(() => checkIdleSettings(null)).toThrow(FleetError);
  });

  it("puts the agent's refusal of a setting on that setting's field", () => {
    const e = idleRefusal('gpu1', 'invalid params: cpuIdleThreshold must be a number from 0 to 100 (got 250); windowSeconds must be a whole number from 2 to 86400 (got 1)');
    expect(e).toMatchObject({ code: 'invalid-input', field: 'cpuIdleThreshold' });
    expect(e.message).toBe('gpu1: cpuIdleThreshold must be a number from 0 to 100 (got 250); windowSeconds must be a whole number from 2 to 86400 (got 1).');
    expect(idleRefusal('gpu1', 'invalid params: minSamples: 40 samples cannot fit').field).toBe('minSamples');
    expect(idleRefusal('gpu1', 'invalid params: settings must be an object').field).toBe('settings');
  });

  it("turns the agent's lock refusal into a conflict on the first locked field, naming the file", () => {
    const msg = "idleTimeoutSeconds, enableSuspend are locked by the box's administrator in /etc/fleetwake/agent.yaml (idle.locked); nothing was changed";
    const e = idleLocked('gpu1', msg, { locked: ['idleTimeoutSeconds', 'enableSuspend'], configFile: '/etc/fleetwake/agent.yaml' });
    expect(e).toMatchObject({ code: 'conflict', field: 'idleTimeoutSeconds' });
    expect(e.message).toBe(`gpu1: ${msg}.`);
    // Odd data from an agent never names a field the form does not have.
    expect(idleLocked('gpu1', 'locked', { locked: ['rm -rf'] }).field).toBe('settings');
    expect(idleLocked('gpu1', 'locked', undefined).field).toBe('settings');
  });

  it('configureIdle answers a locked setting with that conflict and announces no change', async () => {
    const emitted: string[] = [];
    const lockedError = new AgentRpcError(RPC_ERRORS.LOCKED, "enableSuspend is locked by the box's administrator in /etc/fleetwake/agent.yaml (idle.locked); nothing was changed", {
      locked: ['enableSuspend'],
      configFile: '/etc/fleetwake/agent.yaml',
    });
    const ctx = {
      getHost: () => ({}),
      pool: { statusOf: () => ({ state: 'online' }) },
      onlineConnection: async () => undefined,
      emit: (name: string) => emitted.push(name),
    };
    const agents = { ready: async () => ({ state: 'running' }), connected: () => true, call: async () => Promise.reject(lockedError) };
    const watch = { wakeState: { asleep: () => null } };
    const service = new SleepService(ctx as never, agents as never, watch as never, {} as never);
    const err = await service.configureIdle('gpu1', { enableSuspend: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FleetError);
    expect(err).toMatchObject({ code: 'conflict', field: 'enableSuspend', message: `gpu1: ${lockedError.message}.` });
    expect(emitted).toEqual([]);
  });

  it('checks wake options', () => {
    expect(checkWakeOptions(undefined)).toEqual({ wait: true, timeoutSeconds: 180, via: null });
    expect(() => checkWakeOptions({ timeoutSeconds: 0 })).toThrow(/1 to 3600/);
    expect(() => checkWakeOptions({ via: '' })).toThrow(/via/);
  });
});

/** A scripted fleet: hosts, what comes up when, and a record of everything sent (nothing leaves the process). */
function fakeDeps(opts: {
  hosts: HostRecord[];
  nets?: Record<string, LearnedNet>;
  upAfterMs?: number;
  sshUpAfterMs?: number;
  agent?: AgentStatus['state'];
  agentConnected?: string[];
  ifaces?: NodeJS.Dict<os.NetworkInterfaceInfo[]>;
  sshState?: HostState;
}) {
  const t0 = Date.now();
  const sent: { via: string; mac: string; targets: { address?: string; port: number }[] }[] = [];
  const progress: WakeProgress[] = [];
  const waking: boolean[] = [];
  const connected = new Set(opts.agentConnected ?? []);
  const deps: WakeDeps = {
    host: (n) => {
      const h = opts.hosts.find((x) => x.name === n);
      if (!h) throw new FleetError('not-found', `No host named "${n}".`, 'name');
      return h;
    },
    hosts: () => opts.hosts,
    net: (n) => opts.nets?.[n] ?? null,
    sshState: () => 'online',
    agentConnected: (n) => connected.has(n),
    connectNow: async (n) => {
      const up = Date.now() - t0 >= (opts.sshUpAfterMs ?? opts.upAfterMs ?? 0);
      if (n !== 'sleepy') return { name: n, state: connected.has(n) ? 'online' : 'offline', since: 0 };
      return { name: n, state: up ? (opts.sshState ?? 'online') : 'offline', since: 0, error: up ? 'needs a password' : 'refused' };
    },
    agentReady: async (n) => ({ name: n, state: opts.agent ?? 'running', version: '1.2.3', since: 0 }),
    relaySend: async (relay, params) => {
      sent.push({ via: relay, mac: params.mac, targets: [{ ...(params.address ? { address: params.address } : {}), port: params.port }] });
      return { sent: 3, address: params.address ?? '10.9.9.255', port: params.port };
    },
    onProgress: (p) => progress.push(p),
    setWaking: (_n, on) => waking.push(on),
    send: async (mac, targets, o) => {
      for (const t of targets) o.guard?.(t);
      sent.push({ via: 'local', mac, targets });
      return targets;
    },
    tcpProbe: async () => Date.now() - t0 >= (opts.upAfterMs ?? 0),
    networkInterfaces: () => opts.ifaces ?? {},
    guard: assertLoopbackTarget,
    pollIntervalMs: 20,
  };
  return { deps, sent, progress, waking };
}

describe('wakeHost', () => {
  const loop = { wolAddress: '127.0.0.1', wolPort: 40009 };

  it('sends, then reports network, ssh and agent in order', async () => {
    const f = fakeDeps({ hosts: [host('sleepy', { mac: MAC, ...loop })], upAfterMs: 120 });
    const r = await wakeHost(f.deps, 'sleepy', { wait: true, timeoutSeconds: 5 });
    expect(r).toMatchObject({ name: 'sleepy', sentVia: 'local', targets: [{ address: '127.0.0.1', port: 40009 }], state: 'online' });
    expect(f.progress.map((p) => p.step)).toEqual(['packet-sent', 'network-up', 'ssh-up', 'agent-up']);
    expect(f.sent).toEqual([{ via: 'local', mac: MAC, targets: [{ address: '127.0.0.1', port: 40009 }] }]);
    expect(f.waking).toEqual([true, false]);
  });

  it('uses the MAC learned from the agent when the host has none; says how to fix a missing one', async () => {
    const f = fakeDeps({ hosts: [host('sleepy', loop)], nets: { sleepy: { mac: MAC, ipv4: null, netmask: null, broadcast: null, at: 1 } } });
    await wakeHost(f.deps, 'sleepy', { wait: false });
    expect(f.sent[0]!.mac).toBe(MAC);
    const g = fakeDeps({ hosts: [host('sleepy', loop)] });
    await expect(wakeHost(g.deps, 'sleepy')).rejects.toMatchObject({ code: 'invalid-input', field: 'mac', message: expect.stringMatching(/no MAC address/) });
    expect(g.sent).toEqual([]);
  });

  it('stops at ssh-up when no agent is installed', async () => {
    const f = fakeDeps({ hosts: [host('sleepy', { mac: MAC, ...loop })], agent: 'not-installed' });
    await wakeHost(f.deps, 'sleepy', { timeoutSeconds: 5 });
    expect(f.progress.map((p) => p.step)).toEqual(['packet-sent', 'network-up', 'ssh-up']);
  });

  it('a cancelled wait stops at once with its own failure, saying the packet was sent; every step after the packet carries the deadline', async () => {
    const f = fakeDeps({ hosts: [host('sleepy', { mac: MAC, ...loop })], upAfterMs: 60_000 });
    const cancel = new AbortController();
    const started = Date.now();
    const pending = wakeHost({ ...f.deps, signal: cancel.signal }, 'sleepy', { timeoutSeconds: 100 }).catch((e) => e);
    await waitFor('the packet', () => f.progress.some((p) => p.step === 'packet-sent'));
    cancel.abort(WAKE_CANCELLED);
    const err = await pending;
    expect(Date.now() - started).toBeLessThan(50_000);
    expect(err.message).toBe('Stopped waiting for sleepy (cancelled). The magic packet was sent, so it may still wake.');
    expect(f.progress.map((p) => [p.step, p.failure])).toEqual([['packet-sent', undefined], ['failed', 'cancelled']]);
    const sentAt = f.progress[0]!.at;
    expect(f.progress.every((p) => p.deadlineAt !== undefined && Math.abs(p.deadlineAt - (sentAt + 100_000)) < 1_000)).toBe(true);
    expect(f.waking).toEqual([true, false]);
  });

  it('times out with a failed step that says what to check', async () => {
    const f = fakeDeps({ hosts: [host('sleepy', { mac: MAC, ...loop })], upAfterMs: 60_000 });
    const err = await wakeHost(f.deps, 'sleepy', { timeoutSeconds: 1 }).catch((e) => e);
    expect(err).toBeInstanceOf(FleetError);
    expect(err.message).toMatch(/did not come back within 1 s .*nothing answers on 127\.0\.0\.1:2222.*Wake-on-LAN is enabled/);
    expect(f.progress.map((p) => p.step)).toEqual(['packet-sent', 'failed']);
    expect(f.progress.at(-1)!.failure).toBe('no-answer');
    expect(f.waking).toEqual([true, false]);
  });

  it('fails at once when the host is up but SSH needs the user', async () => {
    const f = fakeDeps({ hosts: [host('sleepy', { mac: MAC, ...loop })], sshState: 'auth-failed' });
    await expect(wakeHost(f.deps, 'sleepy', { timeoutSeconds: 5 })).rejects.toThrow(/awake but SSH needs you: needs a password/);
    expect(f.progress.at(-1)).toMatchObject({ step: 'failed', failure: 'needs-you' });
  });

  it('relays through the named host with its agent', async () => {
    const f = fakeDeps({ hosts: [host('sleepy', { mac: MAC, ...loop }), host('relay')], agentConnected: ['relay'] });
    const r = await wakeHost(f.deps, 'sleepy', { via: 'relay', wait: false });
    expect(r).toMatchObject({ sentVia: 'relay', state: 'waking', targets: [{ address: '127.0.0.1', port: 40009 }] });
    expect(f.sent).toEqual([{ via: 'relay', mac: MAC, targets: [{ address: '127.0.0.1', port: 40009 }] }]);
    await expect(wakeHost(f.deps, 'sleepy', { via: 'sleepy' })).rejects.toMatchObject({ code: 'invalid-input', field: 'via' });
    await expect(wakeHost(f.deps, 'sleepy', { via: 'nope' })).rejects.toMatchObject({ code: 'not-found' });
  });

  it('picks a relay on the same subnet automatically when this computer is not on it', async () => {
    // Computation only: the relay is fake and the guard would refuse 10.9.9.255 before any real send.
    const sub = { ipv4: '10.9.9.5', netmask: '255.255.255.0', broadcast: '10.9.9.255', at: 1 };
    const f = fakeDeps({
      hosts: [host('sleepy', { mac: MAC }), host('other'), host('peer')],
      nets: { sleepy: { mac: MAC, ...sub }, peer: { mac: '02:00:00:00:00:02', ...sub, ipv4: '10.9.9.6' }, other: { mac: '02:00:00:00:00:03', ...sub, ipv4: '10.8.0.1' } },
      agentConnected: ['peer', 'other'],
      ifaces: { eth0: [{ address: '192.168.1.10', netmask: '255.255.255.0', family: 'IPv4', internal: false, mac: '02:00:00:00:00:09', cidr: '192.168.1.10/24' }] } as NodeJS.Dict<os.NetworkInterfaceInfo[]>,
    });
    f.deps.guard = (t) => expect(t.via).toBe('peer'); // relayed, never sent from here
    const r = await wakeHost(f.deps, 'sleepy', { wait: false });
    expect(r.sentVia).toBe('peer');
    expect(f.sent.map((s) => s.via)).toEqual(['peer', 'peer']);
    expect(f.sent.flatMap((s) => s.targets)).toEqual([
      { address: '10.9.9.255', port: 9 },
      { address: '10.9.9.255', port: 7 },
    ]);
    expect(f.progress[0]!.message).toMatch(/by peer's agent/);
  });

  it('every local default target of a host without wolAddress trips the test guard', async () => {
    const f = fakeDeps({ hosts: [host('sleepy', { mac: MAC })] });
    await expect(wakeHost(f.deps, 'sleepy')).rejects.toThrow(/NETWORK RULE/);
    expect(f.sent).toEqual([]);
    expect(f.waking).toEqual([true, false]);
  });
});
