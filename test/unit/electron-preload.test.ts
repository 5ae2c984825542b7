// Builds preload/preload.ts exactly as scripts/build.mjs does and runs the bundle against a fake
// 'electron' module: proves it requires only 'electron' and exposes exactly window.fleet.
import { EventEmitter } from 'node:events';
import path from 'node:path';
import vm from 'node:vm';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { FLEET_EVENTS, FLEET_METHODS, FleetApiError, bridgeFromWire, ipcEventChannel, ipcInvokeChannel, type FleetBridge } from '../../preload/api.js';

let code = '';

beforeAll(async () => {
  const out = await build({
    entryPoints: [path.resolve(__dirname, '../../preload/preload.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['electron'],
    write: false,
    logLevel: 'silent',
  });
  code = out.outputFiles[0]!.text;
});

function load() {
  const exposed = new Map<string, unknown>();
  const renderer = new EventEmitter();
  const invoke = vi.fn(async (_channel: string, ..._args: unknown[]): Promise<unknown> => ({ ok: true, value: null }));
  const required: string[] = [];
  const electron = {
    contextBridge: { exposeInMainWorld: (key: string, api: unknown) => exposed.set(key, api) },
    ipcRenderer: {
      invoke,
      on: (ch: string, l: (...a: unknown[]) => void) => renderer.on(ch, l),
      removeListener: (ch: string, l: (...a: unknown[]) => void) => renderer.removeListener(ch, l),
    },
  };
  const requireFn = (id: string) => {
    required.push(id);
    if (id === 'electron') return electron;
    throw new Error(`sandboxed preload may not require ${id}`);
  };
  const module = { exports: {} };
  vm.runInNewContext(code, { require: requireFn, module, exports: module.exports, console });
  return { exposed, renderer, invoke, required, fleet: exposed.get('fleet') as FleetBridge };
}

describe('preload bundle', () => {
  it('requires only electron and exposes exactly one object, window.fleet', () => {
    const { exposed, required, fleet } = load();
    expect(required).toEqual(['electron']);
    expect([...exposed.keys()]).toEqual(['fleet']);
    expect(Object.keys(fleet).sort()).toEqual([...FLEET_METHODS, 'on'].sort());
    expect(code).not.toMatch(/require\((?!"electron"\))/);
  });

  it('invokes the method channel and hands the ApiResult through as data', async () => {
    const { fleet, invoke } = load();
    invoke.mockResolvedValueOnce({ ok: true, value: [{ name: 'gpu1' }] });
    await expect(fleet.listHosts()).resolves.toEqual({ ok: true, value: [{ name: 'gpu1' }] });
    expect(invoke).toHaveBeenLastCalledWith(ipcInvokeChannel('listHosts'));

    invoke.mockResolvedValueOnce({ ok: true, value: undefined });
    await fleet.answerPrompt('p1', ['x'], true);
    expect(invoke).toHaveBeenLastCalledWith(ipcInvokeChannel('answerPrompt'), 'p1', ['x'], true);
  });

  it('keeps code and field of a failure: errors cross contextBridge as data, unwrapped in the page', async () => {
    const { fleet, invoke } = load();
    invoke.mockResolvedValueOnce({ ok: false, error: { code: 'invalid-input', message: 'Bad port', field: 'port' } });
    const wire = await fleet.addHost({ name: 'a', host: 'b' });
    expect(wire).toEqual({ ok: false, error: { code: 'invalid-input', message: 'Bad port', field: 'port' } });
    invoke.mockResolvedValueOnce({ ok: false, error: { code: 'invalid-input', message: 'Bad port', field: 'port' } });
    const err = await bridgeFromWire(fleet as never).addHost({ name: 'a', host: 'b' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FleetApiError);
    expect(err).toMatchObject({ message: 'Bad port', code: 'invalid-input', field: 'port' });
  });

  it('on(): only FLEET_EVENTS, hands over the payload only, and unsubscribes', () => {
    const { fleet, renderer } = load();
    expect(() => fleet.on('not-an-event' as never, () => {})).toThrow(/Unknown Fleet event/);
    expect(() => fleet.on('__proto__' as never, () => {})).toThrow(/Unknown Fleet event/);
    for (const e of FLEET_EVENTS) {
      const seen: unknown[][] = [];
      const off = fleet.on(e, (...args: unknown[]) => void seen.push(args));
      renderer.emit(ipcEventChannel(e), { sender: 'IpcRendererEvent' }, { payload: e });
      expect(seen).toEqual([[{ payload: e }]]);
      off();
      off();
      renderer.emit(ipcEventChannel(e), {}, { payload: 'late' });
      expect(seen).toHaveLength(1);
      expect(renderer.listenerCount(ipcEventChannel(e))).toBe(0);
    }
  });
});
