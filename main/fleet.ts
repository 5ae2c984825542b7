import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { dirname, join } from 'node:path';
import type {
  AgentStatus,
  AppInfo,
  DeployOperation,
  DeployOptions,
  HistoryRange,
  MetricsHistory,
  MetricsSample,
  FleetApi,
  FleetEventName,
  FleetEvents,
  HostInput,
  HostStatus,
  HostView,
  HostIdle,
  ImportPreview,
  ImportResult,
  EnergyReport,
  Preferences,
  Prompt,
  IdleSettings,
  SleepPeriod,
  WakeOptions,
  SuspendResult,
  WakeResult,
} from '../preload/api.js';
import { HISTORY_RANGES } from '../preload/api.js';
import type { IdleStatus, NetworkInterfaceInfo, ResumedEvent, SuspendingEvent } from '../remote-agent/protocol.js';
import { AgentManager } from './agent/manager.js';
import { IdleDrawTracker } from './energy/idle-draw.js';
import { closeOpenPeriod, computeEnergy, mergeSleepPeriods, recordSleepPeriod } from './energy/index.js';
import { Notifier } from './notify/index.js';
import { applyPreferences } from './preferences/index.js';
import { SLEEP_LOG_LIMIT } from './store/schema.js';
import { FleetError, toApiError } from './core/errors.js';
import { bundledAgentVersion, defaultAgentBundle, deployAgent, uninstallAgent, upgradeAgent, type DeployContext } from './deploy/index.js';
import { previewImport } from './hosts/import.js';
import type { HostRecord } from './hosts/types.js';
import { validateHostInput } from './hosts/validation.js';
import type { SecretStore } from './secrets/types.js';
import type { Credentials, PromptAnswer, PromptRequest } from './ssh/auth.js';
import { ConnectError, DEFAULT_CONNECTION_OPTIONS, type ConnectionOptions, type HostConnection } from './ssh/connection.js';
import type { HostKeySources } from './ssh/host-keys.js';
import { ConnectionPool } from './ssh/pool.js';
import type { FleetData, FleetStore, TrustedKey } from './store/types.js';
import { isCanonicalMac } from './hosts/mac.js';
import type { SendOptions, WolTarget } from './wake/magic-packet.js';
import type { LearnedNet } from './wake/targets.js';
import { macToStore, WakeState } from './wake/wake-state.js';
import { wakeHost as runWake, type GuardedTarget, type WakeDeps } from './wake/wake.js';
import { checkIdleSettings, idleRefusal, overlayStatus } from './wake/idle.js';

export interface FleetDeps {
  store: FleetStore;
  secrets: SecretStore;
  appVersion: string;
  /** Home folder for `~` expansion, ~/.ssh/config and ~/.ssh/known_hosts. */
  homeDir: string;
  /** Opens http(s) links; only the Electron front supplies one. */
  openExternal?: (url: string) => Promise<void>;
  /** ssh-agent socket; defaults to process.env.SSH_AUTH_SOCK. */
  agentSocket?: string;
  /** The desktop app and the harness keep every host connected; the CLI connects on demand. */
  keepConnected?: boolean;
  /** Overrides for deadlines, keepalive and backoff (tests and benchmarks use short ones). */
  connection?: Partial<ConnectionOptions>;
  knownHostsFiles?: string[];
  /** How long an unanswered prompt waits before it is cancelled. */
  promptTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** The agent bundle deploys upload (default resources/agent/fleetwake-agent.cjs). */
  agentBundle?: string;
  /** Absolute node paths deploy tries besides PATH (tests of hosts without node pass []). */
  nodeCandidates?: string[];
  /** Agent manager timings (tests use short ones). */
  agent?: { retryMs?: number; restartIntervalMs?: number; batchIntervalMs?: number };
  /** Wake-on-LAN: tests point every host at loopback and pass a guard that refuses anything else. */
  wake?: {
    /** Sees every target before a packet is sent or relayed; throwing aborts the wake. */
    guard?: (t: GuardedTarget) => void;
    send?: (mac: string, targets: WolTarget[], opts: SendOptions) => Promise<WolTarget[]>;
    networkInterfaces?: WakeDeps['networkInterfaces'];
    tcpProbe?: WakeDeps['tcpProbe'];
    pollIntervalMs?: number;
    /** Where announced suspends and learned MAC/subnet are kept; default <data dir>/wake-state.json, null = memory only. */
    statePath?: string | null;
  };
}

