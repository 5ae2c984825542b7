import fs from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { FieldError, HostInput } from '../../preload/api.js';
import { FleetError, invalidInput } from '../core/errors.js';
import { normalizeMac } from './mac.js';
import type { HostRecord } from './types.js';

export interface ValidationContext {
  /** Current stored hosts. */
  existing: HostRecord[];
  /** Name of the host being edited: its own name is not a conflict. */
  editing?: string;
  /** For ~ expansion. */
  homeDir: string;
  /** Default: fs.statSync(p).isFile(). Injectable for tests. */
  fileExists?: (path: string) => boolean;
}

export const HOST_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;
export const USER_PATTERN = /^[a-z_][a-z0-9_.-]*\$?$/i;
export const USER_MAX_LENGTH = 32;
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const DEFAULT_SSH_PORT = 22;

/**
 * Names that per-host data keyed by host name in plain objects would read or write as Object.prototype
 * members (`__proto__` replaces an object's prototype, `constructor`/`toString` read inherited values).
 * Refused case-insensitively: names are unique case-insensitively and may be lower-cased into keys.
 */
export const RESERVED_HOST_NAMES: ReadonlySet<string> = new Set(
  [...Object.getOwnPropertyNames(Object.prototype), 'prototype'].map((n) => n.toLowerCase()),
);

/** True for a name that must never be a host name (see RESERVED_HOST_NAMES). */
export function isReservedHostName(name: string): boolean {
  return RESERVED_HOST_NAMES.has(name.toLowerCase());
}

/** The error text for a reserved host name; `got` is the name as the user wrote it. */
export function reservedHostNameMessage(name: string): string {
  return `Name ${quoted(name)} is reserved (it names a built-in property of JavaScript objects) and cannot be a host name. Choose another name, such as ${quoted(`${name.replace(/^_+|_+$/g, '') || 'host'}-1`)}.`;
}

const HOSTNAME_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const DOTTED_NUMBERS = /^[0-9.]+$/;

type AddressField = 'host' | 'wolAddress';
type PortField = 'port' | 'wolPort';

const FIELD_LABEL: Record<AddressField | PortField, string> = {
  host: 'Host',
  wolAddress: 'Wake-on-LAN address',
  port: 'Port',
  wolPort: 'Wake-on-LAN port',
};

function quoted(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
}

/** Paths are shortened in the middle: the file name at the end is what the user must recognise. */
function quotedPath(path: string): string {
  return JSON.stringify(path.length > 80 ? `${path.slice(0, 24)}…${path.slice(-55)}` : path);
}

/** Trimmed text, or null when the user left an optional field empty. */
function optionalText(input: Record<string, unknown>, field: keyof HostInput): string | null {
  const value = input[field];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') {
    throw invalidInput(field, `${field} must be text (got ${typeof value}).`);
  }
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
}

function requiredText(input: Record<string, unknown>, field: keyof HostInput, hint: string): string {
  const value = optionalText(input, field);
  if (value === null) throw invalidInput(field, `${field === 'name' ? 'Name' : 'Host'} is required: ${hint}.`);
  return value;
}

function addressProblem(address: string, field: AddressField): string | null {
  const label = FIELD_LABEL[field];
  const portField = field === 'host' ? 'Port' : 'Wake-on-LAN port';
  if (/\s/.test(address)) return `${label} must not contain spaces (got ${quoted(address)}).`;
  if (address.includes('@')) {
    return `${label} must be only the address, without a user (got ${quoted(address)}). Put the user name in the User field.`;
  }
  if (address.startsWith('[') || address.endsWith(']')) {
    const inner = /^\[([^\]]*)\](?::\d*)?$/.exec(address);
    if (inner && address.endsWith(']') && isIPv6(inner[1]!)) return null;
    if (inner && isIPv6(inner[1]!)) return `${label} must not include a port (got ${quoted(address)}). Put the port in the ${portField} field.`;
    return `${label} ${quoted(address)} is not a valid IPv6 address in brackets.`;
  }
  if (address.includes(':')) {
    if (isIPv6(address)) return null;
    if (/^[^:]+:\d*$/.test(address)) {
      return `${label} must not include a port (got ${quoted(address)}). Put the port in the ${portField} field.`;
    }
    return `${label} ${quoted(address)} is not a valid IPv6 address.`;
  }
  if (DOTTED_NUMBERS.test(address)) {
    return isIPv4(address)
      ? null
      : `${label} ${quoted(address)} is not a valid IPv4 address: use four numbers from 0 to 255 without leading zeros, such as 192.168.1.20.`;
  }
  if (address.endsWith('.')) return `${label} must not end with a dot (got ${quoted(address)}).`;
  if (address.length > 253) return `${label} is too long: a host name has at most 253 characters (got ${address.length}).`;
  const badLabel = address.split('.').find((part) => !HOSTNAME_LABEL.test(part));
  if (badLabel !== undefined) {
    return `${label} ${quoted(address)} is not a valid host name: each dot-separated part must be 1-63 letters, digits or hyphens, not starting or ending with a hyphen${badLabel === '' ? '' : ` (${quoted(badLabel)} is not)`}.`;
  }
  return null;
}

