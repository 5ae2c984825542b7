import { describe, expect, it } from 'vitest';
import { FLEET_METHODS, FleetApiError, type FleetWire, type HarnessMessage, type HarnessRequest, type HostStatus } from '../../preload/api.js';
import {
  CONNECTION_LOST_MESSAGE,
  createHarnessBridge,
  getBridge,
  harnessSocketUrl,
  isObservableBridge,
  type WebSocketLike,
} from '../../renderer/bridge/index.js';

/** A WebSocket double: records what the bridge sends; the test opens, answers and closes it. */
class FakeSocket implements WebSocketLike {
  static last: FakeSocket | undefined;
  readyState = 0;
  sent: HarnessRequest[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: unknown) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.last = this;
  }
  send(data: string) {
    if (this.readyState !== 1) throw new Error('send before open');
    this.sent.push(JSON.parse(data) as HarnessRequest);
  }
  close() {
    this.serverClose();
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  deliver(msg: HarnessMessage) {
    this.onmessage?.({ data: JSON.stringify(msg) });
  }
  serverClose() {
    this.readyState = 3;
    this.onclose?.({});
  }
}

const loc = { host: '127.0.0.1:4567', hash: '#token=s3cr%2Bt', search: '' };

function setup() {
  const bridge = getBridge({ preload: null, WebSocketImpl: FakeSocket, location: loc });
  const socket = FakeSocket.last!;
  return { bridge, socket };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

describe('renderer harness bridge', () => {
  it('uses window.fleet when the preload provides it, keeping error code and field', async () => {
    const on = () => () => {};
    const wire = {
      on,
      listHosts: async () => ({ ok: true, value: [] }),
      addHost: async () => ({ ok: false, error: { code: 'invalid-input', message: 'Port must be 1-65535.', field: 'port' } }),
    } as unknown as FleetWire;
    const before = FakeSocket.last;
    const bridge = getBridge({ preload: wire, WebSocketImpl: FakeSocket, location: loc });
    expect(FakeSocket.last).toBe(before);
    expect(await bridge.listHosts()).toEqual([]);
    const err = await bridge.addHost({ name: 'x', host: 'y', port: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FleetApiError);
    expect(err).toMatchObject({ code: 'invalid-input', field: 'port', message: 'Port must be 1-65535.' });
  });

  it('builds the socket URL from the page token', () => {
    expect(harnessSocketUrl(loc)).toBe('ws://127.0.0.1:4567/ws?token=s3cr%2Bt');
    const { socket } = setup();
    expect(socket.url).toBe('ws://127.0.0.1:4567/ws?token=s3cr%2Bt');
  });

  it('exposes every FleetApi method, generically', () => {
    const { bridge } = setup();
    for (const m of FLEET_METHODS) expect(typeof bridge[m]).toBe('function');
    expect(typeof bridge.on).toBe('function');
    expect(isObservableBridge(bridge)).toBe(true);
  });

  it('queues calls made before the socket opens and sends them in order on open', async () => {
    const { bridge, socket } = setup();
    const a = bridge.listHosts();
    const b = bridge.connectHost('gpu-a');
    const c = bridge.previewSshConfigImport(undefined);
    expect(socket.sent).toHaveLength(0);
    socket.open();
    expect(socket.sent.map((r) => r.method)).toEqual(['listHosts', 'connectHost', 'previewSshConfigImport']);
    expect(socket.sent[1]!.args).toEqual(['gpu-a']);
    // A trailing undefined is dropped, not sent as null.
    expect(socket.sent[2]!.args).toEqual([]);
    const ids = socket.sent.map((r) => r.id);
    expect(new Set(ids).size).toBe(3);

    const st: HostStatus = { name: 'gpu-a', state: 'connecting', since: 1 };
    // Results may come back in any order; they are matched by id.
    socket.deliver({ kind: 'result', id: ids[1]!, result: { ok: true, value: st } });
    socket.deliver({ kind: 'result', id: ids[0]!, result: { ok: true, value: [] } });
    socket.deliver({ kind: 'result', id: ids[2]!, result: { ok: true, value: { file: 'x', candidates: [], warnings: [] } } });
    await expect(a).resolves.toEqual([]);
    await expect(b).resolves.toEqual(st);
    await expect(c).resolves.toMatchObject({ file: 'x' });
  });

  it('sends at once when already open', () => {
    const { bridge, socket } = setup();
    socket.open();
    void bridge.removeHost('x');
    expect(socket.sent).toHaveLength(1);
    expect(socket.sent[0]).toMatchObject({ method: 'removeHost', args: ['x'] });
  });

  it('maps an error result to FleetApiError with code and field', async () => {
    const { bridge, socket } = setup();
    socket.open();
    const p = bridge.addHost({ name: 'a', host: 'h', port: '99999' });
    const id = socket.sent[0]!.id;
    socket.deliver({
      kind: 'result',
      id,
      result: { ok: false, error: { code: 'invalid-input', message: 'Port must be 1-65535.', field: 'port' } },
    });
    const err = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FleetApiError);
    expect(err).toMatchObject({ code: 'invalid-input', field: 'port', message: 'Port must be 1-65535.' });
  });

  it('an error without a field has no field', async () => {
    const { bridge, socket } = setup();
    socket.open();
    const p = bridge.getAppInfo();
    socket.deliver({ kind: 'result', id: socket.sent[0]!.id, result: { ok: false, error: { code: 'failed', message: 'boom' } } });
    const err = (await p.catch((e: unknown) => e)) as FleetApiError;
    expect(err).toBeInstanceOf(FleetApiError);
    expect(err.code).toBe('failed');
    expect(err.field).toBeUndefined();
  });

  it('dispatches events to listeners of that event only, and unsubscribes', () => {
    const { bridge, socket } = setup();
    socket.open();
    const statuses: HostStatus[] = [];
    const closed: string[] = [];
    const off = bridge.on('host-status', (s) => statuses.push(s));
    bridge.on('prompt-closed', (p) => closed.push(p.id));
    const throwing = bridge.on('host-status', () => {
      throw new Error('listener bug');
    });
    const origError = console.error;
    console.error = () => {};
    try {
      socket.deliver({ kind: 'event', event: 'host-status', payload: { name: 'a', state: 'online', since: 2 } });
      socket.deliver({ kind: 'event', event: 'prompt-closed', payload: { id: 'p1' } });
      socket.deliver({ kind: 'event', event: 'prompt', payload: { id: 'p2' } }); // no listener: ignored
    } finally {
      console.error = origError;
    }
    expect(statuses).toEqual([{ name: 'a', state: 'online', since: 2 }]);
    expect(closed).toEqual(['p1']);
    off();
    throwing();
    socket.deliver({ kind: 'event', event: 'host-status', payload: { name: 'a', state: 'offline', since: 3 } });
    expect(statuses).toHaveLength(1);
  });

  it('ignores garbage and results for unknown ids', async () => {
    const { bridge, socket } = setup();
    socket.open();
    const origError = console.error;
    console.error = () => {};
    try {
      socket.onmessage?.({ data: 'not json' });
    } finally {
      console.error = origError;
    }
    socket.deliver({ kind: 'result', id: 9999, result: { ok: true, value: 1 } });
    const p = bridge.listHosts();
    socket.deliver({ kind: 'result', id: socket.sent[0]!.id, result: { ok: true, value: [] } });
    await expect(p).resolves.toEqual([]);
  });

  it('on close: pending and queued calls reject with a clear error, later calls too, state becomes closed', async () => {
    const { bridge, socket } = setup();
    if (!isObservableBridge(bridge)) throw new Error('expected an observable bridge');
    const states: string[] = [];
    bridge.onConnectionChange((s) => states.push(s));
    expect(bridge.connectionState()).toBe('connecting');
    socket.open();
    const inFlight = bridge.listHosts().catch((e: unknown) => e);
    socket.serverClose();
    await flush();
    const e1 = (await inFlight) as FleetApiError;
    expect(e1).toBeInstanceOf(FleetApiError);
    expect(e1.message).toBe(CONNECTION_LOST_MESSAGE);
    expect(e1.message).toMatch(/Lost connection to Fleetwake core/);
    await expect(bridge.getStatuses()).rejects.toThrow(/Lost connection to Fleetwake core/);
    expect(states).toEqual(['open', 'closed']);
    expect(bridge.connectionState()).toBe('closed');
  });

  it('a socket that never opens rejects the queued calls when it closes', async () => {
    const { bridge, socket } = setup();
    const queued = bridge.getAppInfo().catch((e: unknown) => e);
    socket.onerror?.({});
    socket.serverClose();
    expect(await queued).toBeInstanceOf(FleetApiError);
    expect(socket.sent).toHaveLength(0);
  });

  it('a WebSocket constructor that throws gives a closed bridge, not a crash', async () => {
    class Broken {
      constructor() {
        throw new Error('blocked');
      }
    }
    const origError = console.error;
    console.error = () => {};
    try {
      const bridge = getBridge({ preload: null, WebSocketImpl: Broken as never, location: loc });
      await expect(bridge.listHosts()).rejects.toThrow(/Lost connection/);
    } finally {
      console.error = origError;
    }
  });

  it('createHarnessBridge works with an explicit URL', () => {
    createHarnessBridge('ws://127.0.0.1:1/ws?token=t', FakeSocket);
    expect(FakeSocket.last!.url).toBe('ws://127.0.0.1:1/ws?token=t');
  });
});
