/**
 * The on-disk shape of fleetwake.json, its strict validator and its migrations.
 *
 * A hand-written validator rather than conf's ajv `schema` option: conf reports violations as a generic
 * Error from inside its constructor and getters, which makes "move the bad file aside and say why"
 * awkward, and its messages name JSON pointers rather than what to fix.
 */
import path from 'node:path';
import { invalidInput } from '../core/errors.js';
import { isCanonicalMac } from '../hosts/mac.js';
import type { HostRecord } from '../hosts/types.js';
import { ENV_NAME_PATTERN, HOST_NAME_PATTERN, isReservedHostName, isValidAddress, MAX_KNOWN_HOSTS_FILES, USER_MAX_LENGTH, USER_PATTERN } from '../hosts/validation.js';
import type { SleepPeriod } from '../../preload/api.js';
import { checkStoredPreferences, defaultPreferences } from '../preferences/index.js';
import type { FleetData, TrustedKey } from './types.js';

export const CURRENT_SCHEMA_VERSION = 3;

/** Sleep periods kept per host in FleetData.sleepLog (about a year of nightly sleeps). */
export const SLEEP_LOG_LIMIT = 400;

export interface FleetFile extends FleetData {
  schemaVersion: typeof CURRENT_SCHEMA_VERSION;
}

/** A file that is not valid fleet data; `where` is a path such as hosts[2].port. */
export class SchemaError extends Error {
  constructor(
    readonly where: string,
    message: string,
  ) {
    super(message);
    this.name = 'SchemaError';
  }
}

type Obj = Record<string, unknown>;

const HOST_KEYS: (keyof HostRecord)[] = ['name', 'host', 'port', 'user', 'identityFile', 'passwordEnv', 'jump', 'mac', 'wolAddress', 'wolPort', 'knownHostsFiles'];
const TRUSTED_KEY_KEYS: (keyof TrustedKey)[] = ['host', 'port', 'keyType', 'fingerprint', 'key', 'addedAt'];
const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'object') return 'an object';
  return String(value);
}

function fail(where: string, expected: string, got: unknown): never {
  throw new SchemaError(where, `${where} must be ${expected} (got ${describe(got)}).`);
}

function checkExactKeys(value: Obj, keys: readonly string[], where: string): void {
  const missing = keys.filter((k) => !(k in value));
  if (missing.length > 0) throw new SchemaError(where, `${where} is missing ${missing.join(', ')}.`);
  const extra = Object.keys(value).filter((k) => !keys.includes(k));
  if (extra.length > 0) throw new SchemaError(where, `${where} has unknown field(s) ${extra.join(', ')}.`);
}

/** Why a name such as __proto__ is refused, for messages about the file. */
const RESERVED_HINT = '__proto__, constructor, prototype and the other built-in property names of JavaScript objects cannot be host names; rename the host in the file';

const isPort = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535;
const isText = (v: unknown): v is string => typeof v === 'string' && v.trim() === v && v !== '';

function checkHost(value: unknown, where: string): HostRecord {
  if (!isObject(value)) fail(where, 'an object', value);
  checkExactKeys(value, HOST_KEYS, where);
  const h = value;
  if (!(typeof h.name === 'string' && HOST_NAME_PATTERN.test(h.name))) fail(`${where}.name`, 'a name of letters, digits, "-", "_" and ".", up to 64 characters', h.name);
  if (isReservedHostName(h.name)) fail(`${where}.name`, `a name that is not reserved (${RESERVED_HINT})`, h.name);
  if (!(typeof h.host === 'string' && isValidAddress(h.host) && !h.host.startsWith('['))) fail(`${where}.host`, 'a host name or IP address', h.host);
  if (!isPort(h.port)) fail(`${where}.port`, 'a whole number from 1 to 65535', h.port);
  if (!(typeof h.user === 'string' && h.user.length <= USER_MAX_LENGTH && USER_PATTERN.test(h.user))) fail(`${where}.user`, 'a user name', h.user);
  if (!(h.identityFile === null || (isText(h.identityFile) && path.isAbsolute(h.identityFile)))) fail(`${where}.identityFile`, 'null or an absolute path', h.identityFile);
  if (!(h.passwordEnv === null || (typeof h.passwordEnv === 'string' && ENV_NAME_PATTERN.test(h.passwordEnv)))) fail(`${where}.passwordEnv`, 'null or an environment variable name', '(hidden)');
  if (!(h.jump === null || (typeof h.jump === 'string' && HOST_NAME_PATTERN.test(h.jump) && !isReservedHostName(h.jump)))) fail(`${where}.jump`, 'null or a host name', h.jump);
  if (!(h.mac === null || isCanonicalMac(h.mac))) fail(`${where}.mac`, 'null or a MAC address like aa:bb:cc:dd:ee:ff', h.mac);
  if (!(h.wolAddress === null || (typeof h.wolAddress === 'string' && isValidAddress(h.wolAddress) && !h.wolAddress.startsWith('[')))) fail(`${where}.wolAddress`, 'null or a host name or IP address', h.wolAddress);
  if (!(h.wolPort === null || isPort(h.wolPort))) fail(`${where}.wolPort`, 'null or a whole number from 1 to 65535', h.wolPort);
  if (!(Array.isArray(h.knownHostsFiles) && h.knownHostsFiles.length <= MAX_KNOWN_HOSTS_FILES && h.knownHostsFiles.every((f) => isText(f) && path.isAbsolute(f)))) {
    fail(`${where}.knownHostsFiles`, `a list of at most ${MAX_KNOWN_HOSTS_FILES} absolute paths`, h.knownHostsFiles);
  }
  h.knownHostsFiles = [...(h.knownHostsFiles as string[])];
  return Object.fromEntries(HOST_KEYS.map((k) => [k, h[k]])) as unknown as HostRecord;
}

