import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Conf from 'conf';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FleetError } from '../../main/core/errors.js';
import type { HostRecord } from '../../main/hosts/types.js';
import { defaultDataDir, resolveDataDir } from '../../main/store/data-dir.js';
import { fleetStoreOptions, fleetStorePath, openFleetStore } from '../../main/store/fleet-store.js';
import { defaultPreferences } from '../../main/preferences/index.js';
import { CURRENT_SCHEMA_VERSION, migrations, SLEEP_LOG_LIMIT } from '../../main/store/schema.js';
import type { FleetData, TrustedKey } from '../../main/store/types.js';

const host = (name: string, extra: Partial<HostRecord> = {}): HostRecord => ({
  name,
  host: `${name}.lab.example.com`,
  port: 22,
  user: 'ops',
  identityFile: '/home/ops/.ssh/id_ed25519',
  passwordEnv: null,
  jump: null,
  mac: 'aa:bb:cc:dd:ee:01',
  wolAddress: '192.168.1.255',
  wolPort: 9,
  knownHostsFiles: [],
  ...extra,
});

const trusted: TrustedKey = {
  host: 'gpu-1.lab.example.com',
  port: 22,
  keyType: 'ssh-ed25519',
  fingerprint: `SHA256:${'A'.repeat(43)}`,
  key: 'AAAAC3NzaC1lZDI1NTE5AAAAIHh0c3Q=',
  addedAt: '2025-01-02T03:04:05.000Z',
};

const sleep = { suspendedAt: 1_735_700_000_000, resumedAt: 1_735_720_000_000, reason: 'idle' as const, wolArmed: true, wolMessage: 'armed on eno1' };
const empty = (): FleetData => ({ hosts: [], trustedKeys: [], preferences: defaultPreferences(), sleepLog: {} });
const sample: FleetData = {
  hosts: [host('gpu-1'), host('gpu-2', { jump: 'gpu-1', mac: null, identityFile: null })],
  trustedKeys: [trusted],
  preferences: { ...defaultPreferences(), pricePerKwh: 0.31, notifications: { ...defaultPreferences().notifications, woke: false } },
  sleepLog: { 'gpu-1': [sleep, { ...sleep, suspendedAt: 1_735_800_000_000, resumedAt: null, reason: 'manual', wolArmed: null, wolMessage: '' }] },
};
/** A valid version 1 file (before preferences and the sleep log). */
const v1 = (hosts: unknown[] = [], trustedKeys: unknown[] = []) => ({ schemaVersion: 1, hosts, trustedKeys });

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetwake-store-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const storeFile = () => path.join(dir, 'fleetwake.json');
const backups = () => fs.readdirSync(dir).filter((f) => f.startsWith('fleetwake.corrupt-'));

