/** The Wake-on-LAN relay: wol.send sends magic packets from this host's LAN for a box the app cannot reach. */
import { isIPv4 } from 'node:net';
import type { AgentFeature, FeatureContext } from '../kernel/feature.js';
import { RPC_ERRORS, type NetworkInterfaceInfo } from '../protocol.js';
import { optional, required } from '../rpc/params.js';
import { RpcError } from '../rpc/server.js';
import { parseMac, sendMagicPacket, WOL_DEFAULT_PORT } from './wol.js';

export interface WolDeps {
  primaryInterface(): NetworkInterfaceInfo | null;
  /** Sends magic packets for wol.send; default: dgram (wol/wol.ts). */
  sendWol?(opts: { mac: Buffer; address: string; port: number }): Promise<number>;
}

const show = (v: unknown, max: number) => JSON.stringify(v)?.slice(0, max);

export function wolFeature(ctx: FeatureContext<WolDeps>) {
  const { deps, log } = ctx;

  async function send(p: { mac: string; address?: string; port?: number }): Promise<{ sent: number; address: string; port: number }> {
    const mac = parseMac(p.mac);
    let address = p.address ?? null;
    if (address === null) {
      try {
        address = deps.primaryInterface()?.broadcast ?? null;
      } catch {
        address = null;
      }
    }
    if (address === null) throw new RpcError(RPC_ERRORS.UNAVAILABLE, 'this host has no directed broadcast address on its primary interface; pass address');
    const port = p.port ?? WOL_DEFAULT_PORT;
    try {
      const sent = await (deps.sendWol ?? sendMagicPacket)({ mac, address, port });
      log.info('magic packet relayed', { mac: p.mac, address, port, sent });
      return { sent, address, port };
    } catch (err) {
      throw new RpcError(RPC_ERRORS.UNAVAILABLE, `cannot send the magic packet to ${address}:${port}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }

  return {
    name: 'wol',
    methods: {
      'wol.send': {
        params: {
          mac: required((v) => {
            try {
              parseMac(v);
              return null;
            } catch (err) {
              return (err as Error).message;
            }
          }),
          address: optional((v) =>
            typeof v === 'string' && isIPv4(v) ? null : `address must be an IPv4 address such as the LAN's directed broadcast 192.168.1.255 (got ${show(v, 60)})`,
          ),
          port: optional((v) => (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535 ? null : `port must be a whole number from 1 to 65535 (got ${show(v, 30)})`)),
        },
        handler: send,
      },
    },
  } satisfies AgentFeature;
}
