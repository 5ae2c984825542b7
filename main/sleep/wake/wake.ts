/**
 * Wake a host and wait for it: magic packet (from here, or relayed by an awake fleet member's agent),
 * then the SSH port, an SSH login and the agent, each reported as WakeProgress. The Fleet core supplies
 * the dependencies; nothing here keeps state between wakes.
 */
import net from 'node:net';
import type os from 'node:os';
import type { AgentStatus, HostState, HostStatus, WakeOptions, WakeProgress, WakeResult, WakeStep } from '../../../preload/api.js';
import { FleetError } from '../../core/errors.js';
import type { HostRecord } from '../../hosts/types.js';
import { checkMac, sendMagicPackets, type SendOptions, type WolTarget } from './magic-packet.js';
import { isSubnetLocal, localTargets, relayTargets, subnetOf, type LearnedNet } from './targets.js';

export const DEFAULT_WAKE_TIMEOUT_SECONDS = 180;
export const MAX_WAKE_TIMEOUT_SECONDS = 3600;
const DEFAULT_POLL_MS = 500;

/** A target about to be used, with who sends to it ('local' or the relay's name). */
export interface GuardedTarget {
  address: string;
  port: number;
  via: string;
}

export interface WakeDeps {
  host(name: string): HostRecord;
  hosts(): HostRecord[];
  net(name: string): LearnedNet | null;
  /** The host's SSH state as the pool sees it (no overlays). */
  sshState(name: string): HostState;
  /** Whether the host's agent has a live client now. */
  agentConnected(name: string): boolean;
  connectNow(name: string): Promise<HostStatus>;
  /** Attach to the agent if needed; its state afterwards. */
  agentReady(name: string): Promise<AgentStatus>;
  relaySend(relay: string, params: { mac: string; address?: string; port: number }): Promise<{ sent: number; address: string; port: number }>;
  onProgress(p: WakeProgress): void;
  setWaking(name: string, waking: boolean): void;
  /** Replaceable sender (default sendMagicPackets with wake_on_lan). */
  send?: (mac: string, targets: WolTarget[], opts: SendOptions) => Promise<WolTarget[]>;
  tcpProbe?: (host: string, port: number, timeoutMs: number) => Promise<boolean>;
  networkInterfaces?: () => NodeJS.Dict<os.NetworkInterfaceInfo[]>;
  /** Sees every target before anything is sent (local or relayed); throwing aborts the wake. */
  guard?: (t: GuardedTarget) => void;
  pollIntervalMs?: number;
  /** Aborted when the Fleet closes: waits stop. */
  signal?: AbortSignal;
}

