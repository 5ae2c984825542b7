/**
 * The tray icon and its menu (modelled on Signal Desktop's SystemTrayService): a class whose Electron
 * parts (Tray, Menu, nativeImage) are injected, so its state and menu are unit-tested in plain Node.
 *
 * - Icon: 'trouble' when any host is auth-failed, host-key-changed, error, or online with an
 *   unreachable agent; else 'asleep' when any host sleeps (or is waking); else 'awake'.
 * - Tooltip: "Fleetwake: 3 awake · 1 asleep · 1 needs attention".
 * - Menu: Show Fleetwake, one submenu per host (Open, Wake or Suspend, which asks first, when they apply), Quit. Whether
 *   Wake applies is the core's HostStatus.canWake; the tray does not re-derive the rule.
 * - installHideOnClose: closing the window hides it (Fleetwake stays in the tray) unless quitting.
 *
 * Only type imports from 'electron' here; main.ts passes the real objects.
 */
import type { AgentState, AgentStatus, HostState, HostStatus, HostView } from '../../preload/api.js';

export type TrayIconState = 'awake' | 'asleep' | 'trouble';

/** What the tray knows about one host. */
export interface TrayHost {
  name: string;
  state: HostState;
  agent: AgentState;
  /** Whether Wake applies now, as the core computed it on the host's status (HostStatus.canWake). */
  canWake: boolean;
}

/** The subset of Electron's MenuItemConstructorOptions the tray uses. */
export interface TrayMenuItem {
  id?: string;
  label?: string;
  type?: 'normal' | 'separator' | 'submenu';
  enabled?: boolean;
  toolTip?: string;
  click?: () => void;
  submenu?: TrayMenuItem[];
}

export interface TrayActions {
  /** Show (create if needed) and focus the window. */
  showWindow(): void;
  /** Show the window on this host's page. */
  openHost(name: string): void;
  wakeHost(name: string): Promise<unknown>;
  /**
   * Ask before suspending from the tray (a stray click must not stop a box's work): true to go ahead.
   * The desktop shows a native dialog naming what is still running there.
   */
  confirmSuspend(name: string): Promise<boolean>;
  suspendHost(name: string): Promise<unknown>;
  quit(): void;
  /** An action failed (e.g. no MAC known): tell the user; default logs. */
  reportError?(title: string, message: string): void;
}

/** The part of Electron's Tray used here. */
export interface TrayLike {
  setImage(image: unknown): void;
  setToolTip(toolTip: string): void;
  setContextMenu(menu: unknown): void;
  on(event: 'click', listener: () => void): unknown;
  destroy(): void;
}

export interface SystemTrayDeps {
  /** new Tray(image) */
  createTray(image: unknown): TrayLike;
  /** Menu.buildFromTemplate(template) */
  buildMenu(template: TrayMenuItem[]): unknown;
  /** The image for a state (nativeImage.createFromPath of resources/tray-<state>[Template].png). */
  image(state: TrayIconState): unknown;
  actions: TrayActions;
  log?: { warn(message: string): void };
}

const TROUBLE_STATES: ReadonlySet<HostState> = new Set<HostState>(['auth-failed', 'host-key-changed', 'error']);

export function hostInTrouble(h: TrayHost): boolean {
  return TROUBLE_STATES.has(h.state) || (h.state === 'online' && h.agent === 'unreachable');
}
const isSleeping = (h: TrayHost) => h.state === 'asleep' || h.state === 'waking';

/** "All awake" must mean it: a host that vanished without announcing a sleep, or waits for its key, is not. */
const notAwakeUnannounced = (h: TrayHost) => h.state === 'offline' || h.state === 'host-key-unknown';

export function trayIconState(hosts: readonly TrayHost[]): TrayIconState {
  if (hosts.some((h) => hostInTrouble(h) || notAwakeUnannounced(h))) return 'trouble';
  if (hosts.some(isSleeping)) return 'asleep';
  return 'awake';
}

