import type { AgentInfo, AgentMode, HistoryPoint, HistoryRange, IdleSettings, IdleStatus, MetricsSample, SleepPeriod } from '../remote-agent/protocol.js';

export type {
  AgentInfo,
  AgentMode,
  GateResult,
  GpuProcess,
  GpuSample,
  HistoryPoint,
  HistoryRange,
  IdleGate,
  IdleSettings,
  IdleState,
  IdleStatus,
  MetricsSample,
  SleepPeriod,
} from '../remote-agent/protocol.js';
export { HISTORY_RANGES, toHistoryPoint } from '../remote-agent/protocol.js';

/**
 * Contract 1: everything the renderer may ask of main, and every event main pushes.
 *
 * The Electron preload, the IPC binding in main/electron, the browser harness (WebSocket) and the
 * renderer all derive their channel names and payload shapes from this file and nowhere else.
 */

export const HOST_STATES = [
  'connecting',
  'online',
  'offline',
  'auth-failed',
  'host-key-unknown',
  'host-key-changed',
  'error',
  /** The agent announced a suspend (or planned one for a time now past) and the host has been unreachable since. */
  'asleep',
  /** A magic packet was sent; waiting for the host to come back. */
  'waking',
] as const;
export type HostState = (typeof HOST_STATES)[number];

/** What a user types when adding or editing a host. Every field arrives untrusted. */
export interface HostInput {
  name: string;
  host: string;
  port?: number | string;
  user?: string;
  identityFile?: string;
  /** Name of an environment variable holding the password (CLI); never the secret itself. */
  passwordEnv?: string;
  /** Name of another host to use as ProxyJump. */
  jump?: string;
  mac?: string;
  wolAddress?: string;
  wolPort?: number | string;
  /** Extra known_hosts files for this host (`~` allowed); see HostView.knownHostsFiles. */
  knownHostsFiles?: string[];
}

/** A stored host, as every front sees it. Secrets are never part of it, only whether one is kept. */
export interface HostView {
  name: string;
  host: string;
  port: number;
  user: string;
  identityFile: string | null;
  passwordEnv: string | null;
  jump: string | null;
  /** Lower-case, colon separated: aa:bb:cc:dd:ee:ff. */
  mac: string | null;
  wolAddress: string | null;
  wolPort: number | null;
  /**
   * More known_hosts files read for this host's key besides the usual ones: the UserKnownHostsFile of
   * an imported ssh config host. Absolute paths.
   */
  knownHostsFiles: string[];
  hasStoredPassword: boolean;
  hasStoredPassphrase: boolean;
}

export interface HostStatus {
  name: string;
  state: HostState;
  /** Human message for offline / auth-failed / error / host-key-* states. */
  error?: string;
  /** SHA256:... of the key the server presented (host-key-unknown, host-key-changed). */
  fingerprint?: string;
  keyType?: string;
  /** The fingerprint we trusted before, for host-key-changed. */
  expectedFingerprint?: string;
  /** The last error seen, kept after the host recovers so cards can show it. */
  lastError?: string;
  /** ms since epoch of the last state change. */
  since: number;
  /**
   * Whether a Wake makes sense now (asleep, or offline with a MAC known). Computed by the core on every
   * status it publishes, so the renderer, the tray and the CLI never re-derive the rule.
   */
  canWake?: boolean;
  /**
   * For 'asleep': how the core knows. 'announced': the agent said it was suspending (since = then).
   * 'planned': nobody heard an announcement, but the agent's last plan was to suspend at `since` and the
   * host has not answered since.
   */
  asleepBasis?: 'announced' | 'planned';
}

export interface ImportCandidate {
  /** The `Host` alias from the ssh config. */
  alias: string;
  input: HostInput;
  /** Problems that would make `addHost` reject this candidate. */
  errors: FieldError[];
  /** A host with this name already exists. */
  exists: boolean;
  source: string;
}

