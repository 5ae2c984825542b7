import { EventEmitter } from 'node:events';
import type { FleetEventName, FleetEvents, HostView } from '../../preload/api.js';
import type { HostRecord } from '../hosts/types.js';
import type { Credentials } from '../ssh/auth.js';
import { ConnectError, DEFAULT_CONNECTION_OPTIONS, type HostConnection } from '../ssh/connection.js';
import { GLOBAL_KNOWN_HOSTS_FILES, userKnownHostsFiles, type HostKeySources } from '../ssh/host-keys.js';
import { ConnectionPool } from '../ssh/pool.js';
import type { FleetData } from '../store/types.js';
import type { FleetDeps } from './deps.js';
import { FleetError } from './errors.js';
import { PromptBroker } from './prompts.js';

/**
 * What every feature of the core shares: the store, the pushed events, the SSH connection pool, the
 * prompt broker, and looking hosts up. Features get it in their constructor and keep no copy of data.
 */
export class FleetContext {
  readonly keepConnected: boolean;
  readonly env: NodeJS.ProcessEnv;
  readonly pool: ConnectionPool;
  readonly prompts: PromptBroker;
  /** Aborted when the fleet closes; waits still winding down (a wake) listen to it. */
  readonly closing = new AbortController();
  private readonly events = new EventEmitter();

  constructor(readonly deps: FleetDeps) {
    this.events.setMaxListeners(0);
    this.keepConnected = deps.keepConnected ?? false;
    this.env = deps.env ?? process.env;
    this.prompts = new PromptBroker({
      secrets: deps.secrets,
      ...(deps.promptTimeoutMs !== undefined ? { timeoutMs: deps.promptTimeoutMs } : {}),
      publish: (prompt) => {
        if (this.events.listenerCount('prompt') === 0) return false;
        this.emit('prompt', prompt);
        return true;
      },
      closed: (id) => this.emit('prompt-closed', { id }),
      shuttingDown: () => this.closed,
    });
    const hostKeys: HostKeySources = {
      trusted: () => this.data().trustedKeys,
      // ~/.ssh/known_hosts and known_hosts2, then /etc/ssh/ssh_known_hosts(2) (GLOBAL_KNOWN_HOSTS_FILES).
      knownHostsFiles: deps.knownHostsFiles ?? userKnownHostsFiles(deps.homeDir),
      globalKnownHostsFiles: [...GLOBAL_KNOWN_HOSTS_FILES],
    };
    this.pool = new ConnectionPool({
      resolve: (name) => this.data().hosts.find((h) => h.name === name),
      hostKeys,
      credentials: this.credentials(),
      homeDir: deps.homeDir,
      agentSocket: deps.agentSocket ?? this.env.SSH_AUTH_SOCK ?? undefined,
      options: { ...DEFAULT_CONNECTION_OPTIONS, keepConnected: this.keepConnected, ...deps.connection },
    });
  }

  get closed(): boolean {
    return this.closing.signal.aborted;
  }

  on<E extends FleetEventName>(event: E, listener: (payload: FleetEvents[E]) => void): () => void {
    this.events.on(event, listener);
    return () => this.events.off(event, listener);
  }

  emit<E extends FleetEventName>(event: E, payload: FleetEvents[E]): void {
    this.events.emit(event, payload);
  }

  data(): FleetData {
    return this.deps.store.read();
  }

  write(data: FleetData): void {
    this.deps.store.write(data);
  }

  hostNames(): string[] {
    return this.data().hosts.map((h) => h.name);
  }

  getHost(name: string): HostRecord {
    const host = this.data().hosts.find((h) => h.name === name);
    if (!host) {
      const names = this.hostNames();
      throw new FleetError(
        'not-found',
        `No host named "${name}". ${names.length ? `Known hosts: ${names.join(', ')}.` : 'Add one first.'}`,
        'name',
      );
    }
    return host;
  }

  view(h: HostRecord): HostView {
    return {
      ...h,
      hasStoredPassword: this.deps.secrets.hasPersisted(h.name, 'password'),
      hasStoredPassphrase: this.deps.secrets.hasPersisted(h.name, 'passphrase'),
    };
  }

  publishHosts(): void {
    this.emit('hosts-changed', this.data().hosts.map((h) => this.view(h)));
  }

  /** The host's SSH connection once it is up; FleetError 'failed' saying why it is not. */
  async onlineConnection(name: string): Promise<HostConnection> {
    this.getHost(name);
    const conn = this.pool.get(name);
    try {
      await conn.ready();
    } catch (e) {
      const why = e instanceof ConnectError || e instanceof Error ? e.message : String(e);
      throw new FleetError('failed', `${name} is not reachable over SSH: ${why}`);
    }
    return conn;
  }

  /** Cancel waiting prompts, close every connection and drop every listener. */
  close(): void {
    this.prompts.cancelAll();
    this.pool.closeAll();
    this.events.removeAllListeners();
  }

  /** SSH asks here for secrets: kept ones first, the host's password variable, else the user. */
  private credentials(): Credentials {
    return {
      secret: (host, kind, binding) => {
        const stored = this.deps.secrets.get(host.name, kind, binding);
        if (stored !== undefined) return stored;
        if (kind === 'password' && host.passwordEnv) return this.env[host.passwordEnv];
        return undefined;
      },
      ask: (host, request) => this.prompts.ask(host.name, request),
      boundElsewhere: (host, kind, binding) =>
        this.deps.secrets.has(host.name, kind) && this.deps.secrets.get(host.name, kind, binding) === undefined,
      remember: (host, kind, value, persist, binding) => {
        try {
          this.deps.secrets.set(host.name, kind, value, persist && this.deps.secrets.canPersist(), binding);
          if (persist) this.publishHosts();
        } catch {
          // The prompt only offers "remember" when it can be honoured; a keychain that vanished
          // meanwhile leaves the secret for this session, which set() already kept.
        }
      },
    };
  }
}