export function trayTooltip(hosts: readonly TrayHost[]): string {
  if (hosts.length === 0) return 'Fleetwake: no hosts yet';
  let awake = 0;
  let asleep = 0;
  let waking = 0;
  let trouble = 0;
  let offline = 0;
  for (const h of hosts) {
    if (hostInTrouble(h)) trouble++;
    else if (h.state === 'asleep') asleep++;
    else if (h.state === 'waking') waking++;
    else if (h.state === 'online') awake++;
    else offline++;
  }
  const parts = [`${awake} awake`];
  if (asleep) parts.push(`${asleep} asleep`);
  if (waking) parts.push(`${waking} waking`);
  if (offline) parts.push(`${offline} offline`);
  if (trouble) parts.push(`${trouble} need${trouble === 1 ? 's' : ''} attention`);
  return `Fleetwake: ${parts.join(' · ')}`;
}

const STATE_LABEL: Record<HostState, string> = {
  connecting: 'connecting',
  online: 'awake',
  offline: 'offline',
  'auth-failed': 'authentication failed',
  'host-key-unknown': 'confirm host key',
  'host-key-changed': 'HOST KEY CHANGED',
  error: 'error',
  asleep: 'asleep',
  waking: 'waking…',
};

/** Suspend needs the agent: online with a running agent. */
export const canSuspend = (h: TrayHost) => h.state === 'online' && h.agent === 'running';

export function hostLabel(h: TrayHost): string {
  const agent = h.state === 'online' && h.agent === 'unreachable' ? ' (agent unreachable)' : '';
  return `${h.name} — ${STATE_LABEL[h.state]}${agent}`;
}

/** The menu, pure: clicks call `actions`. */
export function trayMenuTemplate(hosts: readonly TrayHost[], actions: TrayActions): TrayMenuItem[] {
  const report = actions.reportError ?? ((title: string, message: string) => console.warn(`${title}: ${message}`));
  const run = (title: string, fn: () => Promise<unknown>) => () => {
    fn().catch((err: unknown) => report(title, err instanceof Error ? err.message : String(err)));
  };
  const items: TrayMenuItem[] = [{ id: 'show', label: 'Show Fleetwake', click: () => actions.showWindow() }, { type: 'separator' }];
  if (hosts.length === 0) items.push({ id: 'no-hosts', label: 'No hosts yet', enabled: false });
  for (const h of hosts) {
    const sub: TrayMenuItem[] = [{ id: `open:${h.name}`, label: 'Open', click: () => actions.openHost(h.name) }];
    if (h.canWake) sub.push({ id: `wake:${h.name}`, label: 'Wake', click: run(`Could not wake ${h.name}`, () => actions.wakeHost(h.name)) });
    if (h.state === 'waking') sub.push({ id: `waking:${h.name}`, label: 'Waking…', enabled: false });
    if (canSuspend(h)) {
      const suspend = async () => {
        if (await actions.confirmSuspend(h.name)) await actions.suspendHost(h.name);
      };
      sub.push({ id: `suspend:${h.name}`, label: 'Suspend now…', click: run(`Could not suspend ${h.name}`, suspend) });
    }
    items.push({ id: `host:${h.name}`, label: hostLabel(h), type: 'submenu', submenu: sub });
  }
  items.push({ type: 'separator' }, { id: 'quit', label: 'Quit Fleetwake', click: () => actions.quit() });
  return items;
}

/** Everything that decides what the tray shows, as one comparable string. */
const modelKey = (hosts: readonly TrayHost[]) => JSON.stringify(hosts.map((h) => [h.name, h.state, h.agent, h.canWake]));

export class SystemTrayService {
  private readonly deps: SystemTrayDeps;
  private tray: TrayLike | null = null;
  private hosts: string[] = [];
  private readonly states = new Map<string, { state: HostState; since: number; canWake: boolean }>();
  private readonly agents = new Map<string, { state: AgentState; since: number }>();
  private lastKey: string | null = null;
  private lastIcon: TrayIconState | null = null;

  constructor(deps: SystemTrayDeps) {
    this.deps = deps;
  }

  /** The hosts as the tray sees them now, in fleet order. */
  snapshot(): TrayHost[] {
    return this.hosts.map((name) => ({
      name,
      canWake: this.states.get(name)?.canWake ?? false,
      state: this.states.get(name)?.state ?? 'connecting',
      agent: this.agents.get(name)?.state ?? 'unknown',
    }));
  }

