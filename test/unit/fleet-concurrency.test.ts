/**
 * Issue 10, item 6: the CLI and the desktop app on one data folder undid each other's changes. Two real
 * processes call the real createFleet(...).addHost (and WakeState's setters) on one folder; nothing may
 * be lost, and a name taken by the other process is refused against the data on disk now.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openFleetStore } from '../../main/store/fleet-store.js';
import { WakeState } from '../../main/sleep/wake/wake-state.js';
import { AWAIT_START, raceProcesses, repoModule as mod } from '../support/process-race.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetwake-fleet-race-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const ADD_HOSTS = `
import fs from 'node:fs';
import { createFleet } from ${mod('main', 'fleet.ts')};
import { MemorySecretStore } from ${mod('main', 'secrets', 'memory.ts')};
import { openFleetStore } from ${mod('main', 'store', 'fleet-store.ts')};
const [dir, prefix, count] = process.argv.slice(2);
const fleet = createFleet({ store: openFleetStore(dir), secrets: new MemorySecretStore(), appVersion: '0.0.0-test', homeDir: dir, agentSocket: '', env: {}, wake: { statePath: null } });
${AWAIT_START}
let ok = 0;
let refused = 0;
for (let i = 0; i < Number(count); i++) {
  await fleet.addHost({ name: prefix + '-' + i, host: '10.0.0.1', user: 'ops' });
  ok++;
  // Both processes try this one name: exactly one may get it.
  if (i === 10) await fleet.addHost({ name: 'shared', host: '10.0.0.2' }).then(() => ok++, (e) => { if (e.code === 'conflict' || e.code === 'invalid-input') refused++; else throw e; });
}
await fleet.close();
process.stdout.write(JSON.stringify({ ok, refused }));
`;

const WAKE_STATE = `
import fs from 'node:fs';
import { WakeState } from ${mod('main', 'sleep', 'wake', 'wake-state.ts')};
const [file, prefix, count] = process.argv.slice(2);
const ws = new WakeState(file);
${AWAIT_START}
for (let i = 0; i < Number(count); i++) {
  ws.setAsleep(prefix + '-' + i, { at: i + 1, reason: 'idle' });
  ws.setAdoptedMac(prefix + '-' + i, '52:54:00:00:00:01');
}
process.stdout.write(String(count));
`;

async function race(source: string, target: string, perProcess: number) {
  const results = await raceProcesses(dir, source, [
    [target, 'cli', String(perProcess)],
    [target, 'app', String(perProcess)],
  ]);
  for (const r of results) {
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  }
  return results.map((r) => JSON.parse(r.stdout) as unknown);
}

describe('two processes on one data folder', () => {
  it('lose no host when both call createFleet(...).addHost as fast as they can', async () => {
    const data = path.join(dir, 'data');
    const perProcess = 150;
    const [a, b] = (await race(ADD_HOSTS, data, perProcess)) as { ok: number; refused: number }[];
    expect(a!.refused + b!.refused).toBe(1);
    const names = openFleetStore(data).read().hosts.map((h) => h.name);
    expect(names.length).toBe(a!.ok + b!.ok);
    expect(names.length).toBe(2 * perProcess + 1);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain('shared');
  }, 120_000);

  it('lose no wake-state entry when both record sleeps as fast as they can', async () => {
    const file = path.join(dir, 'data', 'wake-state.json');
    const perProcess = 200;
    await race(WAKE_STATE, file, perProcess);
    const ws = new WakeState(file);
    for (const prefix of ['cli', 'app']) {
      for (let i = 0; i < perProcess; i++) {
        expect(ws.asleep(`${prefix}-${i}`), `${prefix}-${i}`).toEqual({ at: i + 1, reason: 'idle' });
        expect(ws.adoptedMac(`${prefix}-${i}`)).toBe('52:54:00:00:00:01');
      }
    }
    expect(fs.existsSync(`${file}.lock`)).toBe(false);
  }, 120_000);
});
