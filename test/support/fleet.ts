import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FleetEventName, FleetEvents, HostState, HostStatus } from '../../preload/api.js';
import { createFleet, type Fleet, type FleetDeps } from '../../main/fleet.js';
import { MemorySecretStore } from '../../main/secrets/memory.js';
import { openFleetStore } from '../../main/store/fleet-store.js';

export interface TestFleet {
  fleet: Fleet;
  /** Data folder (FLEETWAKE_HOME) of this fleet. */
  dataDir: string;
  /** Stands in for the user's home: ~/.ssh/known_hosts and ~/.ssh/config live here. */
  homeDir: string;
  /** Every host-status event, in order. */
  statuses: HostStatus[];
  waitForState(name: string, state: HostState, timeoutMs?: number): Promise<HostStatus>;
  next<E extends FleetEventName>(event: E, timeoutMs?: number): Promise<FleetEvents[E]>;
}

/** A Fleet core over a fresh data folder and a fake home, with short deadlines for tests. */
export function makeTestFleet(overrides: Partial<FleetDeps> = {}): TestFleet {
  const root = mkdtempSync(join(tmpdir(), 'fleetwake-test-'));
  const dataDir = join(root, 'data');
  const homeDir = join(root, 'home');
  mkdirSync(join(homeDir, '.ssh'), { recursive: true, mode: 0o700 });
  const fleet = createFleet({
    store: openFleetStore(dataDir),
    secrets: new MemorySecretStore(),
    appVersion: '0.0.0-test',
    homeDir,
    agentSocket: '',
    keepConnected: true,
    connection: { connectTimeoutMs: 5_000, keepaliveIntervalMs: 1_000, keepaliveCountMax: 2, backoffInitialMs: 200, backoffMaxMs: 1_000 },
    env: {},
    ...overrides,
  });
  const statuses: HostStatus[] = [];
  fleet.on('host-status', (s) => statuses.push(s));

  const waitForState = (name: string, state: HostState, timeoutMs = 15_000) =>
    new Promise<HostStatus>((resolve, reject) => {
      let off = () => {};
      const timer = setTimeout(() => {
        off();
        void fleet.getStatuses().then((all) => {
          const now = all.find((s) => s.name === name);
          reject(new Error(`${name} did not reach ${state} within ${timeoutMs} ms (now ${now?.state}: ${now?.error ?? ''})`));
        });
      }, timeoutMs);
      const check = (s: HostStatus) => {
        if (s.name === name && s.state === state) {
          clearTimeout(timer);
          off();
          resolve(s);
        }
      };
      off = fleet.on('host-status', check);
      void fleet.getStatuses().then((all) => {
        const now = all.find((s) => s.name === name);
        if (now) check(now);
      });
    });

  const next = <E extends FleetEventName>(event: E, timeoutMs = 15_000) =>
    new Promise<FleetEvents[E]>((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`no ${event} event within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = fleet.on(event, (payload) => {
        clearTimeout(timer);
        off();
        resolve(payload);
      });
    });

  return { fleet, dataDir, homeDir, statuses, waitForState, next };
}
