import { describe, expect, it } from 'vitest';
import type { AgentStatus, HostStatus, HostView } from '../../preload/api.js';
import {
  followFleet,
  installHideOnClose,
  SystemTrayService,
  trayIconState,
  trayMenuTemplate,
  trayTooltip,
  type TrayActions,
  type TrayHost,
  type TrayMenuItem,
} from '../../main/electron/tray.js';
import { canWake } from '../../main/sleep/wake/idle.js';

const view = (name: string, mac: string | null = null): HostView => ({
  name,
  host: `${name}.lan`,
  port: 22,
  user: 'me',
  identityFile: null,
  passwordEnv: null,
  jump: null,
  mac,
  wolAddress: null,
  wolPort: null,
  knownHostsFiles: [],
  hasStoredPassword: false,
  hasStoredPassphrase: false,
});
// Wake is offered by the core's own rule (asleep, or offline with a MAC), as it sets HostStatus.canWake.
const th = (name: string, state: TrayHost['state'], agent: TrayHost['agent'] = 'running', mac: string | null = null): TrayHost => ({
  name,
  state,
  agent,
  canWake: canWake(state, mac),
});
/** A host status as the core publishes it, canWake included. */
const status = (name: string, state: HostStatus['state'], since: number, mac: string | null = null, extra: Partial<HostStatus> = {}): HostStatus => ({
  name,
  state,
  since,
  ...extra,
  canWake: canWake(state, mac),
});

function actions(confirm = true): TrayActions & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    showWindow: () => calls.push('show'),
    openHost: (n) => calls.push(`open:${n}`),
    wakeHost: async (n) => calls.push(`wake:${n}`),
    confirmSuspend: async (n) => (calls.push(`confirm:${n}`), confirm),
    suspendHost: async (n) => calls.push(`suspend:${n}`),
    quit: () => calls.push('quit'),
    reportError: (t, m) => calls.push(`error:${t}:${m}`),
  };
}

const find = (items: TrayMenuItem[], id: string): TrayMenuItem | undefined => {
  for (const i of items) {
    if (i.id === id) return i;
    const sub = i.submenu && find(i.submenu, id);
    if (sub) return sub;
  }
  return undefined;
};

describe('tray state', () => {
  it('awake / asleep / trouble', () => {
    expect(trayIconState([])).toBe('awake');
    expect(trayIconState([th('a', 'online'), th('c', 'connecting')])).toBe('awake');
    // Unreachable without an announced sleep, or waiting for its key: not "all awake".
    expect(trayIconState([th('a', 'online'), th('b', 'offline')])).toBe('trouble');
    expect(trayIconState([th('a', 'online'), th('b', 'host-key-unknown')])).toBe('trouble');
    expect(trayIconState([th('a', 'online'), th('b', 'asleep')])).toBe('asleep');
    expect(trayIconState([th('a', 'online'), th('b', 'waking')])).toBe('asleep');
    for (const bad of ['auth-failed', 'host-key-changed', 'error'] as const) {
      expect(trayIconState([th('a', 'asleep'), th('b', bad)])).toBe('trouble');
    }
    expect(trayIconState([th('a', 'online', 'unreachable')])).toBe('trouble');
    // A sleeping host's agent is unreachable by nature: not trouble.
    expect(trayIconState([th('a', 'asleep', 'unreachable'), th('b', 'waking', 'unreachable')])).toBe('asleep');
  });

  it('tooltip summarises the fleet', () => {
    expect(trayTooltip([])).toBe('Fleetwake: no hosts yet');
    expect(trayTooltip([th('a', 'online'), th('b', 'online'), th('c', 'asleep'), th('d', 'waking'), th('e', 'error'), th('f', 'offline')])).toBe(
      'Fleetwake: 2 awake · 1 asleep · 1 waking · 1 offline · 1 needs attention',
    );
    expect(trayTooltip([th('a', 'auth-failed'), th('b', 'online', 'unreachable')])).toBe('Fleetwake: 0 awake · 2 need attention');
  });
});

