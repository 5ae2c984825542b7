/**
 * Sandboxed preload: exposes exactly `window.fleet` (FleetWire), built from contract 1.
 * Bundled to one CommonJS file that requires only 'electron' (scripts/build.mjs).
 *
 * The page never gets ipcRenderer, an IpcRendererEvent, or any channel other than those derived from
 * FLEET_METHODS / FLEET_EVENTS.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import {
  FLEET_EVENTS,
  FLEET_METHODS,
  ipcEventChannel,
  ipcInvokeChannel,
  type ApiResult,
  type FleetBridge,
  type FleetWire,
  type FleetEventName,
  type FleetEvents,
  type FleetMethod,
} from './api.js';

function invoker(method: FleetMethod) {
  const channel = ipcInvokeChannel(method);
  // Results stay ApiResult data: contextBridge would strip code/field from a thrown Error.
  return (...args: unknown[]): Promise<ApiResult<unknown>> => ipcRenderer.invoke(channel, ...args) as Promise<ApiResult<unknown>>;
}

const methods = Object.fromEntries(FLEET_METHODS.map((m) => [m, invoker(m)])) as unknown as Omit<FleetWire, 'on'>;

const knownEvents: ReadonlySet<string> = new Set(FLEET_EVENTS);

function on<E extends FleetEventName>(event: E, listener: (payload: FleetEvents[E]) => void): () => void {
  if (typeof event !== 'string' || !knownEvents.has(event)) throw new TypeError(`Unknown Fleet event: ${String(event)}`);
  if (typeof listener !== 'function') throw new TypeError('listener must be a function');
  const channel = ipcEventChannel(event);
  const wrapped = (_event: IpcRendererEvent, payload: FleetEvents[E]) => listener(payload);
  ipcRenderer.on(channel, wrapped);
  let subscribed = true;
  return () => {
    if (!subscribed) return;
    subscribed = false;
    ipcRenderer.removeListener(channel, wrapped);
  };
}

const fleet = { ...methods, on: on as FleetBridge['on'] } satisfies FleetWire;

contextBridge.exposeInMainWorld('fleet', fleet);
