/**
 * Contract 2: every JSON-RPC method and notification between the app and fleetwake-agent.
 *
 * JSON-RPC 2.0, one JSON object per line (newline-delimited), over the agent's unix socket (reached
 * with direct-streamlocal through SSH) or over `fleetwake-agent rpc` (a stdio bridge to the socket).
 * The app imports this file type-only, apart from the constants; the agent bundles it.
 */

/** Bumped on any incompatible change; the app shows "agent outdated" on a mismatch. */
export const PROTOCOL_VERSION = 2;

/** A request or response line longer than this is refused (and the connection closed). */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

export const RPC_ERRORS = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  /** Application errors. */
  MESSAGE_TOO_LARGE: -32001,
  UNAVAILABLE: -32002,
  /** idle.configure named settings agent.yaml locks (idle.locked); data: { locked: string[]; configFile }. */
  LOCKED: -32003,
} as const;

export interface RpcRequest<M extends string = string, P = unknown> {
  jsonrpc: '2.0';
  id: number | string;
  method: M;
  params?: P;
}

export interface RpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

export type RpcResponse<R = unknown> =
  | { jsonrpc: '2.0'; id: number | string | null; result: R }
  | { jsonrpc: '2.0'; id: number | string | null; error: RpcErrorObject };

export interface RpcNotification<M extends string = string, P = unknown> {
  jsonrpc: '2.0';
  method: M;
  params: P;
}

export type AgentMode = 'system' | 'user';

export interface NetworkInterfaceInfo {
  name: string;
  /** Lower-case colon form aa:bb:cc:dd:ee:ff. */
  mac: string;
  ipv4: string | null;
  netmask: string | null;
  /** Directed broadcast of the subnet (for Wake-on-LAN), computed from ipv4 and netmask. */
  broadcast: string | null;
}

export interface AgentCapabilities {
  gpu: boolean;
  /** Why there is no GPU data (nvidia-smi missing, timed out, failed), when gpu is false. */
  gpuReason: string | null;
  systemd: boolean;
  docker: boolean;
  sudo: boolean;
  rapl: boolean;
}

export interface AgentInfo {
  version: string;
  protocolVersion: number;
  mode: AgentMode;
  capabilities: AgentCapabilities;
  hostname: string;
  primaryInterface: NetworkInterfaceInfo | null;
  pid: number;
  /** ms since epoch. */
  startedAt: number;
  nodeVersion: string;
  configPath: string;
  stateDir: string;
  /** The last config problem (key and reason) while the agent keeps its last good config. */
  configError: string | null;
}

export interface GpuSample {
  index: number;
  uuid: string;
  name: string;
  utilPercent: number | null;
  memUsedBytes: number | null;
  memTotalBytes: number | null;
  tempC: number | null;
  powerW: number | null;
  powerLimitW: number | null;
  /**
   * The kernel reports the GPU runtime-suspended (its low-power state): it was not queried, so as not
   * to wake it. utilPercent is 0 and it has no processes; what only a query tells is null.
   */
  sleeping?: boolean;
}

export interface GpuProcess {
  gpuUuid: string;
  pid: number;
  processName: string;
  usedMemoryBytes: number | null;
}

export interface DiskUsage {
  /** What it is: 'root' for /, 'state' for the agent's state folder. */
  label: 'root' | 'state';
  path: string;
  totalBytes: number;
  usedBytes: number;
}

export interface NetworkRate {
  iface: string;
  rxBytesPerSec: number;
  txBytesPerSec: number;
}

export interface MetricsSample {
  /** ms since epoch. */
  sampledAt: number;
  cpu: {
    /** Busy percent over the last interval, all cores; null on the very first sample. */
    percent: number | null;
    perCore: (number | null)[];
    load: [number, number, number];
  };
  memory: {
    totalBytes: number;
    usedBytes: number;
    availableBytes: number;
    swapTotalBytes: number;
    swapUsedBytes: number;
  };
  disks: DiskUsage[];
  network: NetworkRate[];
  uptimeSeconds: number;
  gpus: GpuSample[];
  gpuProcesses: GpuProcess[];
  /** Set when GPU data could not be read this time (why), else null. */
  gpuError: string | null;
  /** CPU package power from RAPL, when readable. */
  cpuPowerW: number | null;
}