function checkTrustedKey(value: unknown, where: string): TrustedKey {
  if (!isObject(value)) fail(where, 'an object', value);
  checkExactKeys(value, TRUSTED_KEY_KEYS, where);
  const k = value;
  if (!(typeof k.host === 'string' && isValidAddress(k.host))) fail(`${where}.host`, 'a host name or IP address', k.host);
  if (!isPort(k.port)) fail(`${where}.port`, 'a whole number from 1 to 65535', k.port);
  if (!(typeof k.keyType === 'string' && /^[a-z0-9@.-]+$/i.test(k.keyType))) fail(`${where}.keyType`, 'a key type such as ssh-ed25519', k.keyType);
  if (!(typeof k.fingerprint === 'string' && FINGERPRINT.test(k.fingerprint))) fail(`${where}.fingerprint`, 'SHA256: followed by 43 base64 characters', k.fingerprint);
  if (!(typeof k.key === 'string' && BASE64.test(k.key))) fail(`${where}.key`, 'the base64 public key', k.key);
  if (!(typeof k.addedAt === 'string' && !Number.isNaN(Date.parse(k.addedAt)))) fail(`${where}.addedAt`, 'an ISO date', k.addedAt);
  return Object.fromEntries(TRUSTED_KEY_KEYS.map((key) => [key, k[key]])) as unknown as TrustedKey;
}

/** Checks FleetData strictly and returns a plain copy; throws SchemaError naming the first bad field. */
export function checkFleetData(value: unknown): FleetData {
  if (!isObject(value)) fail('data', 'an object', value);
  if (!Array.isArray(value.hosts)) fail('hosts', 'a list', value.hosts);
  if (!Array.isArray(value.trustedKeys)) fail('trustedKeys', 'a list', value.trustedKeys);
  const hosts = value.hosts.map((h, i) => checkHost(h, `hosts[${i}]`));
  const seen = new Map<string, number>();
  hosts.forEach((h, i) => {
    const earlier = seen.get(h.name.toLowerCase());
    if (earlier !== undefined) throw new SchemaError(`hosts[${i}].name`, `hosts[${i}].name "${h.name}" is used twice (also hosts[${earlier}]); host names must be unique.`);
    seen.set(h.name.toLowerCase(), i);
  });
  const trustedKeys = value.trustedKeys.map((k, i) => checkTrustedKey(k, `trustedKeys[${i}]`));
  const problem = checkStoredPreferences(value.preferences);
  if (problem) throw new SchemaError(problem.field, `${problem.message.replace(/\.$/, '')}.`);
  const preferences = structuredClone(value.preferences) as FleetData['preferences'];
  const sleepLog = checkSleepLog(value.sleepLog);
  return { hosts, trustedKeys, preferences, sleepLog };
}

const SLEEP_PERIOD_KEYS: (keyof SleepPeriod)[] = ['suspendedAt', 'resumedAt', 'reason', 'wolArmed', 'wolMessage'];
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

function checkSleepPeriod(value: unknown, where: string): SleepPeriod {
  if (!isObject(value)) fail(where, 'an object', value);
  checkExactKeys(value, SLEEP_PERIOD_KEYS, where);
  const p = value;
  if (!isTime(p.suspendedAt)) fail(`${where}.suspendedAt`, 'a time in ms since epoch', p.suspendedAt);
  if (!(p.resumedAt === null || (isTime(p.resumedAt) && p.resumedAt >= p.suspendedAt))) fail(`${where}.resumedAt`, 'null or a time not before suspendedAt', p.resumedAt);
  if (p.reason !== 'idle' && p.reason !== 'manual' && p.reason !== 'external') fail(`${where}.reason`, '"idle", "manual" or "external"', p.reason);
  if (!(p.wolArmed === null || typeof p.wolArmed === 'boolean')) fail(`${where}.wolArmed`, 'null, true or false', p.wolArmed);
  if (typeof p.wolMessage !== 'string') fail(`${where}.wolMessage`, 'a string', p.wolMessage);
  return { suspendedAt: p.suspendedAt, resumedAt: p.resumedAt as number | null, reason: p.reason, wolArmed: p.wolArmed as boolean | null, wolMessage: p.wolMessage };
}

