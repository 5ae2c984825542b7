/**
 * Wake-on-LAN on the agent's side: arming the NIC before a suspend (ethtool) and the `wol.send` relay
 * (a magic packet built here: 6 x 0xFF then the MAC 16 times = 102 bytes, over dgram, no dependencies).
 */
import dgram from 'node:dgram';
import type { Exec } from '../idle/exec.js';

export const MAGIC_PACKET_BYTES = 102;
export const WOL_DEFAULT_PORT = 9;
export const WOL_REPEAT = 3;

/** "aa:bb:cc:dd:ee:ff", "AA-BB-...", "aabb.ccdd.eeff" or "aabbccddeeff" → 6 bytes; a clear Error otherwise. */
export function parseMac(mac: unknown): Buffer {
  if (typeof mac !== 'string') throw new Error('mac must be a string like aa:bb:cc:dd:ee:ff');
  const s = mac.trim();
  let hex: string | null = null;
  if (/^[0-9a-fA-F]{2}([:-])[0-9a-fA-F]{2}(\1[0-9a-fA-F]{2}){4}$/.test(s)) hex = s.replace(/[:-]/g, '');
  else if (/^[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}$/.test(s)) hex = s.replace(/\./g, '');
  else if (/^[0-9a-fA-F]{12}$/.test(s)) hex = s;
  if (hex === null) throw new Error(`mac must be 6 bytes like aa:bb:cc:dd:ee:ff (got ${JSON.stringify(s.slice(0, 40))})`);
  const bytes = Buffer.from(hex, 'hex');
  if (bytes.every((b) => b === 0)) throw new Error('mac 00:00:00:00:00:00 is not a real interface');
  if (bytes.every((b) => b === 0xff)) throw new Error('mac ff:ff:ff:ff:ff:ff is the broadcast address, not an interface');
  return bytes;
}

export function magicPacket(mac: Buffer): Buffer {
  if (mac.length !== 6) throw new Error('a MAC address has 6 bytes');
  const out = Buffer.alloc(MAGIC_PACKET_BYTES, 0xff);
  for (let i = 0; i < 16; i++) mac.copy(out, 6 + i * 6);
  return out;
}

export function formatMac(mac: Buffer): string {
  return [...mac].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** Sends WOL_REPEAT magic packets (broadcast allowed) and resolves when they are handed to the kernel. */
export async function sendMagicPacket(opts: { mac: Buffer; address: string; port: number; repeat?: number; gapMs?: number }): Promise<number> {
  const packet = magicPacket(opts.mac);
  const repeat = opts.repeat ?? WOL_REPEAT;
  const sock = dgram.createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(0, () => {
        sock.off('error', reject);
        resolve();
      });
    });
    sock.setBroadcast(true);
    let sent = 0;
    for (let i = 0; i < repeat; i++) {
      await new Promise<void>((resolve, reject) => sock.send(packet, opts.port, opts.address, (err) => (err ? reject(err) : resolve())));
      sent++;
      if (i + 1 < repeat && (opts.gapMs ?? 20) > 0) await new Promise((r) => setTimeout(r, opts.gapMs ?? 20));
    }
    return sent;
  } finally {
    sock.close();
  }
}

// ---------------------------------------------------------------- arming (ethtool)

/** "Supports Wake-on: pumbg" → "pumbg"; null when the line is missing. */
export function parseSupportsWakeOn(ethtoolText: string): string | null {
  const m = /^\s*Supports Wake-on:\s*(\S+)\s*$/m.exec(ethtoolText);
  return m ? m[1]! : null;
}

export interface WolArmResult {
  /** true: `ethtool -s IFACE wol g` succeeded; false: it failed or the NIC cannot; null: not attempted. */
  armed: boolean | null;
  message: string;
}

/** Arms magic-packet wake on `iface`. In a dry run nothing is changed: it only reports what it would do. */
export async function armWol(exec: Exec, iface: string | null, opts: { enable: boolean; dryRun: boolean; env?: NodeJS.ProcessEnv }): Promise<WolArmResult> {
  if (!opts.enable) return { armed: null, message: 'Wake-on-LAN arming is off (wol.enable: false)' };
  if (!iface) return { armed: null, message: 'no primary network interface found: Wake-on-LAN not armed' };
  const timeoutMs = 5000;
  const info = await exec('ethtool', [iface], { timeoutMs, env: opts.env });
  if (info.failure === 'ENOENT') return { armed: null, message: `ethtool is not installed: cannot arm Wake-on-LAN on ${iface}; waking it may not work` };
  const supports = info.code === 0 ? parseSupportsWakeOn(info.stdout) : null;
  if (supports !== null && !supports.includes('g')) {
    return { armed: false, message: `${iface} does not support magic-packet wake (Supports Wake-on: ${supports})` };
  }
  const supportText = supports === null ? 'support unknown' : `Supports Wake-on: ${supports}`;
  if (opts.dryRun) return { armed: null, message: `dry run: would run ethtool -s ${iface} wol g (${supportText})` };
  const set = await exec('ethtool', ['-s', iface, 'wol', 'g'], { timeoutMs, env: opts.env });
  if (set.code === 0) return { armed: true, message: `Wake-on-LAN (magic packet) armed on ${iface} (${supportText})` };
  const why = set.failure ?? (set.stderr.trim().split('\n')[0] || `exit ${set.code}`);
  return { armed: false, message: `ethtool -s ${iface} wol g failed: ${why.slice(0, 200)}` };
}
