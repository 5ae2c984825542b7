import { EventEmitter } from 'node:events';
import type { SshChannels } from './channels.js';
import type { HostStatus } from '../../preload/api.js';
import type { HostRecord } from '../hosts/types.js';
import type { Credentials } from './auth.js';
import { HostConnection, type ConnectionOptions } from './connection.js';
import type { HostKeySources } from './host-keys.js';

export interface PoolDeps {
  resolve(name: string): HostRecord | undefined;
  hostKeys: HostKeySources;
  credentials: Credentials;
  homeDir: string;
  agentSocket: string | undefined;
  options: ConnectionOptions;
}

/** One HostConnection per host name; jump hosts are reached through the same shared connections. */
export class ConnectionPool extends EventEmitter {
  private readonly connections = new Map<string, HostConnection>();

  constructor(private readonly deps: PoolDeps) {
    super();
  }

  get(name: string): HostConnection {
    let conn = this.connections.get(name);
    if (!conn) {
      conn = new HostConnection(name, {
        ...this.deps,
        jumpClient: (jump: string, chain: string[]): Promise<SshChannels> => this.get(jump).ready(chain),
      });
      conn.on('status', (s: HostStatus) => this.emit('status', s));
      this.connections.set(name, conn);
    }
    return conn;
  }

  has(name: string): boolean {
    return this.connections.has(name);
  }

  statusOf(name: string): HostStatus {
    return this.connections.get(name)?.status ?? { name, state: 'offline', since: Date.now() };
  }

  remove(name: string): void {
    this.connections.get(name)?.close();
    this.connections.delete(name);
  }

  /** Hosts that jump through `name`: they must reconnect when it changes. */
  dependents(name: string, hosts: HostRecord[]): string[] {
    const out: string[] = [];
    const walk = (n: string) => {
      for (const h of hosts) {
        if (h.jump === n && !out.includes(h.name)) {
          out.push(h.name);
          walk(h.name);
        }
      }
    };
    walk(name);
    return out;
  }

  closeAll(): void {
    for (const c of this.connections.values()) c.close();
    this.connections.clear();
  }
}
