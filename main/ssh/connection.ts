import { EventEmitter } from 'node:events';
import type { Client, ConnectConfig } from 'ssh2';
import type { Duplex } from 'node:stream';
import type { HostState, HostStatus } from '../../preload/api.js';
import type { HostRecord } from '../hosts/types.js';
import { createAuthSession, type Credentials } from './auth.js';
import { ssh2Channels, type SshChannels } from './channels.js';
import { preferredHostKeyTypes, verifyHostKey, type HostKeySources, type HostKeyVerdict } from './host-keys.js';
import { PausableTimer } from './pausable-timer.js';
import { loadSsh2 } from './ssh2.js';
import { secretBinding } from '../secrets/types.js';

export interface ConnectionOptions {
  /** Deadline for TCP + handshake + auth; paused while a prompt waits for the user. */
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  /** Keep the connection up: reconnect with backoff after offline/error (never after auth or host key failures). */
  keepConnected: boolean;
  backoffInitialMs: number;
  backoffMaxMs: number;
}

export const DEFAULT_CONNECTION_OPTIONS: ConnectionOptions = {
  connectTimeoutMs: 8_000,
  keepaliveIntervalMs: 5_000,
  keepaliveCountMax: 3,
  keepConnected: true,
  backoffInitialMs: 1_000,
  backoffMaxMs: 60_000,
};

export interface ConnectionContext {
  resolve(name: string): HostRecord | undefined;
  /** The shared connection of a jump host, ready to forward. */
  jumpClient(name: string, chain: string[]): Promise<SshChannels>;
  hostKeys: HostKeySources;
  credentials: Credentials;
  homeDir: string;
  agentSocket: string | undefined;
  options: ConnectionOptions;
}

export interface ExecResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** A failed attempt, already classified into the state the user sees. */
export class ConnectError extends Error {
  constructor(
    readonly state: Exclude<HostState, 'online' | 'connecting'>,
    message: string,
    readonly verdict?: HostKeyVerdict,
  ) {
    super(message);
    this.name = 'ConnectError';
  }
}

const OFFLINE_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTDOWN', 'EPIPE']);

function classify(err: Error & { code?: string; level?: string }, target: string): ConnectError {
  if (err instanceof ConnectError) return err;
  if (err.level === 'client-authentication') return new ConnectError('auth-failed', `Authentication failed for ${target}.`);
  if (err.code && OFFLINE_CODES.has(err.code)) {
    const why: Record<string, string> = {
      ECONNREFUSED: 'connection refused (is sshd running and listening on that port?)',
      EHOSTUNREACH: 'host unreachable',
      ENETUNREACH: 'network unreachable',
      ETIMEDOUT: 'timed out',
      ECONNRESET: 'connection reset by the server',
      EHOSTDOWN: 'host is down',
      EPIPE: 'connection closed by the server',
    };
    return new ConnectError('offline', `${target}: ${why[err.code] ?? err.code}.`);
  }
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') {
    return new ConnectError('error', `${target}: the host name could not be resolved. Check the host field.`);
  }
  if (/lost before handshake|socket hang up/i.test(err.message)) {
    return new ConnectError('offline', `${target}: the connection was closed before the SSH handshake (is this an SSH port?).`);
  }
  if (err.level === 'client-timeout') return new ConnectError('offline', `${target}: stopped answering (keepalive timeout).`);
  return new ConnectError('error', `${target}: ${err.message}`);
}

/**
 * The one SSH connection to a host that everything shares. It owns the host's live state and, when
 * asked to keep connected, reconnects with exponential backoff. Failures that need the user (bad
 * credentials, an unknown or changed host key) stop the retries until the user acts.
 */
export class HostConnection extends EventEmitter {
  private client: Client | undefined;
  /** The channel API of `client` (one object per SSH client). */
  private channels: SshChannels | undefined;
  private pending: Promise<SshChannels> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retries = 0;
  private generation = 0;
  private closed = false;
  private wanted = false;
  status: HostStatus;
  /** What we made of the host key at the last handshake, for trust decisions. */
  lastVerdict: HostKeyVerdict | undefined;