export interface Fleet extends FleetApi {
  on<E extends FleetEventName>(event: E, listener: (payload: FleetEvents[E]) => void): () => void;
  /** Connect to the named hosts (all when empty) in parallel, once, and report each one's state. */
  checkHosts(names?: string[]): Promise<HostStatus[]>;
  /** The shared SSH connection of a host, for everything that talks to it. */
  connection(name: string): HostConnection;
  getHost(name: string): HostRecord;
  /** Connect to the host and ask its agent (for the CLI, which keeps no live connections). */
  checkAgent(name: string): Promise<AgentStatus>;
  close(): Promise<void>;
}

/** The energy report covers the last 30 days. */
const ENERGY_WINDOW_MS = 30 * 24 * 3_600_000;

const DEPLOY_MODES = ['auto', 'system', 'user'] as const;

const FINGERPRINT_RE = /^SHA256:[A-Za-z0-9+/]{43}$/;
const DEFAULT_PROMPT_TIMEOUT_MS = 5 * 60_000;
/** A host still sampling this long after announcing a suspend did not suspend. */
const STALE_ANNOUNCEMENT_MS = 30_000;

interface PendingPrompt {
  prompt: Prompt;
  resolve: (a: PromptAnswer | null) => void;
  timer: NodeJS.Timeout;
}

export function createFleet(deps: FleetDeps): Fleet {
  return new FleetCore(deps);
}

class FleetCore implements Fleet {
  private readonly events = new EventEmitter();
  private readonly pool: ConnectionPool;
  private readonly prompts = new Map<string, PendingPrompt>();
  private readonly keepConnected: boolean;
  private readonly env: NodeJS.ProcessEnv;
  private readonly agents: AgentManager;
  private readonly notifier: Notifier;
  /** One deploy, upgrade or uninstall per host at a time. */
  private readonly operations = new Map<string, DeployOperation>();
  private closed = false;
  /** Announced suspends and learned network facts, persisted beside the store. */
  private readonly wakeState: WakeState;
  /** Hosts a magic packet was sent to and that are not back yet: since when. */
  private readonly waking = new Map<string, number>();
  /** Idle draw per host from its samples while idle, for the energy report. */
  private readonly idleDraw = new IdleDrawTracker();
  /** The state last pushed per host, so an asleep host retrying its connection does not flood events. */
  private readonly lastPushed = new Map<string, string>();
  private readonly closing = new AbortController();

  constructor(private readonly deps: FleetDeps) {
    this.events.setMaxListeners(0);
    this.keepConnected = deps.keepConnected ?? false;
    this.env = deps.env ?? process.env;
    const hostKeys: HostKeySources = {
      trusted: () => this.deps.store.read().trustedKeys,
      knownHostsFiles: deps.knownHostsFiles ?? [join(deps.homeDir, '.ssh', 'known_hosts')],
    };
    this.pool = new ConnectionPool({
      resolve: (name) => this.data().hosts.find((h) => h.name === name),
      hostKeys,
      credentials: this.credentials(),
      homeDir: deps.homeDir,
      agentSocket: deps.agentSocket ?? this.env.SSH_AUTH_SOCK ?? undefined,
      options: { ...DEFAULT_CONNECTION_OPTIONS, keepConnected: this.keepConnected, ...deps.connection },
    });
    const statePath = deps.wake?.statePath !== undefined ? deps.wake.statePath : join(dirname(deps.store.path), 'wake-state.json');
    this.wakeState = new WakeState(statePath);
    this.notifier = new Notifier({
      preferences: () => this.data().preferences,
      emit: (n) => this.emit('notification', n),
    });
    this.pool.on('status', (s: HostStatus) => this.onPoolStatus(s));
    this.agents = new AgentManager({
      connections: { get: (n) => this.pool.get(n), names: () => this.data().hosts.map((h) => h.name) },
      statusEvents: (listener) => {
        this.pool.on('status', listener);
        return () => this.pool.off('status', listener);
      },
      bundledVersion: this.bundledVersion(),
      onStatus: (s) => {
        if (s.info) this.learn(s.name, s.info.primaryInterface);
        this.notifier.agentStatus(s);
        this.emit('agent-status', s);
      },
      onMetrics: (b) => {
        this.noteSamples(b.samples);
        for (const { name, sample } of b.samples) this.idleDraw.observe(name, sample);
        this.emit('metrics', b);
      },
      onSuspending: (name, ev) => this.onSuspending(name, ev),
      onResumed: (name, ev) => this.onResumed(name, ev),
      onIdleStatus: (name, status) => {
        this.idleDraw.setState(name, status?.state ?? null);
        this.emit('idle-status', { name, status });
      },
      ...deps.agent,
    });
    // The CLI asks agents on demand (checkAgent); the app and the harness follow every online host.
    if (this.keepConnected) this.agents.start();
    if (this.keepConnected) for (const h of this.data().hosts) this.pool.get(h.name).start();
  }