describe('openFleetStore', () => {
  it('starts empty, creates its folder with mode 0700, and round-trips data through fleetwake.json', () => {
    const nested = path.join(dir, 'a', 'b');
    const store = openFleetStore(nested);
    expect(store.path).toBe(path.join(nested, 'fleetwake.json'));
    expect(fs.statSync(nested).mode & 0o777).toBe(0o700);
    expect(store.read()).toEqual(empty());
    expect(store.problems).toEqual([]);

    store.write(sample);
    expect(store.read()).toEqual(sample);
    expect(JSON.parse(fs.readFileSync(store.path, 'utf8'))).toEqual({ schemaVersion: CURRENT_SCHEMA_VERSION, ...sample });
    expect(fs.statSync(store.path).mode & 0o777).toBe(0o600);
    expect(openFleetStore(nested).read()).toEqual(sample);
  });

  it('writes by replacing the file (temp file + rename), never in place', () => {
    const store = openFleetStore(dir);
    store.write(sample);
    const before = fs.statSync(store.path).ino;
    store.write({ ...sample, hosts: [host('gpu-3')] });
    expect(fs.statSync(store.path).ino).not.toBe(before);
    expect(fs.readdirSync(dir)).toEqual(['fleetwake.json']);
  });

  it('lets two stores on the same folder see each other\'s writes', () => {
    const first = openFleetStore(dir);
    const second = openFleetStore(dir);
    first.write(sample);
    expect(openFleetStore(dir).read()).toEqual(sample);
    expect(second.read()).toEqual(sample);
    second.write({ ...empty(), hosts: [host('other')] });
    expect(openFleetStore(dir).read().hosts.map((h) => h.name)).toEqual(['other']);
    expect(first.read().hosts.map((h) => h.name)).toEqual(['other']);
  });

  it('moves a corrupt JSON file aside with its content intact and reports where it went', () => {
    const damaged = '{"schemaVersion": 1, "hosts": [ {"name": "gpu-1",';
    fs.writeFileSync(storeFile(), damaged);
    const store = openFleetStore(dir);
    const [backup] = backups();
    expect(backup).toMatch(/^fleetwake\.corrupt-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z\.json$/);
    expect(fs.readFileSync(path.join(dir, backup!), 'utf8')).toBe(damaged);
    expect(store.read()).toEqual(empty());
    expect(store.problems).toHaveLength(1);
    expect(store.problems[0]).toContain(path.join(dir, backup!));
    expect(store.problems[0]).toContain('not valid JSON');
    store.write(sample);
    expect(openFleetStore(dir).problems).toEqual([]);
  });

  it('moves schema-invalid content aside and names the bad field', () => {
    const invalid = JSON.stringify(v1([host('gpu-1', { port: 70000 })]));
    fs.writeFileSync(storeFile(), invalid);
    const store = openFleetStore(dir);
    const [backup] = backups();
    expect(fs.readFileSync(path.join(dir, backup!), 'utf8')).toBe(invalid);
    expect(store.problems[0]).toContain('hosts[0].port must be a whole number from 1 to 65535 (got 70000)');
    expect(store.read().hosts).toEqual([]);
  });

  it.each([
    ['a bad MAC', { mac: 'AA-BB-CC-DD-EE-01' }, 'hosts[0].mac'],
    ['a bad name', { name: '-x' }, 'hosts[0].name'],
    ['a wrong type', { wolPort: '9' }, 'hosts[0].wolPort'],
    ['an unknown field', { password: 'x' }, 'unknown field(s) password'],
  ])('rejects %s when opening', (_label, patch, expected) => {
    fs.writeFileSync(storeFile(), JSON.stringify(v1([{ ...host('gpu-1'), ...patch }])));
    expect(openFleetStore(dir).problems[0]).toContain(expected);
    expect(backups()).toHaveLength(1);
  });

  /** A host as files before version 3 kept it: no knownHostsFiles. */
  const oldHost = (name: string) => {
    const { knownHostsFiles: _k, ...rest } = host(name);
    return rest;
  };

  it('migrates a version 0 file (hosts keyed by name) to the current version on open', () => {
    const { name: _n, ...gpu1 } = oldHost('gpu-1');
    fs.writeFileSync(storeFile(), JSON.stringify({ hosts: { 'gpu-1': gpu1 } }));
    const store = openFleetStore(dir);
    expect(store.problems).toEqual([]);
    expect(store.read()).toEqual({ ...empty(), hosts: [host('gpu-1')] });
    expect(JSON.parse(fs.readFileSync(storeFile(), 'utf8'))).toEqual({ schemaVersion: 3, ...empty(), hosts: [host('gpu-1')] });
    expect(migrations[0]!({})).toEqual({ schemaVersion: 1, hosts: [], trustedKeys: [] });
  });

  it('migrates a version 1 file to version 2: default preferences, empty sleep log, hosts and keys kept', () => {
    fs.writeFileSync(storeFile(), JSON.stringify(v1([oldHost('gpu-1')], [trusted])));
    const store = openFleetStore(dir);
    expect(store.problems).toEqual([]);
    const expected = { hosts: [host('gpu-1')], trustedKeys: [trusted], preferences: defaultPreferences(), sleepLog: {} };
    expect(store.read()).toEqual(expected);
    expect(JSON.parse(fs.readFileSync(storeFile(), 'utf8'))).toEqual({ schemaVersion: 3, ...expected });
    expect(migrations[1]!({ schemaVersion: 1, hosts: [], trustedKeys: [] })).toEqual({ schemaVersion: 2, ...empty() });
  });

  it('migrates a version 2 file to version 3: each host gets no extra known_hosts files, the rest kept', () => {
    expect(CURRENT_SCHEMA_VERSION).toBe(3);
    const v2 = { schemaVersion: 2, ...sample, hosts: sample.hosts.map(({ knownHostsFiles: _k, ...h }) => h) };
    fs.writeFileSync(storeFile(), JSON.stringify(v2));
    const store = openFleetStore(dir);
    expect(store.problems).toEqual([]);
    expect(store.read()).toEqual(sample);
    expect(JSON.parse(fs.readFileSync(storeFile(), 'utf8'))).toEqual({ schemaVersion: 3, ...sample });
  });

  it('opens a version 3 file as is, without rewriting it', () => {
    const text = JSON.stringify({ schemaVersion: 3, ...sample }, null, '\t');
    fs.writeFileSync(storeFile(), text);
    const store = openFleetStore(dir);
    expect(store.read()).toEqual(sample);
    expect(fs.readFileSync(storeFile(), 'utf8')).toBe(text);
  });

  it('moves aside a host whose known_hosts files are not a list of absolute paths', () => {
    fs.writeFileSync(storeFile(), JSON.stringify({ schemaVersion: 3, ...empty(), hosts: [host('gpu-1', { knownHostsFiles: ['relative/file'] })] }));
    const store = openFleetStore(dir);
    expect(store.problems[0]).toContain('hosts[0].knownHostsFiles must be a list of at most 8 absolute paths');
  });

  it.each([
    ['a negative baseline', { preferences: { ...defaultPreferences(), baselineWatts: -1 } }, 'preferences.baselineWatts'],
    ['missing preferences', { preferences: undefined }, 'preferences'],
    ['an unknown notification kind', { preferences: { ...defaultPreferences(), notifications: { ...defaultPreferences().notifications, spam: true } } }, 'preferences.notifications.spam'],
    ['a sleep log that is a list', { sleepLog: [] }, 'sleepLog must be an object keyed by host name'],
    ['a bad sleep reason', { sleepLog: { 'gpu-1': [{ ...sleep, reason: 'nap' }] } }, 'sleepLog.gpu-1[0].reason'],
    ['a resume before the suspend', { sleepLog: { 'gpu-1': [{ ...sleep, resumedAt: 1 }] } }, 'sleepLog.gpu-1[0].resumedAt'],
    ['an extra sleep field', { sleepLog: { 'gpu-1': [{ ...sleep, note: 'x' }] } }, 'unknown field(s) note'],
    ['a huge sleep log', { sleepLog: { 'gpu-1': Array.from({ length: SLEEP_LOG_LIMIT + 1 }, () => sleep) } }, `at most ${SLEEP_LOG_LIMIT} periods`],
  ])('moves a version 2 file with %s aside', (_label, patch, expected) => {
    fs.writeFileSync(storeFile(), JSON.stringify({ schemaVersion: 2, ...empty(), ...patch }));
    const store = openFleetStore(dir);
    expect(store.problems[0]).toContain(expected);
    expect(backups()).toHaveLength(1);
    expect(store.read()).toEqual(empty());
  });

  it('refuses a file from a newer Fleetwake and leaves it untouched', () => {
    const newer = JSON.stringify({ schemaVersion: CURRENT_SCHEMA_VERSION + 1, hosts: [], trustedKeys: [], future: true });
    fs.writeFileSync(storeFile(), newer);
    try {
      openFleetStore(dir);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(FleetError);
      expect((err as FleetError).message).toMatch(/written by a newer Fleetwake .*Upgrade Fleetwake/);
    }
    expect(fs.readFileSync(storeFile(), 'utf8')).toBe(newer);
    expect(backups()).toEqual([]);
  });

  it('refuses to write invalid data and leaves the file byte-identical', () => {
    const store = openFleetStore(dir);
    store.write(sample);
    const before = fs.readFileSync(store.path);
    const attempts: unknown[] = [
      { ...empty(), hosts: [host('gpu-1', { port: 0 })] },
      { ...empty(), hosts: [host('gpu-1'), host('GPU-1')] },
      { ...empty(), hosts: [host('gpu-1', { host: 'root@gpu' })] },
      { ...empty(), trustedKeys: [{ ...trusted, fingerprint: 'MD5:aa' }] },
      { ...empty(), hosts: [{ ...host('gpu-1'), hasStoredPassword: true }] },
      { hosts: [] },
      { ...empty(), preferences: { ...defaultPreferences(), currency: '' } },
      { ...empty(), sleepLog: { 'gpu-1': [{ ...sleep, wolArmed: 'yes' }] } },
      { hosts: [], trustedKeys: [] },
    ];
    for (const bad of attempts) {
      expect(() => store.write(bad as FleetData)).toThrow(FleetError);
      expect(fs.readFileSync(store.path).equals(before)).toBe(true);
    }
    try {
      store.write(attempts[0] as FleetData);
    } catch (err) {
      expect(err).toMatchObject({ code: 'invalid-input', field: 'hosts[0].port' });
      expect((err as Error).message).toMatch(/^Fleet data was not saved: hosts\[0\]\.port must be a whole number/);
    }
  });

  it('uses options that conf and electron-store resolve to the same file', () => {
    const options = fleetStoreOptions(dir);
    expect(options).toMatchObject({ cwd: dir, configName: 'fleetwake', name: 'fleetwake' });
    expect(new Conf(options).path).toBe(fleetStorePath(dir));
    const opened: unknown[] = [];
    openFleetStore(dir, (o) => {
      opened.push(o);
      return new Conf<Record<string, unknown>>(o);
    });
    expect(opened).toEqual([options]);
  });

  it('refuses a backend that opens another file', () => {
    expect(() => openFleetStore(dir, () => ({ store: {}, path: path.join(dir, 'config.json') }))).toThrow(/instead of/);
  });
});

