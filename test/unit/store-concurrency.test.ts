/**
 * Issue 10, item 6: the CLI and the desktop app on one data folder undid each other's changes (879
 * successful addHost calls in 4 s left 219 hosts). Two real processes hammer addHost-style changes on
 * one folder; every change must survive. Also the lock's own rules: stale takeover, a clear error when
 * it stays held, and update()'s all-or-nothing behaviour.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FleetError } from '../../main/core/errors.js';
import { fleetStoreLockPath, openFleetStore } from '../../main/store/fleet-store.js';
import type { FleetData } from '../../main/store/types.js';
import { hostRecord } from '../support/builders.js';
import { AWAIT_START, raceProcesses, repoModule } from '../support/process-race.js';

const host = (name: string) => hostRecord(name, { host: '10.0.0.1', user: 'ops' });

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetwake-store-race-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * One process adding `count` hosts, one call at a time, the way Fleet.addHost does: with store.update
 * when the store has it, else the read-then-write the core did before (which is what lost hosts).
 */
const HAMMER = `
import fs from 'node:fs';
import { openFleetStore } from ${repoModule('main', 'store', 'fleet-store.ts')};
const [dir, prefix, count] = process.argv.slice(2);
const store = openFleetStore(dir);
const host = (name) => ({ name, host: '10.0.0.1', port: 22, user: 'ops', identityFile: null, passwordEnv: null, jump: null, mac: null, wolAddress: null, wolPort: null, knownHostsFiles: [] });
const addHost = typeof store.update === 'function'
  ? (h) => store.update((data) => ({ ...data, hosts: [...data.hosts, h] }))
  : (h) => { const data = store.read(); store.write({ ...data, hosts: [...data.hosts, h] }); };
${AWAIT_START}
let ok = 0;
for (let i = 0; i < Number(count); i++) {
  addHost(host(prefix + '-' + i));
  ok++;
}
process.stdout.write(String(ok));
`;

describe('two processes on one data folder', () => {
  it('lose no host when both add hosts as fast as they can', async () => {
    const data = path.join(dir, 'data');
    const perProcess = 250;
    const [a, b] = (await raceProcesses(dir, HAMMER, [
      [data, 'cli', String(perProcess)],
      [data, 'app', String(perProcess)],
    ])) as [Awaited<ReturnType<typeof raceProcesses>>[number], Awaited<ReturnType<typeof raceProcesses>>[number]];
    expect(a.stderr).toBe('');
    expect(b.stderr).toBe('');
    expect([a.code, b.code]).toEqual([0, 0]);
    const succeeded = Number(a.stdout) + Number(b.stdout);
    expect(succeeded).toBe(2 * perProcess);
    const names = openFleetStore(data).read().hosts.map((h) => h.name);
    expect(names.length).toBe(succeeded);
    expect(new Set(names).size).toBe(succeeded);
    expect(fs.existsSync(fleetStoreLockPath(data))).toBe(false);
  }, 120_000);
});

describe('store.update', () => {
  it('reads fresh data under the lock, saves what the change returns, and releases the lock', () => {
    const first = openFleetStore(dir);
    const second = openFleetStore(dir);
    first.update((d) => ({ ...d, hosts: [...d.hosts, host('a')] }));
    const saved = second.update((d) => ({ ...d, hosts: [...d.hosts, host('b')] }));
    expect(saved.hosts.map((h) => h.name)).toEqual(['a', 'b']);
    expect(first.read().hosts.map((h) => h.name)).toEqual(['a', 'b']);
    expect(fs.existsSync(fleetStoreLockPath(dir))).toBe(false);
  });

  it('saves nothing when the change throws or returns invalid data, and releases the lock', () => {
    const store = openFleetStore(dir);
    store.update((d) => ({ ...d, hosts: [host('a')] }));
    const before = fs.readFileSync(store.path);
    expect(() =>
      store.update(() => {
        throw new Error('changed my mind');
      }),
    ).toThrow('changed my mind');
    expect(() => store.update((d) => ({ ...d, hosts: [...d.hosts, host('A')] }))).toThrow(expect.objectContaining({ code: 'invalid-input', field: 'hosts[1].name' }));
    expect(() => store.update(() => undefined as unknown as FleetData)).toThrow(/must return the new FleetData/);
    expect(fs.readFileSync(store.path).equals(before)).toBe(true);
    expect(fs.existsSync(fleetStoreLockPath(dir))).toBe(false);
  });

  it('refuses write() or update() from inside a change function instead of deadlocking', () => {
    const store = openFleetStore(dir);
    expect(() => store.update((d) => (store.write(d), d))).toThrow(/inside an update\(\) change function/);
    expect(() => store.update((d) => (store.update((x) => x), d))).toThrow(/inside an update\(\) change function/);
    expect(store.update((d) => ({ ...d, hosts: [host('ok')] })).hosts).toHaveLength(1);
  });
});

describe('the lock file', () => {
  const deadPid = (): number => {
    const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    return Number(r.stdout.toString());
  };

  it('is taken over when its holder died (a crashed CLI), without losing the change', () => {
    const store = openFleetStore(dir);
    fs.writeFileSync(fleetStoreLockPath(dir), JSON.stringify({ pid: deadPid(), hostname: os.hostname(), token: 'dead', createdAt: new Date().toISOString() }));
    store.update((d) => ({ ...d, hosts: [host('after-crash')] }));
    expect(openFleetStore(dir).read().hosts.map((h) => h.name)).toEqual(['after-crash']);
    expect(fs.existsSync(fleetStoreLockPath(dir))).toBe(false);
  });

  it('is taken over when it is older than the stale limit, whoever holds it', () => {
    const store = openFleetStore(dir, undefined, { staleMs: 1000 });
    const lock = fleetStoreLockPath(dir);
    fs.writeFileSync(lock, JSON.stringify({ pid: 1, hostname: 'another-laptop', token: 'old', createdAt: '2026-01-01T00:00:00.000Z' }));
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(lock, old, old);
    store.write({ ...store.read(), hosts: [host('x')] });
    expect(store.read().hosts).toHaveLength(1);
  });

  it('held by a live process: waits, then fails with who holds it and how to fix it, changing nothing', () => {
    const store = openFleetStore(dir, undefined, { timeoutMs: 300 });
    store.update((d) => ({ ...d, hosts: [host('kept')] }));
    const before = fs.readFileSync(store.path);
    const lock = fleetStoreLockPath(dir);
    // process.ppid: alive, and not us.
    fs.writeFileSync(lock, JSON.stringify({ pid: process.ppid, hostname: os.hostname(), token: 'live', createdAt: '2026-12-02T02:00:00.000Z' }));
    const started = Date.now();
    let error: unknown;
    try {
      store.update((d) => ({ ...d, hosts: [] }));
    } catch (err) {
      error = err;
    }
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(error).toBeInstanceOf(FleetError);
    expect((error as Error).message).toContain(`is locked by another Fleetwake (process ${process.ppid} on this computer, since 2026-12-02T02:00:00.000Z)`);
    expect((error as Error).message).toContain(`if no other Fleetwake is running, delete ${lock}`);
    expect(fs.readFileSync(store.path).equals(before)).toBe(true);
    expect(JSON.parse(fs.readFileSync(lock, 'utf8')).token).toBe('live');
  });
});