/** True for a host name, IPv4 address or IPv6 address (brackets allowed) that the host field accepts. */
export function isValidAddress(address: string): boolean {
  return addressProblem(address, 'host') === null;
}

/** Checks a host name or IP address and returns it in stored form (IPv6 without brackets). */
export function checkAddress(address: string, field: AddressField): string {
  const problem = addressProblem(address, field);
  if (problem !== null) throw invalidInput(field, problem);
  return address.startsWith('[') ? address.slice(1, -1) : address;
}

/**
 * The Wake-on-LAN address must be an IPv4 literal: the packet goes out over IPv4 UDP, both from the app
 * (main/sleep/wake/magic-packet.ts) and from a relay's agent (wol.send), and neither resolves names. A host
 * name or an IPv6 address would be accepted here only to fail when the user needs the host awake.
 */
export function checkWolAddress(address: string): string {
  const retry = 'Use the LAN\'s broadcast address, such as 192.168.1.255, or leave it empty to use the one Fleetwake learns.';
  if (isIPv4(address)) {
    const first = Number(address.split('.')[0]);
    if (first === 0) {
      throw invalidInput('wolAddress', `Wake-on-LAN address ${quoted(address)} is not an address a packet can be sent to (0.x.x.x means "this network"). ${retry}`);
    }
    if (first >= 240 && address !== '255.255.255.255') {
      throw invalidInput('wolAddress', `Wake-on-LAN address ${quoted(address)} is in the reserved range 240.0.0.0-255.255.255.254. ${retry}`);
    }
    return address;
  }
  // Typos with a precise message of their own: a port, spaces, a user, a malformed IPv4 address.
  const problem = addressProblem(address, 'wolAddress');
  if (problem !== null && (DOTTED_NUMBERS.test(address) || /[\s@]/.test(address) || /^[^:[\]]+:\d*$/.test(address))) {
    throw invalidInput('wolAddress', problem);
  }
  const what = address.includes(':') || address.startsWith('[') ? 'an IPv6 address' : 'a host name';
  throw invalidInput(
    'wolAddress',
    `Wake-on-LAN address must be an IPv4 address (got ${what}, ${quoted(address)}). Host names and IPv6 addresses are not accepted: ` +
      `the magic packet is sent over IPv4 to a literal address and names are never resolved, so it would fail only when you wake the host. ${retry}`,
  );
}

function optionalPort(input: Record<string, unknown>, field: PortField): number | null {
  const value = input[field];
  if (value === undefined || value === null) return null;
  const label = FIELD_LABEL[field];
  let port: number;
  if (typeof value === 'number') port = value;
  else if (typeof value === 'string') {
    const trimmed = value.trim();
    if (trimmed === '') return null;
    port = /^\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  } else {
    throw invalidInput(field, `${label} must be a whole number from 1 to 65535 (got ${typeof value}).`);
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw invalidInput(field, `${label} must be a whole number from 1 to 65535 (got ${quoted(String(value))}).`);
  }
  return port;
}

function checkName(name: string, ctx: ValidationContext): string {
  if (name.length > 64) throw invalidInput('name', `Name must be at most 64 characters (got ${name.length}).`);
  if (!HOST_NAME_PATTERN.test(name)) {
    throw invalidInput(
      'name',
      `Name may use only letters, digits, "-", "_" and ".", and must not start with "-" or "." (got ${quoted(name)}).`,
    );
  }
  if (isReservedHostName(name)) throw invalidInput('name', reservedHostNameMessage(name));
  const editing = ctx.editing?.toLowerCase();
  const clash = ctx.existing.find((h) => h.name.toLowerCase() === name.toLowerCase() && h.name.toLowerCase() !== editing);
  if (clash) {
    throw new FleetError('conflict', `A host named ${quoted(clash.name)} already exists. Choose another name, or edit that host instead.`, 'name');
  }
  return name;
}

