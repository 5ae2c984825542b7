import { create } from 'zustand';
import type {
  AgentStatus,
  AppInfo,
  DeployProgress,
  EnergyReport,
  FleetBridge,
  HostIdle,
  HistoryRange,
  HostState,
  HostStatus,
  HostView,
  MetricsBatch,
  MetricsHistory,
  MetricsSample,
  Preferences,
  Prompt,
  SleepPeriod,
  WakeProgress,
} from '../../preload/api.js';
import type { ConnectionState } from '../bridge/index.js';
import { isObservableBridge } from '../bridge/index.js';

export type DialogState =
  | { kind: 'add' }
  | { kind: 'edit'; name: string }
  | { kind: 'import' }
  | { kind: 'remove'; name: string }
  | { kind: 'host-key'; name: string }
  | { kind: 'uninstall-agent'; name: string }
  | { kind: 'suspend'; name: string }
  | null;

/** In-app routing: the fleet grid, or one host's page in its place. */
export type Route = { page: 'fleet' } | { page: 'host'; name: string } | { page: 'energy' };

export interface HistoryEntry {
  history: MetricsHistory;
  /** ms since epoch, local clock, when the renderer received it. */
  fetchedAt: number;
}

/** Progress events kept per host. */
export const DEPLOY_LOG_LIMIT = 50;

export interface FleetState {
  loaded: boolean;
  loadError: string | null;
  connection: ConnectionState;
  appInfo: AppInfo | null;
  /** In the order the core lists them. */
  hosts: HostView[];
  /** Same hosts, for per-card selectors. Unchanged hosts keep their object identity. */
  hostsByName: Record<string, HostView>;
  /** Host names in order; a new array only when the list of names changes. */
  hostNames: string[];
  statuses: Record<string, HostStatus>;
  prompts: Prompt[];
  dialog: DialogState;
  /** Hosts the user just added or asked to connect: a host-key status for them opens the dialog. */
  watching: Record<string, number>;
  dismissedStoreProblems: boolean;
  route: Route;
  /** Agent per host. Each host's object is replaced only when that host's agent changes. */
  agents: Record<string, AgentStatus>;
  /** Latest sample per host; a batch replaces only the entries of the hosts it carries. */
  metrics: Record<string, MetricsSample>;
  /** The last DEPLOY_LOG_LIMIT deploy / upgrade / uninstall progress events per host, oldest first. */
  deployLog: Record<string, DeployProgress[]>;
  /** Fetched history, keyed by historyKey(name, range). */
  history: Record<string, HistoryEntry>;
  /** The steps of each host's latest wake, oldest first; a new 'packet-sent' starts a new list. */
  wake: Record<string, WakeProgress[]>;
  /** Idle status per host (getIdleStatus, then 'idle-status' events); replaced per host. */
  idle: Record<string, HostIdle>;
  /** Sleep periods per host, newest first, as fetched for the host page. */
  sleepHistory: Record<string, SleepPeriod[]>;
  energy: EnergyReport | null;
  preferences: Preferences | null;
}

const initial: FleetState = {
  loaded: false,
  loadError: null,
  connection: 'connecting',
  appInfo: null,
  hosts: [],
  hostsByName: {},
  hostNames: [],
  statuses: {},
  prompts: [],
  dialog: null,
  watching: {},
  dismissedStoreProblems: false,
  route: { page: 'fleet' },
  agents: {},
  metrics: {},
  deployLog: {},
  history: {},
  wake: {},
  idle: {},
  sleepHistory: {},
  energy: null,
  preferences: null,
};

export const useFleet = create<FleetState>()(() => ({ ...initial }));

/** How long after "add" / "connect" a host-key status still opens the dialog by itself. */
const WATCH_MS = 2 * 60_000;

const sameHost = (a: HostView, b: HostView) =>
  (Object.keys(a) as (keyof HostView)[]).every((k) => a[k] === b[k]) &&
  Object.keys(a).length === Object.keys(b).length;