  private bundledVersion(): string {
    try {
      return bundledAgentVersion(this.deps.agentBundle ?? defaultAgentBundle());
    } catch {
      // No bundle built: every installed agent reads as outdated until `npm run build` makes one.
      return 'not-built';
    }
  }

  on<E extends FleetEventName>(event: E, listener: (payload: FleetEvents[E]) => void): () => void {
    this.events.on(event, listener);
    return () => this.events.off(event, listener);
  }

  private emit<E extends FleetEventName>(event: E, payload: FleetEvents[E]): void {
    this.events.emit(event, payload);
  }

  private data(): FleetData {
    return this.deps.store.read();
  }

  getHost(name: string): HostRecord {
    const host = this.data().hosts.find((h) => h.name === name);
    if (!host) {
      const names = this.data().hosts.map((h) => h.name);
      throw new FleetError(
        'not-found',
        `No host named "${name}". ${names.length ? `Known hosts: ${names.join(', ')}.` : 'Add one first.'}`,
        'name',
      );
    }
    return host;
  }

  connection(name: string): HostConnection {
    this.getHost(name);
    return this.pool.get(name);
  }

  private view(h: HostRecord): HostView {
    return {
      ...h,
      hasStoredPassword: this.deps.secrets.hasPersisted(h.name, 'password'),
      hasStoredPassphrase: this.deps.secrets.hasPersisted(h.name, 'passphrase'),
    };
  }

  private publishHosts(): void {
    this.emit('hosts-changed', this.data().hosts.map((h) => this.view(h)));
  }

  async getAppInfo(): Promise<AppInfo> {
    return {
      version: this.deps.appVersion,
      secretStorage: this.deps.secrets.state(),
      storeProblems: [...this.deps.store.problems],
      dataDir: dirname(this.deps.store.path),
    };
  }

  async listHosts(): Promise<HostView[]> {
    return this.data().hosts.map((h) => this.view(h));
  }

  private validate(input: unknown, existing: HostRecord[], editing?: string): HostRecord {
    const ctx = editing === undefined ? { existing, homeDir: this.deps.homeDir } : { existing, editing, homeDir: this.deps.homeDir };
    return validateHostInput(input, ctx);
  }

  async addHost(input: HostInput): Promise<HostView> {
    const data = this.data();
    const host = this.validate(input, data.hosts);
    this.deps.store.write({ ...data, hosts: [...data.hosts, host] });
    this.publishHosts();
    if (this.keepConnected) this.pool.get(host.name).start();
    return this.view(host);
  }

  async updateHost(name: string, input: HostInput): Promise<HostView> {
    const data = this.data();
    const before = this.getHost(name);
    const host = this.validate(input, data.hosts, name);
    const renamed = host.name !== name;
    const hosts = data.hosts.map((h) => {
      if (h.name === name) return host;
      // A rename carries the hosts that jump through it along.
      if (renamed && h.jump === name) return { ...h, jump: host.name };
      return h;
    });
    let sleepLog = data.sleepLog;
    if (renamed && sleepLog[name]) {
      const { [name]: moved, ...rest } = sleepLog;
      sleepLog = { ...rest, [host.name]: moved! };
    }
    this.deps.store.write({ ...data, hosts, sleepLog });
    if (renamed) {
      this.notifier.forget(name);
      this.deps.secrets.rename(name, host.name);
      this.wakeState.rename(name, host.name);
      this.lastPushed.delete(name);
    }

    const reachChanged =
      renamed ||
      (['host', 'port', 'user', 'identityFile', 'passwordEnv', 'jump'] as const).some((k) => before[k] !== host[k]);
    if (reachChanged) {
      const affected = [name, ...this.pool.dependents(name, data.hosts)];
      for (const n of affected) this.pool.remove(n);
      if (renamed) this.agents.forget(name);
      this.publishHosts();
      if (this.keepConnected) for (const n of affected) this.pool.get(n === name ? host.name : n).start();
      else if (renamed) this.emit('host-status', this.overlay(this.pool.statusOf(host.name)));
    } else {
      this.publishHosts();
      // A MAC added or removed changes whether the host can be woken.
      if (before.mac !== host.mac) this.emit('host-status', this.overlay(this.pool.statusOf(host.name)));
    }
    return this.view(host);
  }