function defaultLocalUser(): string {
  const fromEnv = process.env.USER;
  if (fromEnv) return fromEnv;
  try {
    return os.userInfo().username;
  } catch {
    return '';
  }
}

function checkUser(user: string | null): string {
  if (user === null) {
    const local = defaultLocalUser();
    if (local.length <= USER_MAX_LENGTH && USER_PATTERN.test(local)) return local;
    throw invalidInput('user', `User is required here: your local user name ${quoted(local)} is not a valid SSH user name. Enter the user to log in as.`);
  }
  if (user.length > USER_MAX_LENGTH) {
    throw invalidInput('user', `User must be at most ${USER_MAX_LENGTH} characters (got ${user.length}).`);
  }
  if (!USER_PATTERN.test(user)) {
    throw invalidInput(
      'user',
      `User ${quoted(user)} is not a valid user name: start with a letter or "_", then letters, digits, "_", "." or "-".`,
    );
  }
  return user;
}

function defaultFileExists(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Expands `~` and `~/...` to homeDir; other paths are returned unchanged. */
export function expandHome(p: string, homeDir: string): string {
  if (p === '~') return homeDir;
  if (p.startsWith('~/') || p.startsWith('~\\')) return path.join(homeDir, p.slice(2));
  return p;
}

function checkIdentityFile(file: string | null, ctx: ValidationContext): string | null {
  if (file === null) return null;
  if (/^~[^/\\]/.test(file)) {
    throw invalidInput('identityFile', `Key file ${quotedPath(file)} uses ~user, which is not supported. Write the full path instead.`);
  }
  const expanded = expandHome(file, ctx.homeDir);
  if (!path.isAbsolute(expanded)) {
    throw invalidInput('identityFile', `Key file must be a full path such as ~/.ssh/id_ed25519 (got ${quotedPath(file)}).`);
  }
  const exists = ctx.fileExists ?? defaultFileExists;
  if (!exists(expanded)) {
    throw invalidInput(
      'identityFile',
      `Key file ${quotedPath(expanded)} does not exist or is not a file. Check the path, or leave the field empty to use ssh-agent or a password.`,
    );
  }
  return expanded;
}

/** ssh reads at most this many UserKnownHostsFile entries per host. */
export const MAX_KNOWN_HOSTS_FILES = 8;

/**
 * Extra known_hosts files: absolute (after `~`), at most MAX_KNOWN_HOSTS_FILES. `none` and /dev/null
 * (ssh's ways of saying "no file") are left out. A file that does not exist yet is fine: ssh's is too.
 */
function checkKnownHostsFiles(value: unknown, ctx: ValidationContext): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((f) => typeof f === 'string')) {
    throw invalidInput('knownHostsFiles', 'Known hosts files must be a list of paths such as ["~/.ssh/known_hosts.work"].');
  }
  const out: string[] = [];
  for (const raw of value as string[]) {
    const file = raw.trim();
    if (file === '' || file.toLowerCase() === 'none' || file === '/dev/null') continue;
    if (/^~[^/\\]/.test(file)) throw invalidInput('knownHostsFiles', `Known hosts file ${quotedPath(file)} uses ~user, which is not supported. Write the full path instead.`);
    const expanded = expandHome(file, ctx.homeDir);
    if (!path.isAbsolute(expanded)) throw invalidInput('knownHostsFiles', `Known hosts file must be a full path such as ~/.ssh/known_hosts.work (got ${quotedPath(file)}).`);
    if (!out.includes(expanded)) out.push(expanded);
  }
  if (out.length > MAX_KNOWN_HOSTS_FILES) throw invalidInput('knownHostsFiles', `At most ${MAX_KNOWN_HOSTS_FILES} known hosts files per host (got ${out.length}).`);
  return out;
}

function checkPasswordEnv(name: string | null): string | null {
  if (name === null) return null;
  if (ENV_NAME_PATTERN.test(name)) return name;
  // The value is never echoed: a user who typed the password itself must not see it in an error log.
  throw invalidInput(
    'passwordEnv',
    'Password variable must be the NAME of an environment variable (letters, digits and "_", not starting with a digit), such as GPU1_PASSWORD. Give the name of an environment variable, not the password.',
  );
}