export function applyHosts(list: HostView[]): void {
  useFleet.setState((s) => {
    const hostsByName: Record<string, HostView> = {};
    for (const h of list) {
      const prev = s.hostsByName[h.name];
      hostsByName[h.name] = prev && sameHost(prev, h) ? prev : h;
    }
    const names = list.map((h) => h.name);
    const hostNames =
      names.length === s.hostNames.length && names.every((n, i) => n === s.hostNames[i]) ? s.hostNames : names;
    // Statuses are kept even for names not (yet) listed: a status may arrive before its hosts-changed.
    let dialog = s.dialog;
    if (dialog && 'name' in dialog && !(dialog.name in hostsByName)) dialog = null;
    // A removed host's page goes back to the grid.
    const route: Route = s.route.page === 'host' && !(s.route.name in hostsByName) ? { page: 'fleet' } : s.route;
    return { hosts: list.map((h) => hostsByName[h.name]!), hostsByName, hostNames, dialog, route };
  });
}

const isHostKeyState = (st: HostState) => st === 'host-key-unknown' || st === 'host-key-changed';

const sameStatus = (a: HostStatus, b: HostStatus) =>
  a.state === b.state &&
  a.since === b.since &&
  a.error === b.error &&
  a.lastError === b.lastError &&
  a.fingerprint === b.fingerprint &&
  a.keyType === b.keyType &&
  a.expectedFingerprint === b.expectedFingerprint;

export function applyStatus(status: HostStatus): void {
  useFleet.setState((s) => {
    const prev = s.statuses[status.name];
    if (prev && (prev.since > status.since || sameStatus(prev, status))) return s;
    const patch: Partial<FleetState> = { statuses: { ...s.statuses, [status.name]: status } };
    const watchedAt = s.watching[status.name];
    if (watchedAt !== undefined) {
      if (isHostKeyState(status.state)) {
        if (Date.now() - watchedAt < WATCH_MS && s.dialog === null) {
          patch.dialog = { kind: 'host-key', name: status.name };
        }
        patch.watching = without(s.watching, status.name);
      } else if (status.state !== 'connecting') {
        patch.watching = without(s.watching, status.name);
      }
    }
    return patch;
  });
}

function without<T>(rec: Record<string, T>, key: string): Record<string, T> {
  const { [key]: _gone, ...rest } = rec;
  return rest;
}

export function watchHost(name: string): void {
  useFleet.setState((s) => ({ watching: { ...s.watching, [name]: Date.now() } }));
}

export function openDialog(dialog: DialogState): void {
  useFleet.setState({ dialog });
}
export function closeDialog(): void {
  useFleet.setState({ dialog: null });
}

export function pushPrompt(p: Prompt): void {
  useFleet.setState((s) => ({ prompts: [...s.prompts.filter((q) => q.id !== p.id), p] }));
}
export function removePrompt(id: string): void {
  useFleet.setState((s) => (s.prompts.some((p) => p.id === id) ? { prompts: s.prompts.filter((p) => p.id !== id) } : s));
}

// ---- agents, metrics, deploy progress, history -------------------------------------------------------

const sameAgent = (a: AgentStatus, b: AgentStatus) =>
  a.state === b.state &&
  a.since === b.since &&
  a.message === b.message &&
  a.version === b.version &&
  a.mode === b.mode &&
  (a.info === b.info || JSON.stringify(a.info) === JSON.stringify(b.info));

export function applyAgentStatus(status: AgentStatus): void {
  applyAgentStatuses([status]);
}

/** Apply many agent statuses in one store update (the initial load). */
export function applyAgentStatuses(list: readonly AgentStatus[]): void {
  useFleet.setState((s) => {
    let agents: Record<string, AgentStatus> | null = null;
    for (const st of list) {
      const prev = (agents ?? s.agents)[st.name];
      if (prev && (prev.since > st.since || sameAgent(prev, st))) continue;
      agents ??= { ...s.agents };
      agents[st.name] = st;
    }
    return agents ? { agents } : s;
  });
}

/**
 * One store update for a whole batch. Only the hosts in the batch get a new entry, so a card
 * selecting its own host's sample is not re-rendered for another host's batch. Samples older than
 * the one held (a late reply to getLatestMetrics) are ignored.
 */
export function applyMetricsBatch(batch: MetricsBatch): void {
  if (!batch || !Array.isArray(batch.samples) || batch.samples.length === 0) return;
  useFleet.setState((s) => {
    let metrics: Record<string, MetricsSample> | null = null;
    for (const { name, sample } of batch.samples) {
      if (!sample) continue;
      const prev = (metrics ?? s.metrics)[name];
      if (prev && prev.sampledAt >= sample.sampledAt) continue;
      metrics ??= { ...s.metrics };
      metrics[name] = sample;
    }
    return metrics ? { metrics } : s;
  });
}