export function tcpProbe(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(Math.max(50, timeoutMs), () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/** The abort reason of a wake the user cancelled (other aborts mean the app is closing). */
export const WAKE_CANCELLED = 'wake cancelled by the user';

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

export function checkWakeOptions(options: unknown): { wait: boolean; timeoutSeconds: number; via: string | null } {
  if (options === undefined || options === null) return { wait: true, timeoutSeconds: DEFAULT_WAKE_TIMEOUT_SECONDS, via: null };
  if (typeof options !== 'object' || Array.isArray(options)) throw new FleetError('invalid-input', 'Wake options must be an object.', 'options');
  const o = options as WakeOptions;
  if (o.wait !== undefined && typeof o.wait !== 'boolean') throw new FleetError('invalid-input', 'wait must be true or false.', 'wait');
  let timeoutSeconds = DEFAULT_WAKE_TIMEOUT_SECONDS;
  if (o.timeoutSeconds !== undefined && o.timeoutSeconds !== null) {
    const t = o.timeoutSeconds;
    if (typeof t !== 'number' || !Number.isFinite(t) || t < 1 || t > MAX_WAKE_TIMEOUT_SECONDS) {
      throw new FleetError('invalid-input', `The wake timeout must be a number of seconds from 1 to ${MAX_WAKE_TIMEOUT_SECONDS} (got ${JSON.stringify(t)}).`, 'timeoutSeconds');
    }
    timeoutSeconds = t;
  }
  let via: string | null = null;
  if (o.via !== undefined && o.via !== null) {
    if (typeof o.via !== 'string' || !o.via.trim()) throw new FleetError('invalid-input', 'via must be a host name or "auto".', 'via');
    via = o.via.trim();
  }
  return { wait: o.wait ?? true, timeoutSeconds, via };
}

type Route = { kind: 'local'; note?: string } | { kind: 'relay'; via: string; note?: string };

/**
 * From here when the host's LAN is one of ours (or unknown, or the user set a wolAddress), else through
 * an awake fleet member on the same subnet. A named relay is always used.
 */
async function chooseRoute(deps: WakeDeps, host: HostRecord, hostNet: LearnedNet | null, via: string | null): Promise<Route> {
  if (via && via !== 'auto') {
    if (via === host.name) throw new FleetError('invalid-input', `${host.name} cannot relay its own magic packet; name an awake host on its LAN.`, 'via');
    deps.host(via); // not-found with the list of hosts
    return { kind: 'relay', via };
  }
  if (host.wolAddress) return { kind: 'local' };
  const local = isSubnetLocal(hostNet, deps.networkInterfaces?.());
  if (local !== false) return { kind: 'local' };
  const subnet = subnetOf(hostNet?.ipv4, hostNet?.netmask)!;
  const peers = deps
    .hosts()
    .filter((h) => h.name !== host.name && subnetOf(deps.net(h.name)?.ipv4, deps.net(h.name)?.netmask) === subnet)
    .map((h) => h.name);
  // Already connected ones first (the app keeps them); otherwise try to reach a few (the CLI connects on demand).
  const ranked = [...peers.filter((p) => deps.agentConnected(p)), ...peers.filter((p) => !deps.agentConnected(p))];
  const tried: string[] = [];
  for (const p of ranked.slice(0, 4)) {
    if (deps.agentConnected(p)) return { kind: 'relay', via: p };
    const s = await deps.connectNow(p).catch(() => null);
    if (s?.state === 'online') {
      const a = await deps.agentReady(p).catch(() => null);
      if (deps.agentConnected(p)) return { kind: 'relay', via: p };
      tried.push(`${p} (agent ${a?.state ?? 'unreachable'})`);
    } else {
      tried.push(`${p} (${s?.state ?? 'unreachable'})`);
    }
  }
  const why = peers.length
    ? `no fleet member on ${subnet} could relay (${tried.join(', ')})`
    : `no other fleet member is known on ${subnet}`;
  return { kind: 'local', note: `${host.name}'s LAN ${subnet} is not one of this computer's networks and ${why}; sent from here anyway` };
}

/** Sends the packet, then (in the background unless options.wait) waits for the host. */
export async function wakeHost(deps: WakeDeps, name: string, options?: WakeOptions): Promise<WakeResult> {
  const opts = checkWakeOptions(options);
  const host = deps.host(name);
  const hostNet = deps.net(name);
  const rawMac = host.mac ?? hostNet?.mac ?? null;
  if (!rawMac) {
    throw new FleetError(
      'invalid-input',
      `${name} has no MAC address for Wake-on-LAN. Set it on the host (fleetwake hosts add ... --mac aa:bb:cc:dd:ee:ff), or connect once while ${name} is awake with the agent installed so it is learned.`,
      'mac',
    );
  }
  const mac = checkMac(rawMac);
  const route = await chooseRoute(deps, host, hostNet, opts.via);
  let deadlineAt: number | undefined;
  const progress = (step: WakeStep, message: string, failure?: WakeProgress['failure']) =>
    deps.onProgress({ name, step, message, at: Date.now(), ...(failure ? { failure } : {}), ...(deadlineAt !== undefined ? { deadlineAt } : {}) });

  deps.setWaking(name, true);
  let targets: WolTarget[];
  let sentVia: string;
  try {
    if (route.kind === 'local') {
      const wanted = localTargets(host, hostNet);
      const send = deps.send ?? sendMagicPackets;
      const sendOpts: SendOptions = {};
      if (deps.guard) sendOpts.guard = (t) => deps.guard!({ ...t, via: 'local' });
      targets = await send(mac, wanted, sendOpts);
      sentVia = 'local';
    } else {
      const relay = route.via;
      if (!deps.agentConnected(relay)) {
        const s = await deps.connectNow(relay);
        if (s.state !== 'online') throw new FleetError('failed', `Relay ${relay} is not reachable over SSH (${s.state}${s.error ? `: ${s.error}` : ''}); wake ${relay} first or pick another relay.`);
        const a = await deps.agentReady(relay);
        if (!deps.agentConnected(relay)) throw new FleetError('failed', `Relay ${relay} has no reachable agent (${a.state}${a.message ? `: ${a.message}` : ''}); a relay needs the agent installed.`);
      }
      const wanted = relayTargets(host, hostNet);
      for (const t of wanted) deps.guard?.({ address: t.address ?? `${relay}'s LAN broadcast`, port: t.port, via: relay });
      targets = [];
      const errors: string[] = [];
      for (const t of wanted) {
        try {
          const params: { mac: string; address?: string; port: number } = { mac, port: t.port };
          if (t.address) params.address = t.address;
          const r = await deps.relaySend(relay, params);
          targets.push({ address: r.address, port: r.port });
        } catch (e) {
          errors.push(`${t.address ?? 'default'}:${t.port}: ${(e as Error).message}`);
        }
      }
      if (!targets.length) throw new FleetError('failed', `Relay ${relay} could not send the magic packet (${errors.join('; ')}).`);
      sentVia = relay;
    }
  } catch (e) {
    deps.setWaking(name, false);
    if (e instanceof FleetError) throw e;
    throw new FleetError('failed', `Could not send the magic packet for ${name}: ${(e as Error).message}`);
  }
  const t0 = Date.now();
  deadlineAt = t0 + opts.timeoutSeconds * 1000;
  const where = targets.map((t) => `${t.address}:${t.port}`).join(', ');
  progress('packet-sent', `Magic packet for ${mac} sent ${sentVia === 'local' ? 'from this computer' : `by ${sentVia}'s agent`} to ${where}${route.note ? ` (${route.note})` : ''}.`);

  const waiting = waitUntilUp(deps, host, mac, sentVia, t0, opts.timeoutSeconds, progress).finally(() => deps.setWaking(name, false));
  const base = { name, sentVia, targets };
  if (!opts.wait) {
    waiting.catch(() => undefined); // reported as a 'failed' progress step
    return { ...base, seconds: 0, state: 'waking' };
  }
  const seconds = await waiting;
  return { ...base, seconds, state: deps.sshState(name) === 'online' ? 'online' : deps.sshState(name) };
}

async function waitUntilUp(
  deps: WakeDeps,
  host: HostRecord,
  mac: string,
  sentVia: string,
  t0: number,
  timeoutSeconds: number,
  progress: (step: WakeStep, message: string, failure?: WakeProgress['failure']) => void,
): Promise<number> {
  const name = host.name;
  const deadline = t0 + timeoutSeconds * 1000;
  const poll = deps.pollIntervalMs ?? DEFAULT_POLL_MS;
  const probe = deps.tcpProbe ?? tcpProbe;
  const left = () => deadline - Date.now();
  const elapsed = () => Math.round((Date.now() - t0) / 100) / 10;
  const fail = (what: string): never => {
    const cancelled = deps.signal?.aborted && deps.signal.reason === WAKE_CANCELLED;
    const message = cancelled
      ? `Stopped waiting for ${name} (cancelled). The magic packet was sent, so it may still wake.`
      : deps.signal?.aborted
      ? `Stopped waiting for ${name}: the app is closing.`
      : `${name} did not come back within ${timeoutSeconds} s of the magic packet: ${what}. Check that Wake-on-LAN is enabled in ${name}'s BIOS and on its network card (ethtool -s IFACE wol g), that ${mac} is the MAC of its wired card, and that the packet reaches its LAN (sent ${sentVia === 'local' ? 'from this computer' : `by ${sentVia}`}).`;
    progress('failed', message, cancelled ? 'cancelled' : deps.signal?.aborted ? 'stopped' : 'no-answer');
    throw new FleetError('failed', message);
  };
  const stop = () => left() <= 0 || !!deps.signal?.aborted;

  if (!host.jump) {
    for (;;) {
      if (deps.signal?.aborted) fail('stopped');
      if (await probe(host.host, host.port, Math.min(1000, Math.max(50, left())))) break;
      if (stop()) fail(`nothing answers on ${host.host}:${host.port}`);
      await sleep(Math.min(poll, Math.max(0, left())), deps.signal);
    }
    progress('network-up', `${host.host}:${host.port} accepts connections after ${elapsed()} s.`);
  }
  let lastSsh = '';
  for (;;) {
    if (deps.signal?.aborted) fail('stopped');
    const s = await deps.connectNow(name);
    if (s.state === 'online') break;
    if (s.state === 'auth-failed' || s.state === 'host-key-unknown' || s.state === 'host-key-changed') {
      const message = `${name} is awake but SSH needs you: ${s.error ?? s.state}`;
      progress('failed', message, 'needs-you');
      throw new FleetError('failed', message);
    }
    lastSsh = s.error ?? s.state;
    if (stop()) fail(`SSH did not let us in (${lastSsh})`);
    await sleep(Math.min(poll, Math.max(0, left())), deps.signal);
  }
  if (host.jump) progress('network-up', `${name} answers through ${host.jump} after ${elapsed()} s.`);
  progress('ssh-up', `SSH to ${name} is up after ${elapsed()} s.`);

  for (;;) {
    if (deps.signal?.aborted) fail('stopped');
    const a = await deps.agentReady(name);
    if (a.state === 'running' || a.state === 'outdated') {
      progress('agent-up', `Agent ${a.version ?? ''} on ${name} answers after ${elapsed()} s.`.replace('  ', ' '));
      break;
    }
    if (a.state === 'not-installed' || a.state === 'unknown') break; // nothing more to wait for
    if (stop()) fail(`SSH is up but the agent did not answer (${a.message ?? a.state})`);
    await sleep(Math.min(poll, Math.max(0, left())), deps.signal);
  }
  return Math.round((Date.now() - t0) / 100) / 10;
}