function checkJump(jump: string | null, name: string, ctx: ValidationContext): string | null {
  if (jump === null) return null;
  if (jump.toLowerCase() === name.toLowerCase()) {
    throw invalidInput('jump', `Host ${quoted(name)} cannot jump through itself. Choose another host, or leave Jump empty.`);
  }
  const editing = ctx.editing?.toLowerCase();
  const others = ctx.existing.filter((h) => h.name.toLowerCase() !== editing && h.name.toLowerCase() !== name.toLowerCase());
  const byName = new Map(others.map((h) => [h.name.toLowerCase(), h]));
  const target = byName.get(jump.toLowerCase());
  if (!target) {
    throw invalidInput('jump', `Jump host ${quoted(jump)} does not exist. Add it first, or leave Jump empty.`);
  }
  const chain = [name, target.name];
  let next = target.jump;
  while (next !== null) {
    if (next.toLowerCase() === name.toLowerCase() || chain.some((n) => n.toLowerCase() === next!.toLowerCase())) {
      chain.push(next);
      throw invalidInput('jump', `Jump hosts would go round in a loop (${chain.join(' -> ')}). Choose a jump host that does not lead back here.`);
    }
    chain.push(next);
    const hop = byName.get(next.toLowerCase());
    if (!hop) break;
    next = hop.jump;
  }
  return target.name;
}

/**
 * Every field problem of an input, in HostInput field order, and the record when there are none.
 * Import shows all of them at once; add/edit throw the first.
 */
export function checkHostInput(input: unknown, ctx: ValidationContext): { record: HostRecord | null; errors: FleetError[] } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    const got = input === null ? 'null' : Array.isArray(input) ? 'a list' : typeof input;
    return {
      record: null,
      errors: [new FleetError('invalid-input', `Host details must be an object with at least "name" and "host" (got ${got}).`)],
    };
  }
  const fields = input as Record<string, unknown>;
  const errors: FleetError[] = [];
  const attempt = <T>(check: () => T): T | undefined => {
    try {
      return check();
    } catch (err) {
      if (err instanceof FleetError) {
        errors.push(err);
        return undefined;
      }
      throw err;
    }
  };

  const name = attempt(() => checkName(requiredText(fields, 'name', 'give the host a short name such as gpu-1'), ctx));
  const host = attempt(() => checkAddress(requiredText(fields, 'host', 'enter the host name or IP address of the server'), 'host'));
  const port = attempt(() => optionalPort(fields, 'port') ?? DEFAULT_SSH_PORT);
  const user = attempt(() => checkUser(optionalText(fields, 'user')));
  const identityFile = attempt(() => checkIdentityFile(optionalText(fields, 'identityFile'), ctx));
  const passwordEnv = attempt(() => checkPasswordEnv(optionalText(fields, 'passwordEnv')));
  const jump = attempt(() => checkJump(optionalText(fields, 'jump'), name ?? String(fields.name ?? ''), ctx));
  const mac = attempt(() => {
    const raw = optionalText(fields, 'mac');
    return raw === null ? null : normalizeMac(raw);
  });
  const wolAddress = attempt(() => {
    const raw = optionalText(fields, 'wolAddress');
    return raw === null ? null : checkWolAddress(raw);
  });
  const wolPort = attempt(() => optionalPort(fields, 'wolPort'));
  const knownHostsFiles = attempt(() => checkKnownHostsFiles(fields.knownHostsFiles, ctx));

  if (errors.length > 0) return { record: null, errors };
  return {
    record: {
      name: name!,
      host: host!,
      port: port!,
      user: user!,
      identityFile: identityFile ?? null,
      passwordEnv: passwordEnv ?? null,
      jump: jump ?? null,
      mac: mac ?? null,
      wolAddress: wolAddress ?? null,
      wolPort: wolPort ?? null,
      knownHostsFiles: knownHostsFiles ?? [],
    },
    errors,
  };
}

/** Validates untrusted host input; throws the first field's FleetError ('invalid-input', or 'conflict' for a taken name). */
export function validateHostInput(input: unknown, ctx: ValidationContext): HostRecord {
  const { record, errors } = checkHostInput(input, ctx);
  if (errors[0]) throw errors[0];
  return record!;
}

export function toFieldErrors(errors: FleetError[]): FieldError[] {
  return errors.map((e) => ({ field: e.field ?? 'input', message: e.message }));
}