export function applyDeployProgress(p: DeployProgress): void {
  useFleet.setState((s) => {
    const prev = s.deployLog[p.name] ?? [];
    const next = prev.length >= DEPLOY_LOG_LIMIT ? [...prev.slice(prev.length - DEPLOY_LOG_LIMIT + 1), p] : [...prev, p];
    return { deployLog: { ...s.deployLog, [p.name]: next } };
  });
}

export const historyKey = (name: string, range: HistoryRange) => `${name}\u0000${range}`;

export function applyHistory(history: MetricsHistory, fetchedAt = Date.now()): void {
  useFleet.setState((s) => ({ history: { ...s.history, [historyKey(history.name, history.range)]: { history, fetchedAt } } }));
}

// ---- wake, idle, sleep history, energy ------------------------------------------------------------------

/** Wake steps kept per host. */
export const WAKE_LOG_LIMIT = 20;

export function applyWakeProgress(p: WakeProgress): void {
  useFleet.setState((s) => {
    const prev = s.wake[p.name] ?? [];
    // A new magic packet starts a new run; anything older than the last step of this run is stale.
    if (p.step !== 'packet-sent' && prev.length > 0 && prev[prev.length - 1]!.at > p.at) return s;
    const run = p.step === 'packet-sent' ? [p] : [...prev.filter((q) => q.step !== p.step), p].slice(-WAKE_LOG_LIMIT);
    return { wake: { ...s.wake, [p.name]: run } };
  });
}

export function clearWakeProgress(name: string): void {
  useFleet.setState((s) => (name in s.wake ? { wake: without(s.wake, name) } : s));
}

const sameIdle = (a: HostIdle, b: HostIdle) => a.message === b.message && JSON.stringify(a.status) === JSON.stringify(b.status);

/** Only the named host's entry changes, so other hosts' panels are not re-rendered. */
export function applyIdle(idle: HostIdle): void {
  if (!idle || typeof idle.name !== 'string') return;
  useFleet.setState((s) => {
    const prev = s.idle[idle.name];
    if (prev && sameIdle(prev, idle)) return s;
    return { idle: { ...s.idle, [idle.name]: idle } };
  });
}

export function applySleepHistory(name: string, periods: SleepPeriod[]): void {
  const sorted = [...periods].sort((a, b) => b.suspendedAt - a.suspendedAt);
  useFleet.setState((s) => ({ sleepHistory: { ...s.sleepHistory, [name]: sorted } }));
}

export function applyEnergy(energy: EnergyReport): void {
  useFleet.setState({ energy });
}

export function applyPreferences(preferences: Preferences): void {
  useFleet.setState({ preferences });
}

export function openEnergy(): void {
  useFleet.setState((s) => (s.route.page === 'energy' ? s : { route: { page: 'energy' } }));
}

export function openHost(name: string): void {
  useFleet.setState((s) => (s.route.page === 'host' && s.route.name === name ? s : { route: { page: 'host', name } }));
}
export function openFleet(): void {
  useFleet.setState((s) => (s.route.page === 'fleet' ? s : { route: { page: 'fleet' } }));
}

export function dismissStoreProblems(): void {
  useFleet.setState({ dismissedStoreProblems: true });
}

/** Subscribe to the core's events, then load the initial state. Returns an unsubscribe function. */
export function startFleetSync(bridge: FleetBridge): () => void {
  const offs = [
    bridge.on('hosts-changed', applyHosts),
    bridge.on('host-status', applyStatus),
    bridge.on('prompt', pushPrompt),
    bridge.on('prompt-closed', ({ id }) => removePrompt(id)),
    bridge.on('agent-status', applyAgentStatus),
    bridge.on('deploy-progress', applyDeployProgress),
    bridge.on('metrics', applyMetricsBatch),
    bridge.on('wake-progress', applyWakeProgress),
    bridge.on('idle-status', applyIdle),
  ];
  if (isObservableBridge(bridge)) {
    useFleet.setState({ connection: bridge.connectionState() });
    offs.push(bridge.onConnectionChange((connection) => useFleet.setState({ connection })));
  } else {
    useFleet.setState({ connection: 'open' });
  }
  void (async () => {
    try {
      const [appInfo, hosts, statuses] = await Promise.all([
        bridge.getAppInfo(),
        bridge.listHosts(),
        bridge.getStatuses(),
      ]);
      useFleet.setState({ appInfo });
      applyHosts(hosts);
      for (const st of statuses) applyStatus(st);
      useFleet.setState({ loaded: true, loadError: null });
      await loadAgentsAndMetrics(bridge, hosts);
    } catch (err) {
      useFleet.setState({ loaded: true, loadError: err instanceof Error ? err.message : String(err) });
    }
  })();
  return () => offs.forEach((off) => off());
}

