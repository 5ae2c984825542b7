/**
 * Where a magic packet goes, and whether this computer can reach the host's LAN at all.
 *
 * Defaults: the directed broadcast of the subnet the agent reported AND 255.255.255.255, each on
 * ports 9 and 7. A host's wolAddress / wolPort replace those (tests point them at loopback).
 */
import os from 'node:os';
import type { HostRecord } from '../../hosts/types.js';
import type { WolTarget } from './magic-packet.js';

export const DEFAULT_WOL_PORTS = [9, 7] as const;
export const LIMITED_BROADCAST = '255.255.255.255';

/** What the agent told us about the host's network (agent.info primaryInterface), kept with the host. */
export interface LearnedNet {
  mac: string | null;
  ipv4: string | null;
  netmask: string | null;
  broadcast: string | null;
  /** ms since epoch when learned. */
  at: number;
}

function ipv4ToInt(ip: string): number | null {
  const parts = ip.split('.');
  if (parts.length !== 4) return null;
  const n = parts.map((p) => (/^\d{1,3}$/.test(p) ? Number(p) : NaN));
  if (n.some((x) => !(x >= 0 && x <= 255))) return null;
  return ((n[0]! << 24) | (n[1]! << 16) | (n[2]! << 8) | n[3]!) >>> 0;
}

function intToIpv4(v: number): string {
  return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');
}

function prefixLength(mask: number): number | null {
  const inv = ~mask >>> 0;
  // A valid mask is ones then zeros: its inverse plus one is a power of two.
  if (((inv + 1) & inv) >>> 0 !== 0) return null;
  let bits = 0;
  for (let m = mask; m; m = (m << 1) >>> 0) bits++;
  return bits;
}

/** "10.1.2.0/24" for an address and netmask; null when either is missing or invalid. */
export function subnetOf(ipv4: string | null | undefined, netmask: string | null | undefined): string | null {
  if (!ipv4 || !netmask) return null;
  const ip = ipv4ToInt(ipv4);
  const mask = ipv4ToInt(netmask);
  if (ip === null || mask === null) return null;
  const prefix = prefixLength(mask);
  if (prefix === null || prefix === 0) return null;
  return `${intToIpv4((ip & mask) >>> 0)}/${prefix}`;
}

/**
 * The network facts an agent reported, made safe to send packets by: an address and netmask that do not
 * parse are dropped, and the broadcast must be the directed broadcast of that subnet. A broadcast that is
 * not (a buggy or hostile agent naming some real address) is replaced by the subnet's own, or dropped
 * when there is no subnet; `problem` says what was wrong.
 */
export function checkedNet(
  reported: { mac: string | null; ipv4: string | null; netmask: string | null; broadcast: string | null },
  at: number,
): { net: LearnedNet; problem: string | null } {
  const ip = reported.ipv4 && ipv4ToInt(reported.ipv4) !== null ? reported.ipv4 : null;
  const subnet = subnetOf(ip, reported.netmask);
  const netmask = subnet ? reported.netmask : null;
  const expected = subnet ? intToIpv4((ipv4ToInt(ip!)! | ~ipv4ToInt(netmask!)!) >>> 0) : null;
  let problem: string | null = null;
  if (reported.broadcast !== null && reported.broadcast !== expected) {
    problem = subnet
      ? `the agent reported broadcast ${reported.broadcast}, which is not the broadcast of its subnet ${subnet} (${expected}); using ${expected}`
      : `the agent reported broadcast ${reported.broadcast} without a valid address and netmask; not using it`;
  }
  return { net: { mac: reported.mac, ipv4: ip, netmask, broadcast: expected, at }, problem };
}

export function isLoopbackV4(address: string): boolean {
  const ip = ipv4ToInt(address);
  return ip !== null && ip >>> 24 === 127;
}

/** Subnets of this computer's own non-internal IPv4 interfaces. */
export function localSubnets(ifaces: NodeJS.Dict<os.NetworkInterfaceInfo[]> = os.networkInterfaces()): string[] {
  const out = new Set<string>();
  for (const list of Object.values(ifaces)) {
    for (const a of list ?? []) {
      if (a.family !== 'IPv4' || a.internal) continue;
      const s = subnetOf(a.address, a.netmask);
      if (s) out.add(s);
    }
  }
  return [...out];
}

/**
 * Whether a packet sent from this computer reaches the host's LAN: true when one of our interfaces is
 * on the subnet the agent reported, false when none is, null when the subnet is not known.
 */
export function isSubnetLocal(net: LearnedNet | null | undefined, ifaces?: NodeJS.Dict<os.NetworkInterfaceInfo[]>): boolean | null {
  const subnet = subnetOf(net?.ipv4, net?.netmask);
  if (!subnet) return null;
  return localSubnets(ifaces).includes(subnet);
}

export function wolPorts(host: Pick<HostRecord, 'wolPort'>): number[] {
  return host.wolPort ? [host.wolPort] : [...DEFAULT_WOL_PORTS];
}

/** Targets for a packet sent from this computer. */
export function localTargets(host: Pick<HostRecord, 'wolAddress' | 'wolPort'>, net: LearnedNet | null | undefined): WolTarget[] {
  const ports = wolPorts(host);
  const addresses = host.wolAddress ? [host.wolAddress] : [...new Set([net?.broadcast, LIMITED_BROADCAST].filter((a): a is string => !!a))];
  return addresses.flatMap((address) => ports.map((port) => ({ address, port })));
}

/**
 * Targets handed to a relay's agent (wol.send): the configured address, else the host's directed
 * broadcast; `address` is left out when neither is known (the agent then uses its own LAN's broadcast).
 */
export function relayTargets(host: Pick<HostRecord, 'wolAddress' | 'wolPort'>, net: LearnedNet | null | undefined): { address?: string; port: number }[] {
  const address = host.wolAddress ?? net?.broadcast ?? undefined;
  return wolPorts(host).map((port) => (address ? { address, port } : { port }));
}
