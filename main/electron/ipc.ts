/**
 * Binds contract 1 (preload/api.ts) to Electron IPC. Thin: check the sender, call the Fleet core,
 * wrap the result. No logic of its own.
 *
 * Electron objects are injected (structural types below) so the unit tests run it in plain Node.
 */
import {
  FLEET_EVENTS,
  FLEET_METHODS,
  ipcEventChannel,
  ipcInvokeChannel,
  type ApiResult,
  type FleetEventName,
  type FleetEvents,
} from '../../preload/api.js';
import { invokeFleetMethod } from '../core/dispatch.js';
import type { Fleet } from '../fleet.js';

/** What the handler needs from an IpcMainInvokeEvent. */
export interface InvokeEventLike {
  sender: { id: number };
  senderFrame: { url: string; parent: unknown } | null;
}

/** The part of Electron's ipcMain we use. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: InvokeEventLike, ...args: unknown[]) => unknown): void;
  removeHandler(channel: string): void;
}

/** The part of a BrowserWindow we use. */
export interface WindowLike {
  isDestroyed(): boolean;
  webContents: { id: number; isDestroyed(): boolean; send(channel: string, ...args: unknown[]): void };
}

export interface SenderInfo {
  frameUrl: string | null;
  isMainFrame: boolean;
  webContentsId: number;
}

export interface TrustedRenderer {
  /** file:// URL of out/renderer/index.html */
  url: string;
  webContentsId: number;
}

export interface IpcLog {
  warn(message: string): void;
}

export const REFUSED_MESSAGE = 'Refused: IPC from an untrusted frame';

function sameDocument(a: string, b: string): boolean {
  let ua: URL;
  let ub: URL;
  try {
    ua = new URL(a);
    ub = new URL(b);
  } catch {
    return false;
  }
  // Query and fragment may change (in-page routing); the document itself may not.
  return ua.protocol === ub.protocol && ua.host === ub.host && ua.pathname === ub.pathname && ua.username === '' && ua.password === '';
}

/** Only the main frame of our own window, showing our own renderer, may call the Fleet. */
export function isTrustedSender(sender: SenderInfo, trusted: TrustedRenderer): boolean {
  if (!sender.isMainFrame) return false;
  if (sender.webContentsId !== trusted.webContentsId) return false;
  if (typeof sender.frameUrl !== 'string' || sender.frameUrl === '') return false;
  return sameDocument(sender.frameUrl, trusted.url);
}

export function senderInfo(event: InvokeEventLike): SenderInfo {
  const frame = event.senderFrame;
  return {
    frameUrl: frame ? frame.url : null,
    isMainFrame: frame !== null && frame.parent === null,
    webContentsId: event.sender.id,
  };
}

export interface BindFleetIpcOptions {
  ipcMain: IpcMainLike;
  fleet: Fleet;
  /** The window whose renderer may use the Fleet; null while there is none (e.g. hidden to tray and destroyed). */
  getWindow: () => WindowLike | null;
  /** file:// URL of the renderer's index.html. */
  rendererUrl: string;
  log?: IpcLog;
}

/** Registers one handler per FLEET_METHODS entry and forwards FLEET_EVENTS. Returns an unbind function. */
export function bindFleetIpc(opts: BindFleetIpcOptions): () => void {
  const { ipcMain, fleet, getWindow, rendererUrl } = opts;
  const log = opts.log ?? console;
  const refused: ApiResult<never> = { ok: false, error: { code: 'failed', message: REFUSED_MESSAGE } };

  const trustedWebContentsId = (): number | null => {
    const win = getWindow();
    if (!win || win.isDestroyed() || win.webContents.isDestroyed()) return null;
    return win.webContents.id;
  };

  for (const method of FLEET_METHODS) {
    const channel = ipcInvokeChannel(method);
    ipcMain.handle(channel, async (event, ...args): Promise<ApiResult<unknown>> => {
      const info = senderInfo(event);
      const wcId = trustedWebContentsId();
      if (wcId === null || !isTrustedSender(info, { url: rendererUrl, webContentsId: wcId })) {
        // Never log the arguments: they may hold passwords or passphrases.
        const where = info.frameUrl === null ? '(no frame)' : info.frameUrl.slice(0, 200);
        log.warn(
          `${REFUSED_MESSAGE}: ${channel} from webContents ${info.webContentsId}, ` +
            `${info.isMainFrame ? 'main frame' : 'subframe'} ${where}`,
        );
        return refused;
      }
      return invokeFleetMethod(fleet, method, args);
    });
  }

  const unsubscribers = FLEET_EVENTS.map((event) => forwardEvent(fleet, event, getWindow));

  return () => {
    for (const method of FLEET_METHODS) ipcMain.removeHandler(ipcInvokeChannel(method));
    for (const off of unsubscribers) off();
  };
}

function forwardEvent<E extends FleetEventName>(fleet: Fleet, event: E, getWindow: () => WindowLike | null): () => void {
  const channel = ipcEventChannel(event);
  return fleet.on(event, (payload: FleetEvents[E]) => {
    const win = getWindow();
    if (!win || win.isDestroyed() || win.webContents.isDestroyed()) return;
    win.webContents.send(channel, payload);
  });
}
