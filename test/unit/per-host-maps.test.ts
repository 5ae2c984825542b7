/**
 * Issue 10, item 7: per-host data kept in plain objects keyed by host name read and wrote
 * Object.prototype members for names like `toString` or `__proto__`. Validation refuses such names now,
 * but data read from disk (wake-state.json) or handed in (energy input) must not reach prototypes either.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SleepPeriod } from '../../preload/api.js';
import { computeEnergy } from '../../main/sleep/energy/index.js';
import { WakeState } from '../../main/sleep/wake/wake-state.js';

const H = 3_600_000;
const T0 = Date.UTC(2026, 0, 1);
const P = (a: number, b: number | null): SleepPeriod => ({ suspendedAt: T0 + a * H, resumedAt: b === null ? null : T0 + b * H, reason: 'idle', wolArmed: null, wolMessage: '' });
const prefs = { baselineWatts: 205, sleepWatts: 5, pricePerKwh: null, currency: 'EUR' };

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetwake-maps-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  for (const k of ['asleep', 'net', 'adoptedMac']) {
    delete (Object.prototype as Record<string, unknown>)[k];
    delete (Function.prototype as unknown as Record<string, unknown>)[k];
    delete (Object.prototype.toString as unknown as Record<string, unknown>)[k];
  }
});

const clean = () => {
  for (const k of ['asleep', 'net', 'adoptedMac']) {
    expect(k in {}, `Object.prototype.${k}`).toBe(false);
    expect(Object.hasOwn(Object.prototype.toString, k), `Object.prototype.toString.${k}`).toBe(false);
    expect(Object.hasOwn(Object, k), `Object.${k}`).toBe(false);
  }
};

describe('wake-state.json read from disk', () => {
  const crafted = {
    version: 1,
    hosts: {
      __proto__: { asleep: { at: 5, reason: 'idle' } },
      constructor: { asleep: { at: 6, reason: 'manual' }, adoptedMac: '52:54:00:00:00:66' },
      gpu1: { asleep: { at: 7, reason: 'idle' } },
    },
  };

  it('ignores entries under reserved names and pollutes nothing, reading or writing', () => {
    const file = path.join(dir, 'wake-state.json');
    // JSON.stringify of an object literal drops __proto__; write the text as an attacker would.
    fs.writeFileSync(file, JSON.stringify(crafted).replace('{"constructor"', '{"__proto__":{"asleep":{"at":5,"reason":"idle"}},"constructor"'));
    expect(fs.readFileSync(file, 'utf8')).toContain('"__proto__"');
    const ws = new WakeState(file);
    expect(ws.asleep('gpu1')).toEqual({ at: 7, reason: 'idle' });
    expect(ws.asleep('gpu2')).toBeNull();
    expect(ws.asleep('__proto__')).toBeNull();
    expect(ws.asleep('constructor')).toBeNull();
    expect(ws.adoptedMac('constructor')).toBeNull();
    expect(ws.asleep('toString')).toBeNull();
    // Writing under any name touches only that entry.
    for (const name of ['toString', 'hasOwnProperty', 'constructor', '__proto__']) ws.setAsleep(name, { at: 9, reason: 'manual' });
    ws.setAsleep('gpu2', { at: 8, reason: 'idle' });
    clean();
    expect(ws.asleep('gpu3')).toBeNull();
    const again = new WakeState(file);
    expect(again.asleep('gpu2')).toEqual({ at: 8, reason: 'idle' });
    expect(again.asleep('gpu3')).toBeNull();
    ws.forget('toString');
    ws.rename('gpu1', 'gpu9');
    clean();
    expect(new WakeState(file).asleep('gpu9')).toEqual({ at: 7, reason: 'idle' });
  });

  it('in memory too: a name such as toString or __proto__ is an entry like any other', () => {
    const ws = new WakeState(null);
    ws.setAsleep('toString', { at: 1, reason: 'idle' });
    ws.setAdoptedMac('__proto__', '52:54:00:00:00:01');
    clean();
    expect(ws.asleep('gpu1')).toBeNull();
    expect(ws.adoptedMac('gpu1')).toBeNull();
    expect(ws.asleep('toString')).toEqual({ at: 1, reason: 'idle' });
  });
});

describe('computeEnergy input', () => {
  it('reads per-host values only from own keys (a JSON __proto__ key, names of Object members)', () => {
    const periods = JSON.parse(`{"__proto__": [{"suspendedAt": ${T0}, "resumedAt": ${T0 + 5 * H}, "reason": "idle"}], "a": [{"suspendedAt": ${T0}, "resumedAt": ${T0 + H}, "reason": "idle"}]}`) as Record<string, SleepPeriod[]>;
    const r = computeEnergy({ periods, since: T0, until: T0 + 24 * H, prefs, hosts: ['a', 'toString', 'constructor', 'b'], measuredIdleWatts: JSON.parse('{"__proto__": 900}') });
    expect(r.hosts.map((h) => [h.name, h.hoursAsleep, h.wattsUsed])).toEqual([
      ['a', 1, 205],
      ['toString', 0, 205],
      ['constructor', 0, 205],
      ['b', 0, 205],
    ]);
    clean();
  });

  it('takes Maps', () => {
    const r = computeEnergy({ periods: new Map([['a', [P(0, 2)]]]), since: T0, until: T0 + 24 * H, prefs, measuredIdleWatts: new Map([['a', 405]]) });
    expect(r.hosts).toEqual([{ name: 'a', hoursAsleep: 2, hoursAwake: 22, wattsUsed: 405, measured: true, kwhSaved: 0.8, moneySaved: null }]);
  });
});