export interface ImportPreview {
  file: string;
  candidates: ImportCandidate[];
  warnings: string[];
}

export interface ImportResult {
  added: HostView[];
  failed: { name: string; error: FieldError }[];
}

export interface FieldError {
  field: string;
  message: string;
}

export type PromptKind = 'passphrase' | 'password' | 'keyboard-interactive' | 'sudo-password';

export const AGENT_STATES = ['unknown', 'not-installed', 'installing', 'running', 'outdated', 'unreachable'] as const;
/** The agent on a host, as the fleet card shows it. 'unknown' until the host has been reached. */
export type AgentState = (typeof AGENT_STATES)[number];

export interface AgentStatus {
  name: string;
  state: AgentState;
  /** Human detail: why unreachable, which version is outdated, what is installing. */
  message?: string;
  version?: string;
  mode?: AgentMode;
  info?: AgentInfo;
  since: number;
}

export type DeployOperation = 'deploy' | 'upgrade' | 'uninstall';

/** One step of a deploy/upgrade/uninstall, pushed as it happens and printed by the CLI. */
export interface DeployProgress {
  name: string;
  operation: DeployOperation;
  step: string;
  state: 'running' | 'done' | 'failed' | 'skipped';
  message: string;
  at: number;
}

export interface DeployOptions {
  /** 'auto' picks system mode when sudo works, else user mode. */
  mode?: 'auto' | AgentMode;
}

export interface MetricsHistory {
  name: string;
  range: HistoryRange;
  resolutionSeconds: number;
  points: HistoryPoint[];
}

/** Samples batched per push: at most one event a second whatever the fleet size. */
export interface MetricsBatch {
  samples: { name: string; sample: MetricsSample }[];
}

export interface Prompt {
  id: string;
  host: string;
  kind: PromptKind;
  title: string;
  instructions: string;
  prompts: { text: string; echo: boolean }[];
  /** False when secrets cannot be kept safely (no keychain, or safeStorage backend is basic_text). */
  canRemember: boolean;
}

export type SecretStorageState = 'available' | 'basic_text' | 'unavailable';

export interface AppInfo {
  version: string;
  secretStorage: SecretStorageState;
  /** Problems found when opening the data store, e.g. a corrupt file moved aside. */
  storeProblems: string[];
  dataDir: string;
  /** Whether `chooseLocalFile` can open a native file dialog (the desktop app; not the harness). */
  fileDialog: boolean;
}

/** What a local file chosen in the native dialog is for; the dialog's title and start folder follow it. */
export const LOCAL_FILE_PURPOSES = ['identity-file', 'ssh-config'] as const;
export type LocalFilePurpose = (typeof LOCAL_FILE_PURPOSES)[number];

export type ErrorCode =
  | 'invalid-input'
  | 'not-found'
  | 'conflict'
  | 'host-key-mismatch'
  | 'secret-storage-unavailable'
  | 'failed';

/** The error shape that crosses the boundary: what was wrong, and how to fix it. */
export interface ApiError {
  code: ErrorCode;
  message: string;
  field?: string;
}

export type WakeStep = 'packet-sent' | 'network-up' | 'ssh-up' | 'agent-up' | 'failed';

export interface WakeProgress {
  name: string;
  step: WakeStep;
  message: string;
  at: number;
  /**
   * On 'failed' only: 'no-answer' (timed out after the packet), 'needs-you' (the host is awake but SSH
   * needs the user: a key to confirm, a password), 'stopped' (the app is closing), 'cancelled' (the
   * user stopped waiting; the packet was sent and may still wake it).
   */
  failure?: 'no-answer' | 'needs-you' | 'stopped' | 'cancelled';
  /** From the packet on: ms since epoch when the wait gives up, so a front can show elapsed and expected time. */
  deadlineAt?: number;
}

