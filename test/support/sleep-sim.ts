/**
 * A sleep simulator for the sshd testbed: "suspend" a test host and wake it with a real magic packet.
 *
 * The host's agent runs `suspendCommand` (set as its agent.yaml suspend command): a tiny client that
 * tells the simulator, over a unix socket the test user may connect to, "suspend me". The simulator
 * (in the test process, as root) then stops the host's sshd, SIGSTOPs the user's agent process(es) and
 * listens on a UDP port on 127.0.0.1. Only a VALID magic packet for the host's MAC (exactly 102 bytes:
 * 6 x 0xff then the MAC 16 times) brings it back: agent SIGCONT, sshd started again on the same port.
 *
 * Network rule: the simulator only ever binds 127.0.0.1 and never sends anything.
 */
import dgram from 'node:dgram';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { SshdHandle } from './sshd.js';

export type SimState = 'awake' | 'asleep' | 'waking';

export interface SleepSimOptions {
  sshd: SshdHandle;
  /** The test user whose agent is frozen. */
  user: { name: string; uid: number };
  /** The MAC this host answers to (any form with ':' or '-' separators, or 12 hex digits). */
  mac: string;
  /** Which of the user's processes are "the agent" (cmdline contains it; default fleetwake-agent). */
  agentMatch?: string;
  /** Delay between the trigger and the "suspend", so the agent sees its command exit first (ms). */
  suspendDelayMs?: number;
  /** How long "booting" takes after a valid packet, before sshd and the agent are back (ms; default 0). */
  bootDelayMs?: number;
}

export interface ReceivedPacket {
  from: string;
  bytes: number;
  valid: boolean;
  at: number;
}

export interface SleepSim {
  readonly socketPath: string;
  readonly triggerPath: string;
  /** The UDP port magic packets must go to, on 127.0.0.1. */
  readonly udpPort: number;
  readonly udpAddress: '127.0.0.1';
  /** argv for the agent's suspend command: node, the trigger script, the socket. */
  readonly suspendCommand: string[];
  readonly state: SimState;
  readonly suspends: number;
  readonly wakes: number;
  readonly packets: ReceivedPacket[];
  /** Date.now() when the last "suspend me" request arrived (the agent's suspend command ran); null before. */
  readonly triggeredAt: number | null;
  /** Date.now() when the last simulated boot finished (sshd listening, agent thawed); null before. */
  readonly bootedAt: number | null;
  /** Pids frozen by the last suspend. */
  readonly frozen: number[];
  /** Resolves when the simulator reaches `state`. */
  waitFor(state: SimState, timeoutMs?: number): Promise<void>;
  /** Thaw everything and start sshd if it is stopped, then close the sockets and remove the folder. */
  close(): Promise<void>;
}

const TRIGGER_SOURCE = `'use strict';
// fleetwake test sleep simulator trigger: asks the simulator (unix socket argv[2]) to suspend this host.
const net = require('net');
const sock = net.connect(process.argv[2]);
let buf = '';
const bail = (msg) => { process.stderr.write('sim-trigger: ' + msg + '\\n'); process.exit(1); };
sock.on('connect', () => sock.write('suspend\\n'));
sock.on('data', (d) => {
  buf += d;
  if (buf.includes('\\n')) { if (buf.startsWith('ok')) process.exit(0); else bail(buf.trim()); }
});
sock.on('error', (e) => bail(e.message));
setTimeout(() => bail('no answer from the simulator'), 5000).unref();
`;

function macBytes(mac: string): Buffer {
  const hex = mac.replace(/[:-]/g, '');
  if (!/^[0-9a-fA-F]{12}$/.test(hex)) throw new Error(`sleep-sim: bad MAC ${mac}`);
  return Buffer.from(hex, 'hex');
}

/** Independent of the app's code on purpose: exactly 6 x 0xff + 16 x MAC, nothing more. */
export function isValidMagicPacket(msg: Buffer, mac: string): boolean {
  const m = macBytes(mac);
  if (msg.length !== 102) return false;
  for (let i = 0; i < 6; i++) if (msg[i] !== 0xff) return false;
  for (let r = 0; r < 16; r++) if (!msg.subarray(6 + 6 * r, 12 + 6 * r).equals(m)) return false;
  return true;
}

/** Pids of `uid` whose command line contains `match` (and is not the trigger). */
function agentPids(uid: number, match: string, exclude: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (statSync(`/proc/${entry}`).uid !== uid) continue;
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(match) && !cmd.includes(exclude)) out.push(Number(entry));
    } catch {
      /* gone */
    }
  }
  return out;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* gone */
  }
}