describe('tray menu', () => {
  it('lists hosts with Open, Wake (asleep, or offline with a MAC) and Suspend (online with a running agent)', async () => {
    const a = actions();
    const menu = trayMenuTemplate(
      [
        th('sleepy', 'asleep', 'unreachable'),
        th('off-mac', 'offline', 'unknown', 'aa:bb:cc:dd:ee:ff'),
        th('off-nomac', 'offline', 'unknown'),
        th('busy', 'online', 'running'),
        th('noagent', 'online', 'not-installed'),
        th('rising', 'waking', 'unreachable'),
      ],
      a,
    );
    expect(menu[0]).toMatchObject({ id: 'show', label: 'Show Fleetwake' });
    expect(menu.at(-1)).toMatchObject({ id: 'quit', label: 'Quit Fleetwake' });
    expect(find(menu, 'host:sleepy')!.label).toBe('sleepy — asleep');
    const ids = (n: string) => find(menu, `host:${n}`)!.submenu!.map((i) => i.id);
    expect(ids('sleepy')).toEqual(['open:sleepy', 'wake:sleepy']);
    expect(ids('off-mac')).toEqual(['open:off-mac', 'wake:off-mac']);
    expect(ids('off-nomac')).toEqual(['open:off-nomac']);
    expect(ids('busy')).toEqual(['open:busy', 'suspend:busy']);
    expect(ids('noagent')).toEqual(['open:noagent']);
    expect(find(menu, 'waking:rising')).toMatchObject({ enabled: false, label: 'Waking…' });

    find(menu, 'show')!.click!();
    find(menu, 'open:busy')!.click!();
    find(menu, 'wake:sleepy')!.click!();
    find(menu, 'suspend:busy')!.click!();
    find(menu, 'quit')!.click!();
    await expect.poll(() => a.calls).toEqual(['show', 'open:busy', 'wake:sleepy', 'confirm:busy', 'quit', 'suspend:busy']);
  });

  it('suspends from the tray only after the user confirms', async () => {
    const no = actions(false);
    const hosts = [th('busy', 'online', 'running')];
    find(trayMenuTemplate(hosts, no), 'suspend:busy')!.click!();
    await expect.poll(() => no.calls).toEqual(['confirm:busy']);
    await new Promise((r) => setImmediate(r));
    expect(no.calls).toEqual(['confirm:busy']);
    expect(find(trayMenuTemplate(hosts, no), 'suspend:busy')!.label).toBe('Suspend now…');
  });

  it('reports a failed action instead of throwing', async () => {
    const a = actions();
    a.wakeHost = async () => {
      throw new Error('No MAC address known for sleepy.');
    };
    const menu = trayMenuTemplate([th('sleepy', 'asleep')], a);
    find(menu, 'wake:sleepy')!.click!();
    await new Promise((r) => setTimeout(r, 0));
    expect(a.calls).toEqual(['error:Could not wake sleepy:No MAC address known for sleepy.']);
  });

  it('says so when there are no hosts', () => {
    expect(find(trayMenuTemplate([], actions()), 'no-hosts')).toMatchObject({ enabled: false });
  });
});

function fakeTray() {
  const calls: string[] = [];
  const clicks: (() => void)[] = [];
  const menus: TrayMenuItem[][] = [];
  const service = (a = actions()) =>
    new SystemTrayService({
      createTray: (image) => {
        calls.push(`create:${String(image)}`);
        return {
          setImage: (i) => calls.push(`image:${String(i)}`),
          setToolTip: (t) => calls.push(`tooltip:${t}`),
          setContextMenu: () => calls.push('menu'),
          on: (_e, l) => clicks.push(l),
          destroy: () => calls.push('destroy'),
        };
      },
      buildMenu: (t) => {
        menus.push(t);
        return t;
      },
      image: (s) => `img-${s}`,
      actions: a,
    });
  return { calls, clicks, menus, service };
}