  iconState(): TrayIconState {
    return trayIconState(this.snapshot());
  }

  setHosts(list: readonly HostView[]): void {
    this.hosts = list.map((h) => h.name);
    const names = new Set(this.hosts);
    for (const n of [...this.states.keys()]) if (!names.has(n)) this.states.delete(n);
    for (const n of [...this.agents.keys()]) if (!names.has(n)) this.agents.delete(n);
    this.render();
  }

  setStatus(s: HostStatus): void {
    const prev = this.states.get(s.name);
    if (prev && prev.since > s.since) return;
    this.states.set(s.name, { state: s.state, since: s.since, canWake: s.canWake === true });
    this.render();
  }

  setAgent(a: AgentStatus): void {
    const prev = this.agents.get(a.name);
    if (prev && prev.since > a.since) return;
    this.agents.set(a.name, { state: a.state, since: a.since });
    this.render();
  }

  /** Creates the tray on the first call; afterwards updates it only when something it shows changed. */
  render(): void {
    const hosts = this.snapshot();
    const key = modelKey(hosts);
    if (this.tray && key === this.lastKey) return;
    const icon = trayIconState(hosts);
    if (!this.tray) {
      this.tray = this.deps.createTray(this.deps.image(icon));
      // Windows / macOS: a left click shows the window (Linux app indicators only open the menu).
      this.tray.on('click', () => this.deps.actions.showWindow());
    } else if (icon !== this.lastIcon) {
      this.tray.setImage(this.deps.image(icon));
    }
    this.lastIcon = icon;
    this.lastKey = key;
    this.tray.setToolTip(trayTooltip(hosts));
    this.tray.setContextMenu(this.deps.buildMenu(trayMenuTemplate(hosts, this.deps.actions)));
  }

  destroy(): void {
    this.tray?.destroy();
    this.tray = null;
    this.lastKey = null;
  }
}

/** The part of the Fleet the tray follows (Fleet satisfies it). */
export interface TrayFleetSource {
  on(event: 'hosts-changed', listener: (hosts: HostView[]) => void): () => void;
  on(event: 'host-status', listener: (s: HostStatus) => void): () => void;
  on(event: 'agent-status', listener: (s: AgentStatus) => void): () => void;
  listHosts(): Promise<HostView[]>;
  getStatuses(): Promise<HostStatus[]>;
  getAgentStatuses(): Promise<AgentStatus[]>;
}

/** Subscribe the tray to the fleet's events, then load the current state. Returns an unsubscribe. */
export function followFleet(tray: SystemTrayService, fleet: TrayFleetSource, log: { warn(m: string): void } = console): () => void {
  const offs = [
    fleet.on('hosts-changed', (hosts) => tray.setHosts(hosts)),
    fleet.on('host-status', (s) => tray.setStatus(s)),
    fleet.on('agent-status', (a) => tray.setAgent(a)),
  ];
  void (async () => {
    try {
      const [hosts, statuses, agents] = await Promise.all([fleet.listHosts(), fleet.getStatuses(), fleet.getAgentStatuses()]);
      tray.setHosts(hosts);
      for (const s of statuses) tray.setStatus(s);
      for (const a of agents) tray.setAgent(a);
    } catch (err) {
      log.warn(`Tray: could not load the fleet: ${err instanceof Error ? err.message : String(err)}`);
      tray.render();
    }
  })();
  return () => offs.forEach((off) => off());
}

/** The part of a BrowserWindow hide-on-close needs. */
export interface HideableWindowLike {
  on(event: 'close', listener: (event: { preventDefault(): void }) => void): unknown;
  removeListener(event: 'close', listener: (event: { preventDefault(): void }) => void): unknown;
  hide(): void;
}

/**
 * Closing the window hides it and Fleetwake keeps running in the tray, unless the app is quitting
 * (Quit in the tray menu, Cmd+Q, system shutdown). Returns a function that removes the behaviour.
 */
export function installHideOnClose(win: HideableWindowLike, isQuitting: () => boolean): () => void {
  const onClose = (event: { preventDefault(): void }) => {
    if (isQuitting()) return;
    event.preventDefault();
    win.hide();
  };
  win.on('close', onClose);
  return () => void win.removeListener('close', onClose);
}