  constructor(
    public name: string,
    private readonly ctx: ConnectionContext,
  ) {
    super();
    this.status = { name, state: 'offline', since: Date.now() };
  }

  get state(): HostState {
    return this.status.state;
  }

  /**
   * The connected session's channels (exec, stream-local, forward-out, sftp), connecting first if
   * needed. Rejects with ConnectError. The same object is returned until the SSH client is replaced.
   */
  ready(chain: string[] = []): Promise<SshChannels> {
    if (this.closed) return Promise.reject(new ConnectError('error', `${this.name}: connection closed.`));
    this.wanted = true;
    if (this.client && this.channels && this.status.state === 'online') return Promise.resolve(this.channels);
    if (this.pending) return this.pending;
    this.clearRetry();
    const attempt = this.attempt(chain);
    this.pending = attempt;
    return attempt;
  }

  /** Start connecting without waiting; failures are reported through status only. */
  start(): void {
    this.ready().catch(() => undefined);
  }

  /** Connect now, skipping any backoff wait; reports the resulting status. */
  async connectNow(): Promise<HostStatus> {
    this.retries = 0;
    try {
      await this.ready();
    } catch {
      /* the status says why */
    }
    return this.status;
  }

  /** Drop the connection and stop reconnecting. */
  disconnect(reason = 'Disconnected.'): void {
    this.wanted = false;
    this.clearRetry();
    this.generation++;
    const c = this.client;
    this.client = undefined;
    this.channels = undefined;
    c?.end();
    if (this.status.state !== 'offline') this.setStatus('offline', reason);
  }

  /** The user resolved what went wrong (trusted the key, fixed credentials): stop showing it. */
  forgetLastError(): void {
    delete this.status.lastError;
  }

  close(): void {
    this.closed = true;
    this.disconnect('Closed.');
    this.removeAllListeners();
  }

  /** Run `command` and collect its output (stdin: written then closed when given). */
  async exec(command: string, opts: { timeoutMs?: number; stdin?: string } = {}): Promise<ExecResult> {
    const stream = await (await this.ready()).exec(command);
    return new Promise<ExecResult>((resolve, reject) => {
      let stdout = '';
      let stderr = '';
      const timer = opts.timeoutMs
        ? setTimeout(() => {
            stream.close();
            reject(new Error(`${this.name}: command timed out after ${opts.timeoutMs} ms.`));
          }, opts.timeoutMs)
        : undefined;
      stream.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
      stream.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
      stream.on('close', (code: number | null, signal: string | null) => {
        if (timer) clearTimeout(timer);
        resolve({ code: code ?? null, signal: signal ?? null, stdout, stderr });
      });
      if (opts.stdin !== undefined) stream.end(opts.stdin);
    });
  }

  /**
   * Log in again and put the new session in place of the current one, staying online. sshd fixes a
   * session's groups at login, so a group the user was just added to (a system deploy adds it to
   * `fleetwake`) reaches only a new login. What ran on the old session (channels, hosts jumping through
   * this one) is closed with it and reconnects as after any drop.
   */
  async relogin(): Promise<SshChannels> {
    await this.ready();
    const host = this.ctx.resolve(this.name);
    if (!host) throw new ConnectError('error', `No host named "${this.name}".`);
    const generation = ++this.generation;
    const client = await this.handshake(host, [], generation);
    if (generation !== this.generation || this.closed) {
      client.end();
      throw new ConnectError('offline', 'Disconnected.');
    }
    const old = this.client;
    const channels = this.adopt(client, host);
    this.clearRetry();
    if (this.status.state !== 'online') this.setStatus('online');
    old?.end();
    return channels;
  }

  private adopt(client: Client, host: HostRecord): SshChannels {
    const channels = ssh2Channels(client);
    this.client = client;
    this.channels = channels;
    client.once('close', () => {
      if (this.client !== client) return;
      this.client = undefined;
      this.channels = undefined;
      this.setStatus('offline', `${host.name}: connection lost.`);
      this.scheduleRetry();
    });
    return channels;
  }

