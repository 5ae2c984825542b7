/**
 * Wake-on-LAN magic packets: building, checking and sending them (with wake_on_lan).
 *
 * Where they go is decided by targets.ts; this file only sends to the list it is given, through an
 * optional guard (tests pass one that refuses anything but loopback).
 */
import wol from 'wake_on_lan';
import { isIPv4 } from 'node:net';
import { FleetError } from '../../core/errors.js';
import { normalizeMac } from '../../hosts/mac.js';

export const MAGIC_PACKET_BYTES = 102;
/** Packets per target, and the gap between them: one lost datagram must not lose the wake. */
export const DEFAULT_PACKETS_PER_TARGET = 3;
export const DEFAULT_PACKET_INTERVAL_MS = 100;

export interface WolTarget {
  address: string;
  port: number;
}

/** Canonical MAC (aa:bb:cc:dd:ee:ff) or an invalid-input FleetError (field `mac`) saying what is wrong. */
export function checkMac(raw: unknown): string {
  if (typeof raw !== 'string' || raw.trim() === '') {
    throw new FleetError('invalid-input', 'A MAC address is needed to wake a host (such as aa:bb:cc:dd:ee:ff).', 'mac');
  }
  return normalizeMac(raw);
}

/** The 102-byte packet for a MAC. */
export function magicPacket(mac: string): Buffer {
  return wol.createMagicPacket(checkMac(mac));
}

/** True only for exactly 6 x 0xff followed by 16 copies of `mac` (nothing before, nothing after). */
export function isMagicPacketFor(packet: Buffer, mac: string): boolean {
  if (packet.length !== MAGIC_PACKET_BYTES) return false;
  const want = Buffer.from(checkMac(mac).replace(/:/g, ''), 'hex');
  for (let i = 0; i < 6; i++) if (packet[i] !== 0xff) return false;
  for (let r = 0; r < 16; r++) {
    if (!packet.subarray(6 + r * 6, 12 + r * 6).equals(want)) return false;
  }
  return true;
}

/** The MAC a valid magic packet is for, or null when it is not one. */
export function magicPacketMac(packet: Buffer): string | null {
  if (packet.length !== MAGIC_PACKET_BYTES) return null;
  const mac = [...packet.subarray(6, 12)].map((b) => b.toString(16).padStart(2, '0')).join(':');
  try {
    return isMagicPacketFor(packet, mac) ? mac : null;
  } catch {
    return null; // broadcast or all-zero "MAC"
  }
}

export interface SendOptions {
  packetsPerTarget?: number;
  intervalMs?: number;
  /** Called for every target before anything is sent; throwing aborts the whole send. */
  guard?: (target: WolTarget) => void;
}

function checkTarget(t: WolTarget): void {
  if (!isIPv4(t.address)) {
    throw new FleetError('invalid-input', `Wake-on-LAN address must be an IPv4 address (got "${t.address}").`, 'wolAddress');
  }
  if (!Number.isInteger(t.port) || t.port < 1 || t.port > 65535) {
    throw new FleetError('invalid-input', `Wake-on-LAN port must be a whole number from 1 to 65535 (got ${t.port}).`, 'wolPort');
  }
}

function sendOne(mac: string, t: WolTarget, packets: number, intervalMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    try {
      wol.wake(mac, { address: t.address, port: t.port, num_packets: packets, interval: intervalMs }, (err) =>
        err ? reject(err) : resolve(),
      );
    } catch (e) {
      reject(e as Error);
    }
  });
}

/**
 * Sends `packetsPerTarget` magic packets to every target in parallel. Resolves with the targets that
 * took the packets; rejects (FleetError 'failed') only when none did, naming each failure.
 */
export async function sendMagicPackets(rawMac: string, targets: WolTarget[], opts: SendOptions = {}): Promise<WolTarget[]> {
  const mac = checkMac(rawMac);
  if (!targets.length) throw new FleetError('failed', 'No Wake-on-LAN target to send the magic packet to.');
  for (const t of targets) {
    checkTarget(t);
    opts.guard?.(t);
  }
  const packets = opts.packetsPerTarget ?? DEFAULT_PACKETS_PER_TARGET;
  const interval = opts.intervalMs ?? DEFAULT_PACKET_INTERVAL_MS;
  const results = await Promise.allSettled(targets.map((t) => sendOne(mac, t, packets, interval)));
  const ok = targets.filter((_, i) => results[i]!.status === 'fulfilled');
  if (!ok.length) {
    const why = targets.map((t, i) => `${t.address}:${t.port}: ${((results[i] as PromiseRejectedResult).reason as Error)?.message ?? 'failed'}`);
    throw new FleetError('failed', `The magic packet could not be sent (${why.join('; ')}).`);
  }
  return ok;
}