export interface WakeOptions {
  /** Wait until the host answers over SSH (and its agent, when installed). Default true in the app. */
  wait?: boolean;
  timeoutSeconds?: number;
  /** Send the packet through this awake fleet member's agent (relay); 'auto' picks one on the same subnet. */
  via?: string | 'auto' | null;
}

/** What suspendHost started: when the agent decided, and whether it only pretended (suspend.dry_run). */
export interface SuspendResult {
  name: string;
  at: number;
  dryRun: boolean;
}

export interface WakeResult {
  name: string;
  /** Where the packets went: local broadcast addresses, or the relay host. */
  sentVia: string;
  targets: { address: string; port: number }[];
  /** Seconds from the packet to the last step reached. */
  seconds: number;
  state: HostState;
}

export interface HostIdle {
  name: string;
  status: IdleStatus | null;
  /** Why there is no status (agent not installed, unreachable). */
  message?: string;
}

export type NotificationKind = 'slept' | 'woke' | 'wake-timeout' | 'host-key-changed' | 'agent-unreachable';

export interface Preferences {
  notifications: Record<NotificationKind, boolean>;
  /** What a host draws while awake and idle when nothing better is measured, in watts. */
  baselineWatts: number;
  /** What a sleeping host still draws, in watts. */
  sleepWatts: number;
  /** Price per kWh for the money estimate; null hides money. */
  pricePerKwh: number | null;
  currency: string;
}

export interface EnergyHost {
  name: string;
  hoursAsleep: number;
  hoursAwake: number;
  /** Watts the estimate used for awake-and-idle: measured GPU + RAPL power where known, else the baseline. */
  wattsUsed: number;
  measured: boolean;
  kwhSaved: number;
  moneySaved: number | null;
}

export interface EnergyReport {
  /** ms since epoch: the report covers [since, until]. */
  since: number;
  until: number;
  hosts: EnergyHost[];
  totalKwhSaved: number;
  totalMoneySaved: number | null;
  currency: string;
}

/** What the core asks the Electron shell to show as a native notification (already filtered by preference). */
export interface FleetNotification {
  kind: NotificationKind;
  host: string;
  title: string;
  body: string;
  at: number;
}

/** The host records: the fleet list, adding, editing, removing and importing from ~/.ssh/config. */
export interface HostsApi {
  listHosts(): Promise<HostView[]>;
  addHost(input: HostInput): Promise<HostView>;
  updateHost(name: string, input: HostInput): Promise<HostView>;
  removeHost(name: string): Promise<void>;
  previewSshConfigImport(file?: string): Promise<ImportPreview>;
  importHosts(inputs: HostInput[]): Promise<ImportResult>;
}

/** The live SSH connection of each host: its state, host-key trust, and the secrets and prompts it needs. */
export interface ConnectionsApi {
  getStatuses(): Promise<HostStatus[]>;
  /** Connect (or reconnect now, skipping any backoff wait). */
  connectHost(name: string): Promise<HostStatus>;
  disconnectHost(name: string): Promise<void>;
  /** Trust exactly this fingerprint for the host; rejected if the server presents another one. */
  trustHostKey(name: string, fingerprint: string): Promise<HostStatus>;
  /** Answer a pushed prompt; `answers: null` cancels it. */
  answerPrompt(id: string, answers: string[] | null, remember: boolean): Promise<void>;
  forgetSecrets(name: string): Promise<void>;
}

/** The agent on each host: install, upgrade, uninstall, and the metrics it samples. */
export interface AgentApi {
  getAgentStatuses(): Promise<AgentStatus[]>;
  deployAgent(name: string, options?: DeployOptions): Promise<AgentStatus>;
  upgradeAgent(name: string): Promise<AgentStatus>;
  uninstallAgent(name: string, options?: { purge?: boolean }): Promise<AgentStatus>;
  /** Reach the host's agent again (a detached one that is not running is started); nothing is reinstalled. */
  checkAgent(name: string): Promise<AgentStatus>;
  getLatestMetrics(name: string): Promise<MetricsSample | null>;
  getMetricsHistory(name: string, range: HistoryRange): Promise<MetricsHistory>;
}

