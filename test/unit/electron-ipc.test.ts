import { describe, expect, it, vi } from 'vitest';
import { FLEET_EVENTS, FLEET_METHODS, ipcEventChannel, ipcInvokeChannel, type FleetEventName } from '../../preload/api.js';
import { FleetError } from '../../main/core/errors.js';
import type { Fleet } from '../../main/fleet.js';
import {
  REFUSED_MESSAGE,
  bindFleetIpc,
  isTrustedSender,
  type InvokeEventLike,
  type IpcMainLike,
  type WindowLike,
} from '../../main/electron/ipc.js';

const RENDERER_URL = 'file:///opt/Fleetwake/resources/app.asar/out/renderer/index.html';
const WC_ID = 7;

type Listener = (event: InvokeEventLike, ...args: unknown[]) => unknown;

function fakeIpcMain() {
  const handlers = new Map<string, Listener>();
  const ipc: IpcMainLike = {
    handle: (channel, listener) => {
      if (handlers.has(channel)) throw new Error(`second handler for ${channel}`);
      handlers.set(channel, listener);
    },
    removeHandler: (channel) => void handlers.delete(channel),
  };
  return { ipc, handlers };
}

function fakeFleet() {
  const listeners = new Map<string, Set<(p: unknown) => void>>();
  const fleet = {
    on: (event: string, l: (p: unknown) => void) => {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(l);
      return () => set.delete(l);
    },
    close: vi.fn(async () => {}),
  } as Record<string, unknown>;
  for (const m of FLEET_METHODS) fleet[m] = vi.fn(async () => undefined);
  const emit = (event: FleetEventName, payload: unknown) => listeners.get(event)?.forEach((l) => l(payload));
  return { fleet: fleet as unknown as Fleet, mocks: fleet as Record<string, ReturnType<typeof vi.fn>>, emit, listeners };
}

function fakeWindow(id = WC_ID) {
  const sent: { channel: string; args: unknown[] }[] = [];
  let destroyed = false;
  const win: WindowLike = {
    isDestroyed: () => destroyed,
    webContents: { id, isDestroyed: () => destroyed, send: (channel, ...args) => void sent.push({ channel, args }) },
  };
  return { win, sent, destroy: () => (destroyed = true) };
}

const mainFrame = (url = RENDERER_URL) => ({ url, parent: null });
const event = (frame: InvokeEventLike['senderFrame'], wcId = WC_ID): InvokeEventLike => ({ sender: { id: wcId }, senderFrame: frame });

function setup() {
  const { ipc, handlers } = fakeIpcMain();
  const f = fakeFleet();
  const w = fakeWindow();
  const warn = vi.fn();
  const unbind = bindFleetIpc({ ipcMain: ipc, fleet: f.fleet, getWindow: () => w.win, rendererUrl: RENDERER_URL, log: { warn } });
  const call = (method: (typeof FLEET_METHODS)[number], ev: InvokeEventLike, ...args: unknown[]) => {
    const h = handlers.get(ipcInvokeChannel(method));
    if (!h) throw new Error(`no handler for ${method}`);
    return h(ev, ...args);
  };
  return { handlers, ...f, ...w, warn, unbind, call };
}

describe('isTrustedSender', () => {
  const trusted = { url: RENDERER_URL, webContentsId: WC_ID };
  it('accepts our main frame showing our renderer, whatever the hash or query', () => {
    expect(isTrustedSender({ frameUrl: RENDERER_URL, isMainFrame: true, webContentsId: WC_ID }, trusted)).toBe(true);
    expect(isTrustedSender({ frameUrl: `${RENDERER_URL}#/hosts/gpu1`, isMainFrame: true, webContentsId: WC_ID }, trusted)).toBe(true);
    expect(isTrustedSender({ frameUrl: `${RENDERER_URL}?x=1`, isMainFrame: true, webContentsId: WC_ID }, trusted)).toBe(true);
  });
  it('refuses other documents, subframes, other webContents and junk', () => {
    const ok = { frameUrl: RENDERER_URL, isMainFrame: true, webContentsId: WC_ID };
    expect(isTrustedSender({ ...ok, frameUrl: 'file:///tmp/evil/index.html' }, trusted)).toBe(false);
    expect(isTrustedSender({ ...ok, frameUrl: 'file:///opt/Fleetwake/resources/app.asar/out/renderer/other.html' }, trusted)).toBe(false);
    expect(isTrustedSender({ ...ok, frameUrl: 'https://example.com/out/renderer/index.html' }, trusted)).toBe(false);
    expect(isTrustedSender({ ...ok, frameUrl: 'file://evilhost/opt/Fleetwake/resources/app.asar/out/renderer/index.html' }, trusted)).toBe(false);
    expect(isTrustedSender({ ...ok, isMainFrame: false }, trusted)).toBe(false);
    expect(isTrustedSender({ ...ok, webContentsId: WC_ID + 1 }, trusted)).toBe(false);
    expect(isTrustedSender({ ...ok, frameUrl: null }, trusted)).toBe(false);
    expect(isTrustedSender({ ...ok, frameUrl: '' }, trusted)).toBe(false);
    expect(isTrustedSender({ ...ok, frameUrl: 'not a url' }, trusted)).toBe(false);
  });
});

