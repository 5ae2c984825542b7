/**
 * How the renderer reaches the Fleet core.
 *
 * - In Electron the preload exposes `window.fleet` (contextBridge) and we use it as is.
 * - In the browser harness (e2e tests, `npm run harness`) the page is opened as
 *   `http://127.0.0.1:PORT/#token=TOKEN` and the contract travels over `ws://HOST/ws?token=TOKEN`.
 *
 * Method names and event names come from preload/api.ts only (FLEET_METHODS); nothing is spelled here.
 */
import {
  FLEET_METHODS,
  FleetApiError,
  type ApiResult,
  bridgeFromWire,
  type FleetBridge,
  type FleetWire,
  type FleetEventName,
  type FleetEvents,
  type FleetMethod,
  type HarnessMessage,
  type HarnessRequest,
} from '../../preload/api.js';

/** The part of the DOM WebSocket the harness bridge uses (so tests can inject a fake). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}
export type WebSocketCtor = new (url: string) => WebSocketLike;

export type ConnectionState = 'connecting' | 'open' | 'closed';

/** A FleetBridge that can also say whether its transport is alive (the harness one can die). */
export interface ObservableBridge extends FleetBridge {
  connectionState(): ConnectionState;
  onConnectionChange(listener: (state: ConnectionState) => void): () => void;
}

export const CONNECTION_LOST_MESSAGE =
  'Lost connection to Fleetwake core. Restart Fleetwake (or the harness) and reload this window.';

const WS_OPEN = 1;

type Listener = (payload: never) => void;

/** Build a FleetBridge over the harness WebSocket protocol. */
export function createHarnessBridge(url: string, WebSocketImpl: WebSocketCtor): ObservableBridge {
  let state: ConnectionState = 'connecting';
  let nextId = 1;
  const queue: string[] = [];
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  const listeners = new Map<FleetEventName, Set<Listener>>();
  const connectionListeners = new Set<(s: ConnectionState) => void>();

  const setState = (s: ConnectionState) => {
    if (state === s) return;
    state = s;
    for (const l of [...connectionListeners]) {
      try {
        l(s);
      } catch (err) {
        console.error('fleet bridge: connection listener failed', err);
      }
    }
  };

  const lostError = () => new FleetApiError({ code: 'failed', message: CONNECTION_LOST_MESSAGE });

  let socket: WebSocketLike;
  try {
    socket = new WebSocketImpl(url);
  } catch (err) {
    console.error('fleet bridge: cannot open harness socket', err);
    state = 'closed';
    socket = {
      readyState: 3,
      send() {},
      close() {},
      onopen: null,
      onmessage: null,
      onclose: null,
      onerror: null,
    };
  }

  socket.onopen = () => {
    setState('open');
    for (const data of queue.splice(0)) socket.send(data);
  };
  socket.onerror = () => {
    // A close event always follows; that is where pending calls are rejected.
  };
  socket.onclose = () => {
    queue.length = 0;
    const calls = [...pending.values()];
    pending.clear();
    setState('closed');
    for (const c of calls) c.reject(lostError());
  };
  socket.onmessage = (ev) => {
    let msg: HarnessMessage;
    try {
      msg = JSON.parse(String(ev.data)) as HarnessMessage;
    } catch {
      console.error('fleet bridge: ignoring a message that is not JSON');
      return;
    }
    if (msg.kind === 'result') {
      const call = pending.get(msg.id);
      if (!call) return;
      pending.delete(msg.id);
      const result = msg.result as ApiResult<unknown>;
      if (result.ok) call.resolve(result.value);
      else call.reject(new FleetApiError(result.error));
    } else if (msg.kind === 'event') {
      const set = listeners.get(msg.event);
      if (!set) return;
      for (const l of [...set]) {
        try {
          (l as (p: unknown) => void)(msg.payload);
        } catch (err) {
          console.error(`fleet bridge: listener for ${msg.event} failed`, err);
        }
      }
    }
  };

  const call = (method: FleetMethod, args: unknown[]): Promise<unknown> => {
    if (state === 'closed') return Promise.reject(lostError());
    // JSON turns a trailing `undefined` into `null`; drop them so optional arguments stay absent.
    const trimmed = [...args];
    while (trimmed.length > 0 && trimmed[trimmed.length - 1] === undefined) trimmed.pop();
    const id = nextId++;
    const req: HarnessRequest = { id, method, args: trimmed };
    const data = JSON.stringify(req);
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      if (state === 'open' && socket.readyState === WS_OPEN) socket.send(data);
      else queue.push(data);
    });
  };

  const methods = Object.fromEntries(
    FLEET_METHODS.map((m) => [m, (...args: unknown[]) => call(m, args)]),
  ) as unknown as Omit<FleetBridge, 'on'>;

  return {
    ...methods,
    on<E extends FleetEventName>(event: E, listener: (payload: FleetEvents[E]) => void) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      const l = listener as Listener;
      set.add(l);
      return () => {
        set.delete(l);
      };
    },
    connectionState: () => state,
    onConnectionChange(listener) {
      connectionListeners.add(listener);
      return () => {
        connectionListeners.delete(listener);
      };
    },
  };
}

/** Read the harness token from `#token=...` (or `?token=...`). */
export function harnessToken(loc: { hash: string; search?: string }): string | null {
  const fromHash = new URLSearchParams(loc.hash.replace(/^#/, '')).get('token');
  if (fromHash) return fromHash;
  return loc.search ? new URLSearchParams(loc.search).get('token') : null;
}

export function harnessSocketUrl(loc: { host: string; hash: string; search?: string }): string {
  const token = harnessToken(loc) ?? '';
  return `ws://${loc.host}/ws?token=${encodeURIComponent(token)}`;
}

export interface BridgeOptions {
  /** The preload's wire object; defaults to `window.fleet`. Pass `null` to force the harness. */
  preload?: FleetWire | null;
  /** Defaults to the global WebSocket. */
  WebSocketImpl?: WebSocketCtor;
  /** Defaults to `window.location`. */
  location?: { host: string; hash: string; search?: string };
}

let cached: FleetBridge | undefined;

/**
 * The bridge this page talks through: the Electron preload's `window.fleet` when present, otherwise
 * the harness WebSocket. Without options the result is cached for the page's lifetime.
 */
export function getBridge(options?: BridgeOptions): FleetBridge {
  if (!options && cached) return cached;
  const preload =
    options?.preload !== undefined
      ? options.preload
      : typeof window !== 'undefined'
        ? (window as Partial<Window>).fleet
        : undefined;
  let bridge: FleetBridge;
  if (preload) {
    bridge = bridgeFromWire(preload);
  } else {
    const loc = options?.location ?? window.location;
    const Impl = options?.WebSocketImpl ?? (globalThis.WebSocket as unknown as WebSocketCtor | undefined);
    if (!Impl) throw new Error('No window.fleet and no WebSocket: cannot reach the Fleetwake core.');
    bridge = createHarnessBridge(harnessSocketUrl(loc), Impl);
  }
  if (!options) cached = bridge;
  return bridge;
}

export function isObservableBridge(b: FleetBridge): b is ObservableBridge {
  return typeof (b as Partial<ObservableBridge>).onConnectionChange === 'function';
}