/** Sleep and wake: Wake-on-LAN, suspend, the idle engine's settings, sleep history and the energy it saved. */
export interface SleepApi {
  wakeHost(name: string, options?: WakeOptions): Promise<WakeResult>;
  /** Stop waiting for a host being woken (its wakeHost fails with failure 'cancelled'); the packet is already out. */
  cancelWake(name: string): Promise<void>;
  suspendHost(name: string): Promise<SuspendResult>;
  getIdleStatus(name: string): Promise<HostIdle>;
  configureIdle(name: string, settings: Partial<IdleSettings>): Promise<HostIdle>;
  getSleepHistory(name: string): Promise<SleepPeriod[]>;
  getEnergyReport(): Promise<EnergyReport>;
}

export interface PreferencesApi {
  getPreferences(): Promise<Preferences>;
  setPreferences(prefs: Partial<Preferences>): Promise<Preferences>;
}

/** The app itself: version, data folder, secret storage, and opening links outside it. */
export interface AppApi {
  getAppInfo(): Promise<AppInfo>;
  openExternal(url: string): Promise<void>;
  /**
   * Opens the native file dialog; the file the user picks may then be named as a host's identity file
   * or the ssh config to import, even outside ~/.ssh. null when the user cancels.
   */
  chooseLocalFile(purpose: LocalFilePurpose): Promise<string | null>;
}

/** Each feature's part of the contract, by feature name. */
export interface FleetFeatureApis {
  app: AppApi;
  hosts: HostsApi;
  connections: ConnectionsApi;
  agent: AgentApi;
  sleep: SleepApi;
  preferences: PreferencesApi;
}
export type FleetFeature = keyof FleetFeatureApis;

export interface FleetApi extends AppApi, HostsApi, ConnectionsApi, AgentApi, SleepApi, PreferencesApi {}

export interface FleetEvents {
  'hosts-changed': HostView[];
  'host-status': HostStatus;
  prompt: Prompt;
  'prompt-closed': { id: string };
  'agent-status': AgentStatus;
  'deploy-progress': DeployProgress;
  metrics: MetricsBatch;
  'wake-progress': WakeProgress;
  'idle-status': HostIdle;
  notification: FleetNotification;
}

export type FleetMethod = keyof FleetApi;
export type FleetEventName = keyof FleetEvents;

/** The feature whose API declares method M. */
type FeatureOf<M extends FleetMethod> = { [F in FleetFeature]: M extends keyof FleetFeatureApis[F] ? F : never }[FleetFeature];

/**
 * Every contract method and the feature that serves it: the runtime form of FleetFeatureApis, from
 * which the fronts and the core's composition dispatch. The `satisfies` makes the compiler refuse a
 * missing method, an unknown one, or one filed under a feature that does not declare it.
 */
export const FLEET_METHOD_FEATURE = {
  getAppInfo: 'app',
  chooseLocalFile: 'app',
  listHosts: 'hosts',
  addHost: 'hosts',
  updateHost: 'hosts',
  removeHost: 'hosts',
  previewSshConfigImport: 'hosts',
  importHosts: 'hosts',
  getStatuses: 'connections',
  connectHost: 'connections',
  disconnectHost: 'connections',
  trustHostKey: 'connections',
  answerPrompt: 'connections',
  forgetSecrets: 'connections',
  openExternal: 'app',
  getAgentStatuses: 'agent',
  deployAgent: 'agent',
  upgradeAgent: 'agent',
  uninstallAgent: 'agent',
  checkAgent: 'agent',
  getLatestMetrics: 'agent',
  getMetricsHistory: 'agent',
  wakeHost: 'sleep',
  cancelWake: 'sleep',
  suspendHost: 'sleep',
  getIdleStatus: 'sleep',
  configureIdle: 'sleep',
  getSleepHistory: 'sleep',
  getEnergyReport: 'sleep',
  getPreferences: 'preferences',
  setPreferences: 'preferences',
} as const satisfies { [M in FleetMethod]: FeatureOf<M> };