describe('bindFleetIpc', () => {
  it('registers exactly one handler per FLEET_METHODS entry and removes them on unbind', () => {
    const s = setup();
    expect([...s.handlers.keys()].sort()).toEqual(FLEET_METHODS.map(ipcInvokeChannel).sort());
    s.unbind();
    expect(s.handlers.size).toBe(0);
    for (const e of FLEET_EVENTS) expect(s.listeners.get(e)?.size ?? 0).toBe(0);
  });

  it.each([
    ['a wrong URL', event(mainFrame('file:///tmp/evil.html'))],
    ['a remote page', event(mainFrame('https://evil.example/'))],
    ['a subframe', event({ url: RENDERER_URL, parent: { url: RENDERER_URL } })],
    ['another webContents', event(mainFrame(), WC_ID + 1)],
    ['a destroyed frame', event(null)],
  ])('refuses %s without calling the fleet, and logs no arguments', async (_name, ev) => {
    const s = setup();
    const result = await s.call('answerPrompt', ev, 'prompt-1', ['hunter2-secret'], true);
    expect(result).toEqual({ ok: false, error: { code: 'failed', message: REFUSED_MESSAGE } });
    expect(s.mocks.answerPrompt).not.toHaveBeenCalled();
    expect(s.warn).toHaveBeenCalledTimes(1);
    expect(String(s.warn.mock.calls[0]?.[0])).not.toContain('hunter2');
    expect(String(s.warn.mock.calls[0]?.[0])).toContain(REFUSED_MESSAGE);
  });

  it('refuses everything when our window is gone', async () => {
    const s = setup();
    s.destroy();
    const result = await s.call('listHosts', event(mainFrame()));
    expect(result).toMatchObject({ ok: false, error: { code: 'failed' } });
    expect(s.mocks.listHosts).not.toHaveBeenCalled();
  });

  it('serves a trusted sender: passes the arguments, wraps the value', async () => {
    const s = setup();
    const view = { name: 'gpu1', host: '10.0.0.5' };
    s.mocks.addHost!.mockResolvedValueOnce(view);
    const input = { name: 'gpu1', host: '10.0.0.5' };
    const result = await s.call('addHost', event(mainFrame(`${RENDERER_URL}#/add`)), input);
    expect(result).toEqual({ ok: true, value: view });
    expect(s.mocks.addHost).toHaveBeenCalledWith(input);
    expect(s.warn).not.toHaveBeenCalled();

    const r2 = await s.call('answerPrompt', event(mainFrame()), 'p1', ['secret'], false);
    expect(r2).toEqual({ ok: true, value: undefined });
    expect(s.mocks.answerPrompt).toHaveBeenCalledWith('p1', ['secret'], false);
  });

  it('turns errors into ApiResult, keeping code and field', async () => {
    const s = setup();
    s.mocks.addHost!.mockRejectedValueOnce(new FleetError('invalid-input', 'Port must be 1-65535', 'port'));
    expect(await s.call('addHost', event(mainFrame()), { name: 'x', host: 'y', port: 0 })).toEqual({
      ok: false,
      error: { code: 'invalid-input', message: 'Port must be 1-65535', field: 'port' },
    });
    s.mocks.removeHost!.mockRejectedValueOnce(new FleetError('not-found', 'No host named x'));
    expect(await s.call('removeHost', event(mainFrame()), 'x')).toEqual({
      ok: false,
      error: { code: 'not-found', message: 'No host named x' },
    });
    s.mocks.listHosts!.mockRejectedValueOnce(new Error('boom'));
    expect(await s.call('listHosts', event(mainFrame()))).toEqual({ ok: false, error: { code: 'failed', message: 'boom' } });
  });

  it('forwards every fleet event to our window on its channel, and nothing once the window is gone', () => {
    const s = setup();
    for (const e of FLEET_EVENTS) s.emit(e, { event: e });
    expect(s.sent).toEqual(FLEET_EVENTS.map((e) => ({ channel: ipcEventChannel(e), args: [{ event: e }] })));
    s.destroy();
    s.emit('host-status', { name: 'gpu1' });
    expect(s.sent).toHaveLength(FLEET_EVENTS.length);
  });
});