/** One point of history: the full sample summarised to what charts show. */
export interface HistoryPoint {
  t: number;
  cpuPercent: number | null;
  memUsedBytes: number | null;
  memTotalBytes: number | null;
  cpuPowerW: number | null;
  netRxBytesPerSec: number | null;
  netTxBytesPerSec: number | null;
  gpus: { index: number; utilPercent: number | null; memUsedBytes: number | null; tempC: number | null; powerW: number | null }[];
}

/** The history windows a chart can ask for; fronts iterate this list. */
export const HISTORY_RANGES = ['1h', '24h', '7d'] as const;
export type HistoryRange = (typeof HISTORY_RANGES)[number];

/**
 * Virtual interfaces carry the same bytes again (eth0 -> docker0 -> vethX), so a host total that
 * included them would count container traffic two or three times.
 */
const VIRTUAL_IFACE = /^(lo|veth|docker|br-|virbr|cni|flannel|cali|vxlan|tun|tap|wg|tailscale|zt)/;

export const isVirtualInterface = (iface: string): boolean => VIRTUAL_IFACE.test(iface);

function sumRates(sample: MetricsSample, key: 'rxBytesPerSec' | 'txBytesPerSec'): number | null {
  const counted = sample.network.filter((n) => !isVirtualInterface(n.iface));
  return counted.length === 0 ? null : counted.reduce((a, n) => a + n[key], 0);
}

/**
 * The one chart point of a sample. The agent stores these as history and the app extends live
 * charts with them, so both must come from this function or the two would disagree.
 */
export function toHistoryPoint(sample: MetricsSample): HistoryPoint {
  const memKnown = sample.memory.totalBytes > 0;
  return {
    t: sample.sampledAt,
    cpuPercent: sample.cpu.percent,
    memUsedBytes: memKnown ? sample.memory.usedBytes : null,
    memTotalBytes: memKnown ? sample.memory.totalBytes : null,
    cpuPowerW: sample.cpuPowerW,
    netRxBytesPerSec: sumRates(sample, 'rxBytesPerSec'),
    netTxBytesPerSec: sumRates(sample, 'txBytesPerSec'),
    gpus: sample.gpus.map((g) => ({ index: g.index, utilPercent: g.utilPercent, memUsedBytes: g.memUsedBytes, tempC: g.tempC, powerW: g.powerW })),
  };
}

export const IDLE_STATES = ['warming_up', 'active', 'idle'] as const;
export type IdleState = (typeof IDLE_STATES)[number];

/** Every reason a box may not sleep, each reported by name with a human reason. */
export const IDLE_GATES = [
  'disabled',
  'warming_up',
  'below_timeout',
  'high_cpu',
  'high_gpu',
  'gpu_processes',
  'inhibit',
  'sessions',
  'network',
  'ollama_busy',
  'custom_check',
] as const;
export type IdleGate = (typeof IDLE_GATES)[number];

export interface GateResult {
  gate: IdleGate;
  /** busy: keeps the box awake; clear: allows sleep; unavailable: the check could not run. */
  status: 'busy' | 'clear' | 'unavailable';
  /** Whether this gate keeps the box awake now. An unavailable check states here which way it counts. */
  blocking: boolean;
  reason: string;
}

/** What the app may change over RPC (validated and persisted by the agent). Commands never are. */
export interface IdleSettings {
  cpuIdleThreshold: number;
  gpuIdleThreshold: number;
  windowSeconds: number;
  idleTimeoutSeconds: number;
  minSamples: number;
  enableSuspend: boolean;
  /** Bytes per second, all interfaces together, above which the box counts as busy. */
  networkThresholdBytesPerSec: number;
}

export interface SleepPeriod {
  /** ms since epoch. */
  suspendedAt: number;
  resumedAt: number | null;
  /** 'external': the box slept without the agent asking (a lid, a suspend by hand), seen after the resume. */
  reason: 'idle' | 'manual' | 'external';
  /** Whether `ethtool -s IFACE wol g` succeeded before suspending (null: not attempted). */
  wolArmed: boolean | null;
  wolMessage: string;
}