export async function startSleepSim(opts: SleepSimOptions): Promise<SleepSim> {
  const dir = mkdtempSync(path.join(tmpdir(), 'fwt-sleepsim-'));
  chmodSync(dir, 0o755);
  const triggerPath = path.join(dir, 'sim-trigger.cjs');
  writeFileSync(triggerPath, TRIGGER_SOURCE, { mode: 0o644 });
  chmodSync(triggerPath, 0o644);
  const socketPath = path.join(dir, 'sim.sock');
  const match = opts.agentMatch ?? 'fleetwake-agent';
  macBytes(opts.mac);

  let state: SimState = 'awake';
  let suspends = 0;
  let wakes = 0;
  let frozen: number[] = [];
  let bootedAt: number | null = null;
  let triggeredAt: number | null = null;
  const packets: ReceivedPacket[] = [];
  const waiters = new Set<{ state: SimState; resolve: () => void }>();
  const setState = (s: SimState) => {
    state = s;
    for (const w of [...waiters]) if (w.state === s) {
      waiters.delete(w);
      w.resolve();
    }
  };

  async function suspend(): Promise<void> {
    suspends++;
    await opts.sshd.stop();
    frozen = agentPids(opts.user.uid, match, triggerPath);
    for (const pid of frozen) signal(pid, 'SIGSTOP');
    setState('asleep');
  }

  async function resume(): Promise<void> {
    setState('waking');
    if (opts.bootDelayMs) await new Promise((r) => setTimeout(r, opts.bootDelayMs));
    for (const pid of frozen) signal(pid, 'SIGCONT');
    frozen = [];
    if (opts.sshd.pid === null) await opts.sshd.start();
    bootedAt = Date.now();
    wakes++;
    setState('awake');
  }

  const server = net.createServer((sock) => {
    let buf = '';
    sock.on('error', () => undefined);
    sock.on('data', (d) => {
      buf += d.toString('utf8');
      if (!buf.includes('\n')) return;
      const line = buf.slice(0, buf.indexOf('\n')).trim();
      if (line === 'suspend') triggeredAt = Date.now();
      if (line !== 'suspend') {
        sock.end('error: unknown request\n');
        return;
      }
      if (state !== 'awake') {
        sock.end(`error: host is ${state}\n`);
        return;
      }
      sock.end('ok\n');
      setTimeout(() => void suspend().catch((e) => console.error(`sleep-sim: suspend failed: ${(e as Error).message}`)), opts.suspendDelayMs ?? 200);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  // The agent runs as the test user: it must be able to connect.
  chmodSync(socketPath, 0o666);

  const udp = dgram.createSocket('udp4');
  udp.on('message', (msg, rinfo) => {
    const valid = isValidMagicPacket(msg, opts.mac);
    packets.push({ from: `${rinfo.address}:${rinfo.port}`, bytes: msg.length, valid, at: Date.now() });
    if (valid && state === 'asleep') void resume().catch((e) => console.error(`sleep-sim: resume failed: ${(e as Error).message}`));
  });
  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(0, '127.0.0.1', () => resolve());
  });
  const udpPort = udp.address().port;

  return {
    socketPath,
    triggerPath,
    udpPort,
    udpAddress: '127.0.0.1',
    suspendCommand: [process.execPath, triggerPath, socketPath],
    get state() {
      return state;
    },
    get suspends() {
      return suspends;
    },
    get wakes() {
      return wakes;
    },
    packets,
    get triggeredAt() {
      return triggeredAt;
    },
    get bootedAt() {
      return bootedAt;
    },
    get frozen() {
      return [...frozen];
    },
    waitFor(s: SimState, timeoutMs = 30_000) {
      if (state === s) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const w = { state: s, resolve: () => (clearTimeout(timer), resolve()) };
        const timer = setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`sleep-sim: not ${s} within ${timeoutMs} ms (now ${state}, ${suspends} suspends, ${packets.length} packets)`));
        }, timeoutMs);
        waiters.add(w);
      });
    },
    async close() {
      for (const pid of frozen) signal(pid, 'SIGCONT');
      frozen = [];
      udp.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Network rule guard for every test that wakes: throws on any Wake-on-LAN target that is not on
 * 127.0.0.0/8 (pass it as FleetDeps.wake.guard / SendOptions.guard; it runs before anything is sent).
 */
export function assertLoopbackTarget(t: { address: string; port: number; via?: string }): void {
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(t.address);
  if (!m || m.slice(1).some((x) => Number(x) > 255)) {
    throw new Error(`NETWORK RULE: a test tried to send a magic packet to ${t.address}:${t.port}${t.via ? ` via ${t.via}` : ''}; tests may only use loopback.`);
  }
}
