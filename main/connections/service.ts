import type { ConnectionsApi, HostStatus } from '../../preload/api.js';
import type { FleetContext } from '../core/context.js';
import { FleetError } from '../core/errors.js';
import type { HostConnection } from '../ssh/connection.js';
import type { TrustedKey } from '../store/types.js';

const FINGERPRINT_RE = /^SHA256:[A-Za-z0-9+/]{43}$/;

/**
 * The live side of each host: its SSH connection and state, trusting its host key, and the secrets and
 * prompts that authenticate it. Kept apart from the host records (main/hosts) because this is state of
 * the running app that never changes the host list, and the only feature that decides trust.
 */
export class ConnectionsService implements ConnectionsApi {
  constructor(
    private readonly ctx: FleetContext,
    /** The status as published (asleep / waking laid over the SSH state, canWake computed). */
    private readonly overlay: (s: HostStatus) => HostStatus,
  ) {}

  /** The shared SSH connection of a host, for everything that talks to it. */
  connection(name: string): HostConnection {
    this.ctx.getHost(name);
    return this.ctx.pool.get(name);
  }

  async getStatuses(): Promise<HostStatus[]> {
    return this.ctx.data().hosts.map((h) => this.overlay(this.ctx.pool.statusOf(h.name)));
  }

  async connectHost(name: string): Promise<HostStatus> {
    this.ctx.getHost(name);
    return this.overlay(await this.ctx.pool.get(name).connectNow());
  }

  async disconnectHost(name: string): Promise<void> {
    this.ctx.getHost(name);
    this.ctx.pool.get(name).disconnect();
  }

  /** Connect to the named hosts (all when empty) in parallel, once, and report each one's state. */
  async checkHosts(names: string[] = []): Promise<HostStatus[]> {
    const targets = names.length ? names.map((n) => this.ctx.getHost(n).name) : this.ctx.hostNames();
    return Promise.all(targets.map(async (n) => this.overlay(await this.ctx.pool.get(n).connectNow())));
  }

  async trustHostKey(name: string, fingerprint: string): Promise<HostStatus> {
    const host = this.ctx.getHost(name);
    const wanted = typeof fingerprint === 'string' ? fingerprint.trim() : '';
    if (!FINGERPRINT_RE.test(wanted)) {
      throw new FleetError(
        'invalid-input',
        `"${String(fingerprint)}" is not a SHA256 host key fingerprint. It looks like SHA256: followed by 43 characters, as printed by ssh-keygen -lf.`,
        'fingerprint',
      );
    }
    const conn = this.ctx.pool.get(name);
    if (!conn.lastVerdict) await conn.connectNow();
    const verdict = conn.lastVerdict;
    if (!verdict) {
      throw new FleetError('failed', `Could not get ${name}'s host key: ${conn.status.error ?? 'no answer'}. Nothing was trusted.`);
    }
    if (verdict.presented.fingerprint !== wanted) {
      throw new FleetError(
        'host-key-mismatch',
        `${name} presents ${verdict.presented.fingerprint}, not ${wanted}. Nothing was trusted; check the fingerprint with the server's admin.`,
        'fingerprint',
      );
    }
    if (verdict.verdict === 'changed' && verdict.revoked) {
      throw new FleetError(
        'failed',
        `${name} presents ${verdict.presented.keyType} ${verdict.presented.fingerprint}, a key marked @revoked in ${verdict.source}. A revoked key cannot be trusted; nothing was trusted. The server's admin must install a new host key.`,
        'fingerprint',
      );
    }
    if (verdict.verdict !== 'trusted') {
      const key: TrustedKey = {
        host: host.host,
        port: host.port,
        keyType: verdict.presented.keyType,
        fingerprint: verdict.presented.fingerprint,
        key: verdict.presented.key,
        addedAt: new Date().toISOString(),
      };
      // Lock + fresh read + write: a CLI or another window trusting a key meanwhile is not undone.
      this.ctx.deps.store.update((data) => ({
        ...data,
        trustedKeys: [
          ...data.trustedKeys.filter(
            (k) => !(k.host.toLowerCase() === host.host.toLowerCase() && k.port === host.port && k.keyType === key.keyType),
          ),
          key,
        ],
      }));
      // The "unknown key" message was answered by the user; it is not an error worth keeping.
      conn.forgetLastError();
    }
    return conn.connectNow();
  }

  async answerPrompt(id: string, answers: string[] | null, remember: boolean): Promise<void> {
    return this.ctx.prompts.answer(id, answers, remember);
  }

  async forgetSecrets(name: string): Promise<void> {
    this.ctx.getHost(name);
    this.ctx.deps.secrets.delete(name);
    this.ctx.publishHosts();
  }
}