describe('SystemTrayService', () => {
  it('creates the tray once, then updates the image only when the state changes', () => {
    const { calls, service } = fakeTray();
    const tray = service();
    tray.setHosts([view('a'), view('b')]);
    tray.setStatus(status('a', 'online', 1));
    tray.setStatus(status('b', 'online', 1));
    tray.setStatus(status('b', 'asleep', 2));
    tray.setAgent({ name: 'a', state: 'running', since: 1 });
    tray.setAgent({ name: 'a', state: 'unreachable', since: 2 });
    const images = calls.filter((c) => c.startsWith('create') || c.startsWith('image'));
    expect(images).toEqual(['create:img-awake', 'image:img-asleep', 'image:img-trouble']);
    expect(tray.iconState()).toBe('trouble');
  });

  it('skips updates that change nothing it shows, and ignores stale statuses', () => {
    const { calls, service } = fakeTray();
    const tray = service();
    tray.setHosts([view('a')]);
    tray.setStatus(status('a', 'online', 5));
    const n = calls.length;
    tray.setStatus(status('a', 'online', 6, null, { lastError: 'x' }));
    tray.setStatus(status('a', 'error', 4));
    expect(calls.length).toBe(n);
    expect(tray.snapshot()).toEqual([{ name: 'a', canWake: false, state: 'online', agent: 'unknown' }]);
  });

  it('drops removed hosts and shows the window on a tray click', () => {
    const a = actions();
    const { clicks, menus, service } = fakeTray();
    const tray = service(a);
    tray.setHosts([view('a'), view('b', 'aa:bb:cc:dd:ee:ff')]);
    tray.setStatus(status('a', 'error', 1));
    tray.setStatus(status('b', 'asleep', 1, 'aa:bb:cc:dd:ee:ff'));
    tray.setHosts([view('b', 'aa:bb:cc:dd:ee:ff')]);
    expect(tray.iconState()).toBe('asleep');
    expect(find(menus.at(-1)!, 'wake:b')).toBeDefined();
    clicks[0]!();
    expect(a.calls).toEqual(['show']);
  });

  it('follows the fleet: loads the state, then applies events', async () => {
    const { service } = fakeTray();
    const tray = service();
    const listeners = new Map<string, (p: unknown) => void>();
    const fleet = {
      on: (e: string, l: (p: unknown) => void) => {
        listeners.set(e, l);
        return () => listeners.delete(e);
      },
      listHosts: async () => [view('a'), view('b')],
      getStatuses: async (): Promise<HostStatus[]> => [status('a', 'online', 1), status('b', 'asleep', 1)],
      getAgentStatuses: async (): Promise<AgentStatus[]> => [{ name: 'a', state: 'running', since: 1 }],
    };
    const off = followFleet(tray, fleet as never);
    await new Promise((r) => setTimeout(r, 0));
    expect(tray.iconState()).toBe('asleep');
    listeners.get('host-status')!(status('b', 'host-key-changed', 2));
    expect(tray.iconState()).toBe('trouble');
    off();
    expect(listeners.size).toBe(0);
  });
});

describe('hide on close', () => {
  function win() {
    const listeners: ((e: { preventDefault(): void }) => void)[] = [];
    const w = {
      hidden: 0,
      on: (_e: 'close', l: (e: { preventDefault(): void }) => void) => listeners.push(l),
      removeListener: (_e: 'close', l: (e: { preventDefault(): void }) => void) => listeners.splice(listeners.indexOf(l), 1),
      hide: () => void w.hidden++,
      close: () => {
        const e = { prevented: false, preventDefault: () => void (e.prevented = true) };
        for (const l of [...listeners]) l(e);
        return e.prevented;
      },
      listeners,
    };
    return w;
  }

  it('hides instead of closing, unless quitting', () => {
    const w = win();
    let quitting = false;
    installHideOnClose(w, () => quitting);
    expect(w.close()).toBe(true);
    expect(w.hidden).toBe(1);
    quitting = true;
    expect(w.close()).toBe(false);
    expect(w.hidden).toBe(1);
  });

  it('can be removed', () => {
    const w = win();
    const off = installHideOnClose(w, () => false);
    off();
    expect(w.listeners).toHaveLength(0);
    expect(w.close()).toBe(false);
  });
});

describe('tray module boundaries', () => {
  it('imports nothing from electron (it runs in plain Node: this file loaded it)', async () => {
    const fs = await import('node:fs');
    const src = fs.readFileSync(new URL('../../main/electron/tray.ts', import.meta.url), 'utf8');
    expect(src).not.toMatch(/^import [^;]*from 'electron'/m);
  });
});