  async removeHost(name: string): Promise<void> {
    const data = this.data();
    this.getHost(name);
    const users = data.hosts.filter((h) => h.jump === name).map((h) => h.name);
    if (users.length) {
      throw new FleetError(
        'conflict',
        `${name} is the jump host for ${users.join(', ')}. Change or clear their jump host first; nothing was removed.`,
        'name',
      );
    }
    const { [name]: _dropped, ...sleepLog } = data.sleepLog;
    this.deps.store.write({ ...data, hosts: data.hosts.filter((h) => h.name !== name), sleepLog });
    this.idleDraw.forget(name);
    this.notifier.forget(name);
    this.pool.remove(name);
    this.agents.forget(name);
    this.deps.secrets.delete(name);
    this.wakeState.forget(name);
    this.lastPushed.delete(name);
    this.publishHosts();
  }

  async previewSshConfigImport(file?: string): Promise<ImportPreview> {
    const path = file && file.trim() ? file.trim() : join(this.deps.homeDir, '.ssh', 'config');
    return previewImport(path, { existing: this.data().hosts, homeDir: this.deps.homeDir });
  }

  async importHosts(inputs: HostInput[]): Promise<ImportResult> {
    if (!Array.isArray(inputs)) throw new FleetError('invalid-input', 'Import expects a list of hosts.', 'hosts');
    // Jump hosts first, so a host can jump through another one from the same import.
    const pending = [...inputs];
    const added: HostRecord[] = [];
    const failed: ImportResult['failed'] = [];
    let data = this.data();
    let progress = true;
    while (pending.length && progress) {
      progress = false;
      for (const input of [...pending]) {
        const jump = typeof input?.jump === 'string' ? input.jump.trim() : '';
        const waitsForJump = jump && !data.hosts.some((h) => h.name === jump) && pending.some((p) => p !== input && p?.name === jump);
        if (waitsForJump) continue;
        pending.splice(pending.indexOf(input), 1);
        progress = true;
        try {
          const host = this.validate(input, data.hosts);
          data = { ...data, hosts: [...data.hosts, host] };
          added.push(host);
        } catch (e) {
          const err = toApiError(e);
          failed.push({ name: String(input?.name ?? ''), error: { field: err.field ?? 'name', message: err.message } });
        }
      }
    }
    for (const input of pending) {
      failed.push({ name: String(input?.name ?? ''), error: { field: 'jump', message: `Jump hosts loop through ${input.jump}.` } });
    }
    if (added.length) {
      this.deps.store.write(data);
      this.publishHosts();
      if (this.keepConnected) for (const h of added) this.pool.get(h.name).start();
    }
    return { added: added.map((h) => this.view(h)), failed };
  }

  async getStatuses(): Promise<HostStatus[]> {
    return this.data().hosts.map((h) => this.overlay(this.pool.statusOf(h.name)));
  }

  async connectHost(name: string): Promise<HostStatus> {
    this.getHost(name);
    return this.overlay(await this.pool.get(name).connectNow());
  }

  async disconnectHost(name: string): Promise<void> {
    this.getHost(name);
    this.pool.get(name).disconnect();
  }

  async checkHosts(names: string[] = []): Promise<HostStatus[]> {
    const targets = names.length ? names.map((n) => this.getHost(n).name) : this.data().hosts.map((h) => h.name);
    return Promise.all(targets.map(async (n) => this.overlay(await this.pool.get(n).connectNow())));
  }

  async trustHostKey(name: string, fingerprint: string): Promise<HostStatus> {
    const host = this.getHost(name);
    const wanted = typeof fingerprint === 'string' ? fingerprint.trim() : '';
    if (!FINGERPRINT_RE.test(wanted)) {
      throw new FleetError(
        'invalid-input',
        `"${String(fingerprint)}" is not a SHA256 host key fingerprint. It looks like SHA256: followed by 43 characters, as printed by ssh-keygen -lf.`,
        'fingerprint',
      );
    }
    const conn = this.pool.get(name);
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
    if (verdict.verdict !== 'trusted') {
      const data = this.data();
      const key: TrustedKey = {
        host: host.host,
        port: host.port,
        keyType: verdict.presented.keyType,
        fingerprint: verdict.presented.fingerprint,
        key: verdict.presented.key,
        addedAt: new Date().toISOString(),
      };
      const others = data.trustedKeys.filter(
        (k) => !(k.host.toLowerCase() === host.host.toLowerCase() && k.port === host.port && k.keyType === key.keyType),
      );
      this.deps.store.write({ ...data, trustedKeys: [...others, key] });
      // The "unknown key" message was answered by the user; it is not an error worth keeping.
      conn.forgetLastError();
    }
    return conn.connectNow();
  }