describe('data folder', () => {
  it('matches Electron\'s userData folder for Fleetwake on each platform', () => {
    expect(defaultDataDir('linux', {}, '/home/u')).toBe('/home/u/.config/Fleetwake');
    expect(defaultDataDir('linux', { XDG_CONFIG_HOME: '/xdg' }, '/home/u')).toBe('/xdg/Fleetwake');
    expect(defaultDataDir('darwin', {}, '/Users/u')).toBe('/Users/u/Library/Application Support/Fleetwake');
    expect(defaultDataDir('win32', { APPDATA: 'C:\\Users\\u\\AppData\\Roaming' }, 'C:\\Users\\u')).toBe('C:\\Users\\u\\AppData\\Roaming\\Fleetwake');
  });

  it('prefers the flag, then FLEETWAKE_HOME, then the default', () => {
    expect(resolveDataDir('/flag', { FLEETWAKE_HOME: '/env' })).toBe('/flag');
    expect(resolveDataDir(undefined, { FLEETWAKE_HOME: '/env' })).toBe('/env');
    expect(resolveDataDir('', { FLEETWAKE_HOME: '' })).toBe(defaultDataDir(process.platform, {}));
  });
});

describe('reserved host names in the file (issue 10, item 7)', () => {
  const v2 = (patch: Record<string, unknown>) => ({ schemaVersion: CURRENT_SCHEMA_VERSION, ...empty(), ...patch });

  it.each(['__proto__', 'constructor', 'prototype'])('moves aside a file with a host named %s, saying why and how to fix it', (name) => {
    // Written as text: an object literal with __proto__ would not even hold it as a key.
    const text = JSON.stringify(v2({ hosts: [host('placeholder')] })).replace('"placeholder"', JSON.stringify(name));
    fs.writeFileSync(storeFile(), text);
    const store = openFleetStore(dir);
    expect(store.problems[0]).toContain(`hosts[0].name must be a name that is not reserved`);
    expect(store.problems[0]).toContain('rename the host in the file');
    expect(fs.readFileSync(path.join(dir, backups()[0]!), 'utf8')).toBe(text);
    expect(store.read().hosts).toEqual([]);
  });

  it('refuses a sleep log keyed by __proto__ instead of replacing the prototype of the parsed log', () => {
    const text = `{"schemaVersion":${CURRENT_SCHEMA_VERSION},"hosts":[],"trustedKeys":[],"preferences":${JSON.stringify(defaultPreferences())},"sleepLog":{"__proto__":[${JSON.stringify(sleep)}]}}`;
    fs.writeFileSync(storeFile(), text);
    const store = openFleetStore(dir);
    expect(store.problems[0]).toContain('sleepLog["__proto__"]');
    expect(store.read().sleepLog).toEqual({});
    expect(Object.getPrototypeOf(store.read().sleepLog)).toBe(Object.prototype);
  });

  it('refuses to write a reserved name (host, jump or sleep-log key) and keeps the file byte-identical', () => {
    const store = openFleetStore(dir);
    store.write(sample);
    const before = fs.readFileSync(store.path);
    const attempts: [unknown, string][] = [
      [{ ...empty(), hosts: [host('constructor')] }, 'hosts[0].name'],
      [{ ...empty(), hosts: [host('gpu-1', { jump: 'prototype' })] }, 'hosts[0].jump'],
      [{ ...empty(), sleepLog: JSON.parse(`{"__proto__":[${JSON.stringify(sleep)}]}`) }, 'sleepLog["__proto__"]'],
      [{ ...empty(), sleepLog: { constructor: [sleep] } }, 'sleepLog["constructor"]'],
    ];
    for (const [bad, field] of attempts) {
      expect(() => store.write(bad as FleetData)).toThrow(expect.objectContaining({ code: 'invalid-input', field }));
      expect(fs.readFileSync(store.path).equals(before)).toBe(true);
    }
  });
});