export interface IdleStatus {
  state: IdleState;
  gates: GateResult[];
  /** ms since epoch when every gate last became clear; null while something is busy. */
  idleSince: number | null;
  /** ms since epoch when the box will suspend if nothing changes; null when it will not. */
  suspendAt: number | null;
  settings: IdleSettings;
  dryRun: boolean;
  /** The suspend command as the admin configured it (read-only; set only in agent.yaml). */
  suspendCommand: string[];
  samples: number;
  /**
   * Settings the box's agent.yaml locks (idle.locked): idle.configure refuses to change them. Absent
   * from agents built before locks existed (nothing is locked there).
   */
  locked?: (keyof IdleSettings)[];
  /** The agent.yaml in force, where the locks and the commands are set. Absent from those agents too. */
  configFile?: string;
}

export interface SuspendingEvent {
  at: number;
  reason: 'idle' | 'manual';
  wolArmed: boolean | null;
  wolMessage: string;
  dryRun: boolean;
}

export interface ResumedEvent {
  at: number;
  /** How long the box was away (gap between ticks). */
  sleptSeconds: number;
}

export interface AgentMethods {
  'agent.info': { params: Record<string, never>; result: AgentInfo };
  'metrics.latest': { params: Record<string, never>; result: MetricsSample | null };
  'metrics.history': { params: { range: HistoryRange }; result: { range: HistoryRange; resolutionSeconds: number; points: HistoryPoint[] } };
  /** Start pushing `metrics.sample` notifications on this connection. */
  'metrics.subscribe': { params: Record<string, never>; result: { intervalSeconds: number } };
  'metrics.unsubscribe': { params: Record<string, never>; result: { ok: true } };
  'idle.status': { params: Record<string, never>; result: IdleStatus };
  /**
   * Change thresholds / enable; validated, persisted in the state folder; never commands. Settings
   * agent.yaml locks are refused (RPC_ERRORS.LOCKED), and so are timings under the RPC floors.
   */
  'idle.configure': { params: { settings: Partial<IdleSettings> }; result: IdleStatus };
  /** Suspend now, with the same pre-suspend steps as an idle suspend. Answers before suspending. */
  'suspend.now': { params: Record<string, never>; result: { at: number; dryRun: boolean } };
  'sleep.history': { params: { limit?: number }; result: SleepPeriod[] };
  /** Relay: send a magic packet from this host's LAN. */
  'wol.send': { params: { mac: string; address?: string; port?: number }; result: { sent: number; address: string; port: number } };
}

export interface AgentNotifications {
  'metrics.sample': MetricsSample;
  /** Pushed to every connection (subscribed or not) right before the suspend command runs. */
  'agent.suspending': SuspendingEvent;
  /** Pushed after a resume is detected. */
  'agent.resumed': ResumedEvent;
  /** Pushed to metrics subscribers when the idle state or a gate changes. */
  'idle.status': IdleStatus;
}

export type AgentMethod = keyof AgentMethods;
export type AgentNotification = keyof AgentNotifications;

export const AGENT_METHODS = [
  'agent.info',
  'metrics.latest',
  'metrics.history',
  'metrics.subscribe',
  'metrics.unsubscribe',
  'idle.status',
  'idle.configure',
  'suspend.now',
  'sleep.history',
  'wol.send',
] as const satisfies readonly AgentMethod[];

type MissingAgentMethods = Exclude<AgentMethod, (typeof AGENT_METHODS)[number]>;
const _allAgentMethodsListed: MissingAgentMethods extends never ? true : MissingAgentMethods = true;
void _allAgentMethodsListed;

/** Where things live on a server, per mode (ARCHITECTURE.md). `~` is the deploying user's home. */
export const AGENT_PATHS = {
  system: {
    installDir: '/opt/fleetwake',
    configFile: '/etc/fleetwake/agent.yaml',
    stateDir: '/var/lib/fleetwake',
    socket: '/run/fleetwake/agent.sock',
    unit: '/etc/systemd/system/fleetwake-agent.service',
  },
  user: {
    installDir: '~/.local/share/fleetwake',
    configFile: '~/.config/fleetwake/agent.yaml',
    stateDir: '~/.local/share/fleetwake/state',
    /** $XDG_RUNTIME_DIR/fleetwake/agent.sock when set, else this. */
    socket: '~/.local/share/fleetwake/run/agent.sock',
    unit: '~/.config/systemd/user/fleetwake-agent.service',
  },
} as const;