  private credentials(): Credentials {
    return {
      secret: (host, kind) => {
        const stored = this.deps.secrets.get(host.name, kind);
        if (stored !== undefined) return stored;
        if (kind === 'password' && host.passwordEnv) return this.env[host.passwordEnv];
        return undefined;
      },
      ask: (host, request) => this.ask(host.name, request),
      remember: (host, kind, value, persist) => {
        try {
          this.deps.secrets.set(host.name, kind, value, persist && this.deps.secrets.canPersist());
          if (persist) this.publishHosts();
        } catch {
          // The prompt only offers "remember" when it can be honoured; a keychain that vanished
          // meanwhile leaves the secret for this session, which set() already kept.
        }
      },
    };
  }

  private ask(host: string, request: PromptRequest): Promise<PromptAnswer | null> {
    if (this.closed) return Promise.resolve(null);
    // A sudo password is used once and never kept.
    const canRemember = request.kind !== 'sudo-password' && this.deps.secrets.canPersist();
    const prompt: Prompt = { id: randomUUID(), host, ...request, canRemember };
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.settlePrompt(prompt.id, null), this.deps.promptTimeoutMs ?? DEFAULT_PROMPT_TIMEOUT_MS);
      timer.unref?.();
      this.prompts.set(prompt.id, { prompt, resolve, timer });
      if (this.events.listenerCount('prompt') === 0) {
        // Nobody can answer (a CLI without a terminal): fail now rather than wait out the timeout.
        this.settlePrompt(prompt.id, null);
        return;
      }
      this.emit('prompt', prompt);
    });
  }

  private settlePrompt(id: string, answer: PromptAnswer | null): boolean {
    const p = this.prompts.get(id);
    if (!p) return false;
    this.prompts.delete(id);
    clearTimeout(p.timer);
    p.resolve(answer);
    this.emit('prompt-closed', { id });
    return true;
  }

  async answerPrompt(id: string, answers: string[] | null, remember: boolean): Promise<void> {
    const p = this.prompts.get(id);
    if (!p) throw new FleetError('not-found', 'That question is no longer waiting for an answer (it timed out or was cancelled).', 'id');
    if (answers !== null) {
      if (!Array.isArray(answers) || answers.length !== p.prompt.prompts.length || answers.some((a) => typeof a !== 'string')) {
        throw new FleetError('invalid-input', `Expected ${p.prompt.prompts.length} answer(s) as text.`, 'answers');
      }
    }
    if (remember && !this.deps.secrets.canPersist()) {
      throw new FleetError(
        'secret-storage-unavailable',
        `Secrets can't be stored safely here (storage: ${this.deps.secrets.state()}). Untick "remember"; it will be used for this session only.`,
        'remember',
      );
    }
    this.settlePrompt(id, answers === null ? null : { answers, remember: !!remember });
  }

  async forgetSecrets(name: string): Promise<void> {
    this.getHost(name);
    this.deps.secrets.delete(name);
    this.publishHosts();
  }

  async openExternal(url: string): Promise<void> {
    if (!this.deps.openExternal) throw new FleetError('failed', 'Opening links is only available in the desktop app.');
    await this.deps.openExternal(url);
  }

  async getAgentStatuses(): Promise<AgentStatus[]> {
    return this.agents.statuses();
  }

  async checkAgent(name: string): Promise<AgentStatus> {
    await this.onlineConnection(name);
    return this.agents.refresh(name);
  }

  async getLatestMetrics(name: string): Promise<MetricsSample | null> {
    this.getHost(name);
    return this.agents.latest(name);
  }

  async getMetricsHistory(name: string, range: HistoryRange): Promise<MetricsHistory> {
    this.getHost(name);
    if (!HISTORY_RANGES.includes(range)) {
      throw new FleetError('invalid-input', `History range must be one of ${HISTORY_RANGES.join(', ')} (got "${String(range)}").`, 'range');
    }
    try {
      return await this.agents.history(name, range);
    } catch (e) {
      throw new FleetError('failed', e instanceof Error ? e.message : String(e));
    }
  }

  async deployAgent(name: string, options: DeployOptions = {}): Promise<AgentStatus> {
    const mode = options?.mode ?? 'auto';
    if (!DEPLOY_MODES.includes(mode)) {
      throw new FleetError('invalid-input', `Mode must be auto, system or user (got "${String(mode)}").`, 'mode');
    }
    return this.runOperation(name, 'deploy', (ctx) => deployAgent(ctx, { mode }));
  }

  async upgradeAgent(name: string): Promise<AgentStatus> {
    return this.runOperation(name, 'upgrade', (ctx) => upgradeAgent(ctx));
  }

  async uninstallAgent(name: string, options: { purge?: boolean } = {}): Promise<AgentStatus> {
    const purge = options?.purge === true;
    return this.runOperation(name, 'uninstall', (ctx) => uninstallAgent(ctx, { purge }));
  }

  private async onlineConnection(name: string): Promise<HostConnection> {
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

  /** Deploy, upgrade and uninstall: one at a time per host, progress pushed, agent state refreshed after. */
  private async runOperation(name: string, operation: DeployOperation, run: (ctx: DeployContext) => Promise<unknown>): Promise<AgentStatus> {
    this.getHost(name);
    const busy = this.operations.get(name);
    if (busy) throw new FleetError('conflict', `An agent ${busy} is already running for ${name}; wait for it to finish.`, 'name');
    this.operations.set(name, operation);
    try {
      const conn = await this.onlineConnection(name);
      const ctx: DeployContext = {
        conn,
        hostName: name,
        onProgress: (p) => {
          this.emit('deploy-progress', { ...p, name, operation, at: Date.now() });
          if (p.state === 'running') this.agents.setInstalling(name, p.message);
        },
        askSudoPassword: async () => {
          const answer = await this.ask(name, {
            kind: 'sudo-password',
            title: `Administrator password for ${name}`,
            instructions: `Installing the agent system-wide needs sudo on ${name}. The password goes to sudo on the server once and is not stored. Cancel to install for your user only.`,
            prompts: [{ text: 'Password', echo: false }],
          });
          return answer ? (answer.answers[0] ?? '') : null;
        },
      };
      if (this.deps.agentBundle) ctx.agentBundle = this.deps.agentBundle;
      if (this.deps.nodeCandidates) ctx.nodeCandidates = this.deps.nodeCandidates;
      try {
        await run(ctx);
      } catch (e) {
        await this.agents.refresh(name).catch(() => undefined);
        throw e instanceof FleetError ? e : new FleetError('failed', e instanceof Error ? e.message : String(e));
      }
      return await this.agents.refresh(name);
    } finally {
      this.operations.delete(name);
    }
  }

  // ---- Wake, sleep and idle --------------------------------------------------------------------

  /** 'asleep' / 'waking' laid over what the SSH connection says (HostState docs in preload/api.ts). */
  private overlay(s: HostStatus): HostStatus {
    const mac = this.data().hosts.find((h) => h.name === s.name)?.mac ?? null;
    return overlayStatus(s, this.wakeState.asleep(s.name), this.waking.get(s.name), mac);
  }

  private push(s: HostStatus): void {
    const out = this.overlay(s);
    // A host asleep or waking keeps retrying its connection: one event per overlay state is enough.
    const key = out.state === 'asleep' || out.state === 'waking' ? out.state : `${out.state}|${out.since}|${out.error ?? ''}`;
    if ((out.state === 'asleep' || out.state === 'waking') && this.lastPushed.get(s.name) === key) return;
    this.lastPushed.set(s.name, key);
    this.notifier.hostStatus(out);
    this.emit('host-status', out);
  }

  private onPoolStatus(s: HostStatus): void {
    // Back online: whatever was announced is over.
    if (s.state === 'online' && this.wakeState.asleep(s.name)) {
      this.wakeState.setAsleep(s.name, null);
      this.updateSleepLog(s.name, (list) => closeOpenPeriod(list, Date.now()));
    }
    this.push(s);
  }

  private onSuspending(name: string, ev: SuspendingEvent): void {
    if (ev.dryRun) return; // the agent only says what it would have done
    this.wakeState.setAsleep(name, { at: ev.at, reason: ev.reason });
    this.updateSleepLog(name, (list) =>
      recordSleepPeriod(list, { suspendedAt: ev.at, resumedAt: null, reason: ev.reason, wolArmed: ev.wolArmed, wolMessage: ev.wolMessage }, SLEEP_LOG_LIMIT),
    );
    this.notifier.slept(name, { reason: ev.reason, wolArmed: ev.wolArmed, wolMessage: ev.wolMessage, at: ev.at });
    if (this.pool.statusOf(name).state !== 'online') this.push(this.pool.statusOf(name));
  }

  /**
   * An announced suspend that did not happen (the suspend command failed) must not leave the host
   * marked: samples still arriving well after the announcement, over a live connection, clear it.
   */
  private noteSamples(samples: { name: string; sample: { sampledAt: number } }[]): void {
    for (const { name, sample } of samples) {
      const mark = this.wakeState.asleep(name);
      if (mark && sample.sampledAt > mark.at + STALE_ANNOUNCEMENT_MS && this.pool.statusOf(name).state === 'online') {
        this.wakeState.setAsleep(name, null);
      }
    }
  }

  private onResumed(name: string, ev: ResumedEvent): void {
    this.updateSleepLog(name, (list) => closeOpenPeriod(list, ev.at));
    this.notifier.woke(name, { sleptSeconds: ev.sleptSeconds });
    if (this.wakeState.asleep(name)) {
      this.wakeState.setAsleep(name, null);
      this.push(this.pool.statusOf(name));
    }
  }

  private setWaking(name: string, on: boolean): void {
    if (on) this.waking.set(name, Date.now());
    else if (!this.waking.delete(name)) return;
    if (!this.closed) this.push(this.pool.statusOf(name));
  }

  /**
   * Keep what the agent reports about the host's network: the MAC goes into the host record only when
   * the user left it empty (a user-set MAC is never overwritten); MAC, subnet and broadcast also go
   * into wake-state.json, refreshed on every connect.
   */
  private learn(name: string, pi: NetworkInterfaceInfo | null): void {
    if (!pi) return;
    try {
      const mac = isCanonicalMac(pi.mac) ? pi.mac : null;
      const learned: LearnedNet = { mac, ipv4: pi.ipv4, netmask: pi.netmask, broadcast: pi.broadcast, at: Date.now() };
      this.wakeState.setNet(name, learned);
      const data = this.data();
      const host = data.hosts.find((h) => h.name === name);
      const next = host ? macToStore(host.mac, this.wakeState.adoptedMac(name), mac) : null;
      if (next) {
        this.deps.store.write({ ...data, hosts: data.hosts.map((h) => (h.name === name ? { ...h, mac: next } : h)) });
        this.wakeState.setAdoptedMac(name, next);
        this.publishHosts();
      }
    } catch {
      // Learning is best effort; the wake asks for a MAC when none is known.
    }
  }

  private wakeDeps(): WakeDeps {
    const w = this.deps.wake ?? {};
    const deps: WakeDeps = {
      host: (n) => this.getHost(n),
      hosts: () => this.data().hosts,
      net: (n) => this.wakeState.net(n),
      sshState: (n) => this.pool.statusOf(n).state,
      agentConnected: (n) => this.agents.connected(n),
      // After close() the pool must not grow new connections from a wake still winding down.
      connectNow: async (n) => (this.closed ? { name: n, state: 'offline', error: 'Closed.', since: Date.now() } : this.pool.get(n).connectNow()),
      agentReady: (n) => this.agents.ready(n),
      relaySend: (relay, params) => this.agents.call(relay, 'wol.send', params),
      onProgress: (p) => {
        this.notifier.wakeProgress(p);
        this.emit('wake-progress', p);
      },
      setWaking: (n, on) => this.setWaking(n, on),
      signal: this.closing.signal,
    };
    if (w.guard) deps.guard = w.guard;
    if (w.send) deps.send = w.send;
    if (w.networkInterfaces) deps.networkInterfaces = w.networkInterfaces;
    if (w.tcpProbe) deps.tcpProbe = w.tcpProbe;
    if (w.pollIntervalMs !== undefined) deps.pollIntervalMs = w.pollIntervalMs;
    return deps;
  }

  async wakeHost(name: string, options?: WakeOptions): Promise<WakeResult> {
    this.getHost(name);
    if (this.waking.has(name)) throw new FleetError('conflict', `${name} is already being woken; wait for it to come back or time out.`, 'name');
    return runWake(this.wakeDeps(), name, options);
  }

  /** The agent of a host, connected (SSH and agent) on demand; FleetError 'failed' saying why not. */
  private async agentOf(name: string): Promise<void> {
    this.getHost(name);
    const asleep = this.wakeState.asleep(name);
    if (asleep && this.pool.statusOf(name).state !== 'online') {
      // Try anyway (it may have been woken by someone else), but say "asleep" when it is not there.
      const s = await this.pool.get(name).connectNow();
      if (s.state !== 'online') throw new FleetError('failed', `${name} is asleep (since ${new Date(asleep.at).toISOString()}). Wake it first: fleetwake wake ${name}`);
    }
    await this.onlineConnection(name);
    const a = await this.agents.ready(name);
    if (!this.agents.connected(name)) {
      const hint = a.state === 'not-installed' ? ` Install it with: fleetwake agent deploy ${name}` : '';
      throw new FleetError('failed', `The agent on ${name} is ${a.state}${a.message ? `: ${a.message}` : ''}.${hint}`);
    }
  }

  private async agentCall<T>(name: string, what: string, fn: () => Promise<T>): Promise<T> {
    await this.agentOf(name);
    try {
      return await fn();
    } catch (e) {
      if (e instanceof FleetError) throw e;
      const msg = (e as Error)?.message ?? String(e);
      const code = (e as { code?: number }).code;
      // The agent validates settings itself: its refusal is the user's input being wrong.
      if (code === -32602) throw idleRefusal(name, msg);
      if (code === -32601) throw new FleetError('failed', `The agent on ${name} cannot ${what} (it is too old: upgrade it with fleetwake agent upgrade ${name}).`);
      throw new FleetError('failed', `${name}: could not ${what}: ${msg}`);
    }
  }

  async suspendHost(name: string): Promise<SuspendResult> {
    const r = await this.agentCall(name, 'suspend', () => this.agents.call(name, 'suspend.now', {}));
    // Remembered now as well: a CLI exits before the agent's announcement would reach it.
    if (!r.dryRun) this.wakeState.setAsleep(name, { at: r.at, reason: 'manual' });
    return { name, at: r.at, dryRun: r.dryRun };
  }

  async getIdleStatus(name: string): Promise<HostIdle> {
    this.getHost(name);
    let status: IdleStatus;
    try {
      status = await this.agentCall(name, 'read the idle status', () => this.agents.call(name, 'idle.status', {}));
    } catch (e) {
      if (e instanceof FleetError && e.code === 'failed') return { name, status: null, message: e.message };
      throw e;
    }
    return { name, status };
  }

  async configureIdle(name: string, settings: Partial<IdleSettings>): Promise<HostIdle> {
    this.getHost(name);
    const checked = checkIdleSettings(settings);
    const status = await this.agentCall(name, 'change the idle settings', () => this.agents.call(name, 'idle.configure', { settings: checked }));
    const idle: HostIdle = { name, status };
    this.emit('idle-status', idle);
    return idle;
  }

  /** Newest first. From the agent when it answers; from what the core saw while the host sleeps or is away. */
  async getSleepHistory(name: string): Promise<SleepPeriod[]> {
    this.getHost(name);
    const own = () => [...(this.data().sleepLog[name] ?? [])].reverse();
    // A sleeping host cannot answer, and trying would cost a connect timeout.
    if (this.wakeState.asleep(name) && this.pool.statusOf(name).state !== 'online') return own();
    try {
      return await this.agentCall(name, 'read the sleep history', () => this.agents.call(name, 'sleep.history', {}));
    } catch (e) {
      if (!(e instanceof FleetError && e.code === 'failed') || this.agents.connected(name)) throw e;
      const seen = own();
      if (seen.length === 0) throw e;
      return seen;
    }
  }

  /** What the core saw of a host's sleeps, kept in the store for the energy report. */
  private updateSleepLog(name: string, change: (list: readonly SleepPeriod[]) => readonly SleepPeriod[]): void {
    try {
      const data = this.data();
      if (!data.hosts.some((h) => h.name === name)) return;
      const before = data.sleepLog[name] ?? [];
      const after = change(before);
      if (after === before) return;
      this.deps.store.write({ ...data, sleepLog: { ...data.sleepLog, [name]: [...after] } });
    } catch {
      // Losing one observation only makes the energy estimate smaller; never fail an event for it.
    }
  }

  async getEnergyReport(): Promise<EnergyReport> {
    const until = Date.now();
    const since = until - ENERGY_WINDOW_MS;
    const data = this.data();
    const periods: Record<string, SleepPeriod[]> = {};
    const measuredIdleWatts: Record<string, number | null> = {};
    await Promise.all(
      data.hosts.map(async (h) => {
        const own = data.sleepLog[h.name] ?? [];
        let fromAgent: SleepPeriod[] = [];
        if (this.agents.connected(h.name)) {
          // The agent's record wins where both saw the same sleep; an unreachable agent leaves ours.
          fromAgent = await this.agents.call(h.name, 'sleep.history', {}).catch(() => []);
        }
        periods[h.name] = mergeSleepPeriods(fromAgent, own, SLEEP_LOG_LIMIT);
        measuredIdleWatts[h.name] = this.idleDraw.watts(h.name);
      }),
    );
    return computeEnergy({ periods, since, until, prefs: data.preferences, measuredIdleWatts, hosts: data.hosts.map((h) => h.name) });
  }

  async getPreferences(): Promise<Preferences> {
    return this.data().preferences;
  }

  async setPreferences(prefs: Partial<Preferences>): Promise<Preferences> {
    const data = this.data();
    const next = applyPreferences(data.preferences, prefs);
    this.deps.store.write({ ...data, preferences: next });
    return next;
  }

  async close(): Promise<void> {
    this.closing.abort();
    this.closed = true;
    this.agents.close();
    for (const id of [...this.prompts.keys()]) this.settlePrompt(id, null);
    this.pool.closeAll();
    this.events.removeAllListeners();
  }
}