function checkSleepLog(value: unknown): Record<string, SleepPeriod[]> {
  if (!isObject(value)) fail('sleepLog', 'an object keyed by host name', value);
  const out: Record<string, SleepPeriod[]> = {};
  // Object.entries sees an own "__proto__" key that JSON.parse created; assigning it with out[name] would
  // replace out's prototype instead of adding a key. Reserved names are refused before any assignment.
  for (const [name, list] of Object.entries(value)) {
    if (!HOST_NAME_PATTERN.test(name)) fail(`sleepLog["${name.slice(0, 40)}"]`, 'keyed by a host name', name);
    if (isReservedHostName(name)) fail(`sleepLog["${name}"]`, `keyed by a host name that is not reserved (${RESERVED_HINT})`, name);
    if (!Array.isArray(list)) fail(`sleepLog.${name}`, 'a list', list);
    if (list.length > SLEEP_LOG_LIMIT) fail(`sleepLog.${name}`, `a list of at most ${SLEEP_LOG_LIMIT} periods`, `${list.length} periods`);
    out[name] = list.map((p, i) => checkSleepPeriod(p, `sleepLog.${name}[${i}]`));
  }
  return out;
}

/** Like checkFleetData, but as the invalid-input FleetError that write() throws. */
export function assertValidFleetData(value: unknown): FleetData {
  try {
    return checkFleetData(value);
  } catch (err) {
    if (err instanceof SchemaError) throw invalidInput(err.where, `Fleet data was not saved: ${err.message}`);
    throw err;
  }
}

/** Each entry turns data of version N into version N+1. */
export const migrations: Record<number, (data: Obj) => Obj> = {
  // Version 0 had no schemaVersion and kept hosts in an object keyed by name, without trusted keys.
  0: (data) => {
    const hosts = data.hosts ?? {};
    if (!isObject(hosts)) fail('hosts', 'an object keyed by host name in a version 0 file', hosts);
    return {
      ...data,
      schemaVersion: 1,
      hosts: Object.entries(hosts).map(([name, host]) => (isObject(host) ? { ...host, name } : host)),
      trustedKeys: data.trustedKeys ?? [],
    };
  },
  // Version 2 added user preferences (defaults) and the per-host sleep-period log (empty).
  1: (data) => ({
    ...data,
    schemaVersion: 2,
    preferences: data.preferences ?? defaultPreferences(),
    sleepLog: data.sleepLog ?? {},
  }),
  // Version 3 added each host's extra known_hosts files (none).
  2: (data) => ({
    ...data,
    schemaVersion: 3,
    hosts: Array.isArray(data.hosts) ? data.hosts.map((h) => (isObject(h) && !('knownHostsFiles' in h) ? { ...h, knownHostsFiles: [] } : h)) : data.hosts,
  }),
};

/** The schemaVersion of a parsed file; a file without one is version 0. */
export function schemaVersionOf(data: Obj): number {
  const version = data.schemaVersion ?? 0;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 0) fail('schemaVersion', 'a whole number', version);
  return version;
}

/**
 * Brings parsed file content to the current version and checks it.
 * The caller handles versions newer than CURRENT_SCHEMA_VERSION before calling this.
 */
export function migrateFleetFile(parsed: unknown): { data: FleetData; migratedFrom: number | null } {
  if (!isObject(parsed)) fail('The file', 'a JSON object', parsed);
  const from = schemaVersionOf(parsed);
  let current: Obj = parsed;
  for (let version = from; version < CURRENT_SCHEMA_VERSION; version++) {
    const step = migrations[version];
    if (!step) throw new SchemaError('schemaVersion', `No migration from data version ${version}.`);
    current = step(current);
  }
  const { schemaVersion: _version, ...rest } = current;
  return { data: checkFleetData(rest), migratedFrom: from === CURRENT_SCHEMA_VERSION ? null : from };
}

export function toFleetFile(data: FleetData): FleetFile {
  return {
    schemaVersion: CURRENT_SCHEMA_VERSION,
    hosts: data.hosts,
    trustedKeys: data.trustedKeys,
    preferences: data.preferences,
    sleepLog: data.sleepLog,
  };
}