/** Agents and the latest samples are extras: a failure here never hides the fleet. */
async function loadAgentsAndMetrics(bridge: FleetBridge, hosts: HostView[]): Promise<void> {
  try {
    applyAgentStatuses(await bridge.getAgentStatuses());
  } catch (err) {
    console.warn('fleet: could not load agent statuses', err);
  }
  const results = await Promise.allSettled(hosts.map((h) => bridge.getLatestMetrics(h.name)));
  const samples: MetricsBatch['samples'] = [];
  results.forEach((r, i) => {
    if (r.status === 'fulfilled' && r.value) samples.push({ name: hosts[i]!.name, sample: r.value });
  });
  applyMetricsBatch({ samples });
}

// ---- selectors ---------------------------------------------------------------------------------

export const selectHost = (name: string) => (s: FleetState) => s.hostsByName[name];
export const selectStatus = (name: string) => (s: FleetState) => s.statuses[name];
export const selectHostState = (name: string) => (s: FleetState): HostState => s.statuses[name]?.state ?? 'offline';
export const selectAgent = (name: string) => (s: FleetState) => s.agents[name];
export const selectMetrics = (name: string) => (s: FleetState) => s.metrics[name];
export const selectDeployLog = (name: string) => (s: FleetState) => s.deployLog[name];
export const selectLatestDeployStep = (name: string) => (s: FleetState) => s.deployLog[name]?.at(-1);
export const selectHistory = (name: string, range: HistoryRange) => (s: FleetState) => s.history[historyKey(name, range)];
export const selectRoute = (s: FleetState) => s.route;
export const selectWake = (name: string) => (s: FleetState) => s.wake[name];
export const selectIdle = (name: string) => (s: FleetState) => s.idle[name];
export const selectSleepHistory = (name: string) => (s: FleetState) => s.sleepHistory[name];

export interface SummaryPart {
  count: number;
  text: string;
  tone: 'ok' | 'idle' | 'busy' | 'warn' | 'sleep';
}

/** Fleet counts as one string key, so the header re-renders only when a count changes. */
export function selectSummaryKey(s: FleetState): string {
  let online = 0;
  let offline = 0;
  let connecting = 0;
  let attention = 0;
  let asleep = 0;
  let waking = 0;
  for (const name of s.hostNames) {
    const st = s.statuses[name]?.state ?? 'offline';
    if (st === 'online') online++;
    else if (st === 'offline') offline++;
    else if (st === 'connecting') connecting++;
    else if (st === 'asleep') asleep++;
    else if (st === 'waking') waking++;
    else attention++;
  }
  return `${s.hostNames.length},${online},${offline},${connecting},${attention},${asleep},${waking}`;
}

/** "3 online · 2 asleep · 1 offline · 2 need attention" (online always, the others when not zero). */
export function summaryParts(key: string): SummaryPart[] {
  const [total = 0, online = 0, offline = 0, connecting = 0, attention = 0, asleep = 0, waking = 0] = key.split(',').map(Number);
  if (total === 0) return [];
  const parts: SummaryPart[] = [{ count: online, text: `${online} online`, tone: 'ok' }];
  if (asleep) parts.push({ count: asleep, text: `${asleep} asleep`, tone: 'sleep' });
  if (waking) parts.push({ count: waking, text: `${waking} waking`, tone: 'busy' });
  if (offline) parts.push({ count: offline, text: `${offline} offline`, tone: 'idle' });
  if (connecting) parts.push({ count: connecting, text: `${connecting} connecting`, tone: 'busy' });
  if (attention)
    parts.push({ count: attention, text: `${attention} need${attention === 1 ? 's' : ''} attention`, tone: 'warn' });
  return parts;
}

export const selectSummary = (s: FleetState): string =>
  summaryParts(selectSummaryKey(s))
    .map((p) => p.text)
    .join(' · ') || 'No hosts yet';

export function resetFleetStore(): void {
  useFleet.setState({ ...initial }, true);
}
