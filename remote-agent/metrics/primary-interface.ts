/** The interface a Wake-on-LAN packet must reach: the one carrying the default route. */
import os from 'node:os';
import type { NetworkInterfaceInfo } from '../protocol.js';
import { tryReadRooted } from './read-file.js';

const RTF_UP = 0x1;

/** Interface of the default route with the lowest metric, from /proc/net/route. */
export function parseDefaultRouteIface(text: string): string | null {
  let best: { iface: string; metric: number } | null = null;
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const [iface, dest, , flags, , , metric, mask] = f;
    if (dest !== '00000000' || mask !== '00000000') continue;
    if ((parseInt(flags!, 16) & RTF_UP) === 0) continue;
    const m = Number(metric);
    if (!best || m < best.metric) best = { iface: iface!, metric: m };
  }
  return best?.iface ?? null;
}

function ipv4ToInt(ip: string): number | null {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return null;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

/** Directed broadcast address: the host bits of the subnet all set. */
export function directedBroadcast(ipv4: string, netmask: string): string | null {
  const ip = ipv4ToInt(ipv4);
  const mask = ipv4ToInt(netmask);
  if (ip === null || mask === null) return null;
  const b = ((ip & mask) | (~mask >>> 0)) >>> 0;
  return [b >>> 24, (b >>> 16) & 255, (b >>> 8) & 255, b & 255].join('.');
}

const ZERO_MAC = '00:00:00:00:00:00';

export interface PrimaryInterfaceOptions {
  procRoot?: string;
  sysRoot?: string;
  interfaces?: () => NodeJS.Dict<os.NetworkInterfaceInfo[]>;
}

function describe(name: string, addrs: os.NetworkInterfaceInfo[], sysRoot: string): NetworkInterfaceInfo | null {
  const v4 = addrs.find((a) => a.family === 'IPv4' && !a.internal) ?? null;
  let mac = (v4 ?? addrs.find((a) => a.mac !== ZERO_MAC))?.mac ?? ZERO_MAC;
  if (mac === ZERO_MAC) mac = (tryReadRooted(sysRoot, `class/net/${name}/address`) ?? '').trim() || ZERO_MAC;
  if (mac === ZERO_MAC) return null;
  return {
    name,
    mac: mac.toLowerCase(),
    ipv4: v4?.address ?? null,
    netmask: v4?.netmask ?? null,
    broadcast: v4 ? directedBroadcast(v4.address, v4.netmask) : null,
  };
}

/**
 * The default route's interface; without a default route (an isolated LAN), the first non-loopback
 * interface with an IPv4 address, since that is still where a magic packet would arrive.
 */
export function primaryInterface(opts: PrimaryInterfaceOptions = {}): NetworkInterfaceInfo | null {
  const sysRoot = opts.sysRoot ?? '/sys';
  let all: NodeJS.Dict<os.NetworkInterfaceInfo[]>;
  try {
    all = (opts.interfaces ?? os.networkInterfaces)();
  } catch {
    return null;
  }
  const routeIface = parseDefaultRouteIface(tryReadRooted(opts.procRoot ?? '/proc', 'net/route') ?? '');
  if (routeIface) {
    const found = describe(routeIface, all[routeIface] ?? [], sysRoot);
    if (found) return found;
  }
  for (const name of Object.keys(all).sort()) {
    const addrs = all[name] ?? [];
    if (!addrs.some((a) => a.family === 'IPv4' && !a.internal)) continue;
    const found = describe(name, addrs, sysRoot);
    if (found) return found;
  }
  return null;
}