  private setStatus(state: HostState, error?: string, extra: Partial<HostStatus> = {}): void {
    const next: HostStatus = { name: this.name, state, since: Date.now() };
    if (error) next.error = error;
    const lastError = error ?? this.status.lastError;
    if (lastError) next.lastError = lastError;
    Object.assign(next, extra);
    this.status = next;
    this.emit('status', next);
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private scheduleRetry(): void {
    if (!this.ctx.options.keepConnected || !this.wanted || this.closed) return;
    const { backoffInitialMs, backoffMaxMs } = this.ctx.options;
    const base = Math.min(backoffMaxMs, backoffInitialMs * 2 ** this.retries++);
    // Jitter spreads a fleet's retries so a router coming back does not see them all at once.
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this.clearRetry();
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.start();
    }, delay);
    this.retryTimer.unref?.();
  }

  private async attempt(chain: string[]): Promise<SshChannels> {
    const host = this.ctx.resolve(this.name);
    if (!host) {
      await Promise.resolve();
      this.pending = undefined;
      throw new ConnectError('error', `No host named "${this.name}".`);
    }
    const generation = ++this.generation;
    this.setStatus('connecting');
    try {
      const client = await this.handshake(host, chain, generation);
      // Cleared before the status goes out, so a listener reacting to it starts a fresh attempt.
      this.pending = undefined;
      if (generation !== this.generation) {
        client.end();
        throw new ConnectError('offline', 'Disconnected.');
      }
      this.retries = 0;
      const channels = this.adopt(client, host);
      this.setStatus('online');
      return channels;
    } catch (e) {
      this.pending = undefined;
      const err = e as ConnectError;
      if (generation === this.generation) {
        const extra: Partial<HostStatus> = {};
        if (err.verdict) {
          extra.fingerprint = err.verdict.presented.fingerprint;
          extra.keyType = err.verdict.presented.keyType;
          if (err.verdict.verdict === 'changed' && !err.verdict.revoked) extra.expectedFingerprint = err.verdict.expectedFingerprint;
        }
        this.setStatus(err.state, err.message, extra);
        if (err.state === 'offline' || err.state === 'error') this.scheduleRetry();
      }
      throw err;
    }
  }

  private async handshake(host: HostRecord, chain: string[], generation: number): Promise<Client> {
    const target = `${host.user}@${host.host}:${host.port}`;
    let sock: Duplex | undefined;
    if (host.jump) {
      if (chain.includes(host.jump) || host.jump === host.name) {
        throw new ConnectError('error', `Jump hosts loop: ${[...chain, host.name, host.jump].join(' -> ')}. Fix the jump field.`);
      }
      let jump: SshChannels;
      try {
        jump = await this.ctx.jumpClient(host.jump, [...chain, host.name]);
      } catch (e) {
        const why = e instanceof Error ? e.message : String(e);
        throw new ConnectError('offline', `Jump host ${host.jump} is not reachable: ${why}`);
      }
      sock = await jump.forwardOut(host.host, host.port).catch((err: Error) => {
        throw new ConnectError('offline', `${target} via ${host.jump}: ${err.message}.`);
      });
    }

    const ssh2 = await loadSsh2();
    return new Promise<Client>((resolve, reject) => {
      const client = new ssh2.Client();
      let settled = false;
      let verdict: HostKeyVerdict | undefined;
      const finish = (err?: Error) => {
        if (settled) return;
        settled = true;
        timer.cancel();
        if (err) {
          client.removeAllListeners('ready');
          client.end();
          sock?.destroy();
          reject(classify(err, target));
        } else {
          resolve(client);
        }
      };
      const timer = new PausableTimer(this.ctx.options.connectTimeoutMs, () =>
        finish(new ConnectError('offline', `${target}: no answer within ${Math.round(this.ctx.options.connectTimeoutMs / 1000)} s.`)),
      );
      const auth = createAuthSession({
        host,
        homeDir: this.ctx.homeDir,
        agentSocket: this.ctx.agentSocket,
        credentials: this.ctx.credentials,
        pause: () => timer.pause(),
        resume: () => timer.resume(),
        isCancelled: () => settled || generation !== this.generation,
        // Auth runs after the host key was verified (and accepted), so the verdict is the server's key.
        binding: () => secretBinding(host.user, host.host, host.port, verdict?.presented.fingerprint ?? '(host key not verified)'),
      });

      client.on('ready', () => {
        // Without TCP_NODELAY each exec waits ~40 ms on delayed ACKs (FIELD-NOTES).
        client.setNoDelay(true);
        const binding = secretBinding(host.user, host.host, host.port, verdict?.presented.fingerprint ?? '(host key not verified)');
        for (const t of auth.typed) this.ctx.credentials.remember(host, t.kind, t.value, t.persist, binding);
        finish();
      });
      client.on('error', (err: Error & { level?: string }) => {
        if (settled) return;
        if (verdict && verdict.verdict !== 'trusted') {
          const msg =
            verdict.verdict === 'changed' && verdict.revoked
              ? `HOST KEY REVOKED for ${host.host}:${host.port}: the server presents ${verdict.presented.keyType} ${verdict.presented.fingerprint}, a key marked @revoked in ${verdict.source}. Fleetwake will not connect with a revoked key; the server's admin must install a new host key.`
              : verdict.verdict === 'changed'
              ? `HOST KEY CHANGED for ${host.host}:${host.port}. It was ${verdict.expectedFingerprint} (${verdict.source}), the server now presents ${verdict.presented.fingerprint}. This can mean someone is intercepting the connection. Connect only after confirming the new key with the server's admin.`
              : `Unknown host key for ${host.host}:${host.port}: ${verdict.presented.keyType} ${verdict.presented.fingerprint}. Confirm it to connect.${verdict.note ? ' ' + verdict.note : ''}`;
          return finish(new ConnectError(verdict.verdict === 'changed' ? 'host-key-changed' : 'host-key-unknown', msg, verdict));
        }
        if (err.level === 'client-authentication') {
          const tried = auth.notes.length ? ` (${auth.notes.join('; ')})` : '';
          return finish(
            new ConnectError('auth-failed', `Authentication failed for ${target}${tried}. Check the user, key or password for this host.`),
          );
        }
        finish(err);
      });
      client.on('close', () => finish(new ConnectError('offline', `${target}: connection closed during the handshake.`)));

      // An imported host's own UserKnownHostsFile is read besides the usual files.
      const hostKeys = host.knownHostsFiles.length
        ? { ...this.ctx.hostKeys, extraKnownHostsFiles: [...(this.ctx.hostKeys.extraKnownHostsFiles ?? []), ...host.knownHostsFiles] }
        : this.ctx.hostKeys;
      const preferred = preferredHostKeyTypes(host.host, host.port, hostKeys);
      const config: ConnectConfig = {
        host: host.host,
        port: host.port,
        username: host.user,
        readyTimeout: 0,
        keepaliveInterval: this.ctx.options.keepaliveIntervalMs,
        keepaliveCountMax: this.ctx.options.keepaliveCountMax,
        authHandler: auth.handler,
        hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
          verdict = verifyHostKey(host.host, host.port, key, hostKeys);
          this.lastVerdict = verdict;
          verify(verdict.verdict === 'trusted');
          // A block body returning undefined: ssh2 treats any returned value as "accept".
        },
      };
      if (preferred.length) config.algorithms = { serverHostKey: preferredOrder(preferred) };
      if (sock) config.sock = sock;
      try {
        client.connect(config);
        // Before the handshake too: its round trips otherwise wait on delayed ACKs (~40 ms each).
        client.setNoDelay(true);
      } catch (e) {
        finish(e as Error);
      }
    });
  }
}

const ALL_HOST_KEY_ALGOS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
] as const;

/** Ask for the key types we already trust first, as OpenSSH does, so a known host is not "unknown" by chance. */
function preferredOrder(trustedTypes: string[]): NonNullable<ConnectConfig['algorithms']>['serverHostKey'] {
  const expand = (t: string) => (t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t]);
  const first = trustedTypes.flatMap(expand).filter((a) => (ALL_HOST_KEY_ALGOS as readonly string[]).includes(a));
  const rest = ALL_HOST_KEY_ALGOS.filter((a) => !first.includes(a));
  return [...first, ...rest] as never;
}