// Compile-time check that no method of FleetApi is missing from FLEET_METHOD_FEATURE.
type MissingMethods = Exclude<FleetMethod, keyof typeof FLEET_METHOD_FEATURE>;
const _allMethodsListed: [MissingMethods] extends [never] ? true : MissingMethods = true;
void _allMethodsListed;

/** Runtime list of methods, in table order. */
export const FLEET_METHODS = Object.keys(FLEET_METHOD_FEATURE) as readonly FleetMethod[];

export const isFleetMethod = (name: unknown): name is FleetMethod => typeof name === 'string' && Object.hasOwn(FLEET_METHOD_FEATURE, name);

export const FLEET_EVENTS = [
  'hosts-changed',
  'host-status',
  'prompt',
  'prompt-closed',
  'agent-status',
  'deploy-progress',
  'metrics',
  'wake-progress',
  'idle-status',
  'notification',
] as const satisfies readonly FleetEventName[];

export const IPC_INVOKE_PREFIX = 'fleet:';
export const IPC_EVENT_PREFIX = 'fleet-event:';
export const ipcInvokeChannel = (m: FleetMethod) => `${IPC_INVOKE_PREFIX}${m}`;
export const ipcEventChannel = (e: FleetEventName) => `${IPC_EVENT_PREFIX}${e}`;

/** Every reply over IPC or the harness socket: errors travel as data so their fields survive. */
export type ApiResult<T> = { ok: true; value: T } | { ok: false; error: ApiError };

/** What the renderer sees as `window.fleet`. */
export interface FleetBridge extends FleetApi {
  on<E extends FleetEventName>(event: E, listener: (payload: FleetEvents[E]) => void): () => void;
}

/**
 * What the preload exposes as `window.fleet`: the same methods, answering with ApiResult. Errors
 * travel as data because contextBridge copies only the message of a thrown Error into the page,
 * which would lose `code` and `field`. The renderer turns it into a FleetBridge with bridgeFromWire.
 */
export type FleetWire = {
  [M in FleetMethod]: (...args: Parameters<FleetApi[M]>) => Promise<ApiResult<Awaited<ReturnType<FleetApi[M]>>>>;
} & Pick<FleetBridge, 'on'>;

/** Thrown by the renderer side when a call fails; carries the ApiError fields. */
export class FleetApiError extends Error implements ApiError {
  code: ErrorCode;
  field?: string;
  constructor(e: ApiError) {
    super(e.message);
    this.name = 'FleetApiError';
    this.code = e.code;
    if (e.field !== undefined) this.field = e.field;
  }
}

/** The one place an ApiResult becomes a value or a thrown FleetApiError, for every transport. */
export function bridgeFromWire(wire: FleetWire): FleetBridge {
  const bridge: Record<string, unknown> = { on: wire.on.bind(wire) };
  for (const m of FLEET_METHODS) {
    const call = wire[m] as (...args: unknown[]) => Promise<ApiResult<unknown>>;
    bridge[m] = async (...args: unknown[]) => {
      const result = await call(...args);
      if (result.ok) return result.value;
      throw new FleetApiError(result.error);
    };
  }
  return bridge as unknown as FleetBridge;
}

/** Harness wire messages (WebSocket, JSON). */
export type HarnessRequest = { id: number; method: FleetMethod; args: unknown[] };
export type HarnessMessage =
  | { kind: 'result'; id: number; result: ApiResult<unknown> }
  | { kind: 'event'; event: FleetEventName; payload: unknown };

declare global {
  interface Window {
    /** Set by the Electron preload; absent in the browser harness. */
    fleet?: FleetWire;
  }
}
