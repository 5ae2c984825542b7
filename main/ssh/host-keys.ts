import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { TrustedKey } from '../store/types.js';

/** What the server presented, in the forms users compare: `SHA256:...` as `ssh-keygen -lf` prints. */
export interface PresentedKey {
  keyType: string;
  fingerprint: string;
  /** Base64 of the raw key blob, as stored in known_hosts. */
  key: string;
}

export type HostKeyVerdict =
  | { verdict: 'trusted'; presented: PresentedKey }
  | { verdict: 'unknown'; presented: PresentedKey; note?: string }
  | {
      verdict: 'changed';
      presented: PresentedKey;
      /** The fingerprint(s) known for the host before (comma-separated when several key types were). */
      expectedFingerprint: string;
      source: string;
      /** The presented key itself is marked @revoked in a known_hosts file (`source`); no old fingerprint applies. */
      revoked?: true;
    };

export function fingerprintOf(keyBlob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '');
}

/** The key type is the first SSH string inside the blob (uint32 length + bytes). */
export function keyTypeOf(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return 'unknown';
  const len = keyBlob.readUInt32BE(0);
  if (len <= 0 || len > 64 || keyBlob.length < 4 + len) return 'unknown';
  return keyBlob.subarray(4, 4 + len).toString('latin1');
}

export function describeKey(keyBlob: Buffer): PresentedKey {
  return { keyType: keyTypeOf(keyBlob), fingerprint: fingerprintOf(keyBlob), key: keyBlob.toString('base64') };
}

/** The name known_hosts uses for a host: bare for port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

interface KnownHostsEntry {
  marker: '@revoked' | '@cert-authority' | null;
  patterns: string;
  keyType: string;
  key: string;
  line: number;
}

export function parseKnownHosts(text: string): KnownHostsEntry[] {
  const entries: KnownHostsEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const parts = line.split(/\s+/);
    let marker: KnownHostsEntry['marker'] = null;
    if (parts[0] === '@revoked' || parts[0] === '@cert-authority') marker = parts.shift() as KnownHostsEntry['marker'];
    const [patterns, keyType, key] = parts;
    if (!patterns || !keyType || !key) return;
    entries.push({ marker, patterns, keyType, key, line: i + 1 });
  });
  return entries;
}

/** Compiled host patterns: every connect checks every known_hosts line, and the lines rarely change. */
const globs = new Map<string, RegExp>();

function globToRegExp(pattern: string): RegExp {
  const hit = globs.get(pattern);
  if (hit) return hit;
  if (globs.size >= 4096) globs.clear();
  const re = compileGlob(pattern);
  globs.set(pattern, re);
  return re;
}

function compileGlob(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, 'i');
}

/** ssh's GlobalKnownHostsFile default. */
export const GLOBAL_KNOWN_HOSTS_FILES: readonly string[] = ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'];

/** ssh's UserKnownHostsFile default (~/.ssh/known_hosts and ~/.ssh/known_hosts2), then `extra` files. */
export function userKnownHostsFiles(homeDir: string, extra: readonly string[] = []): string[] {
  return [path.join(homeDir, '.ssh', 'known_hosts'), path.join(homeDir, '.ssh', 'known_hosts2'), ...extra];
}

function hashedMatch(pattern: string, name: string): boolean {
  // |1|base64(salt)|base64(HMAC-SHA1(salt, name)), as ssh-keygen -H and HashKnownHosts write it.
  const parts = pattern.split('|');
  if (parts.length !== 4 || parts[0] !== '' || parts[1] !== '1' || !parts[2] || !parts[3]) return false;
  const salt = Buffer.from(parts[2], 'base64');
  const expected = Buffer.from(parts[3], 'base64');
  if (salt.length !== 20 || expected.length !== 20) return false;
  // ssh looks up (and HashKnownHosts stores) the lower-cased name; a hand-hashed file may keep the case.
  const names = name === name.toLowerCase() ? [name] : [name.toLowerCase(), name];
  return names.some((n) => timingSafeEqual(createHmac('sha1', salt).update(n).digest(), expected));
}

/** OpenSSH semantics: any negated match excludes the entry, otherwise one positive match includes it. */
export function hostMatchesPatterns(patterns: string, name: string): boolean {
  if (patterns.startsWith('|')) return hashedMatch(patterns, name);
  let matched = false;
  for (const p of patterns.split(',')) {
    if (p.startsWith('!')) {
      if (globToRegExp(p.slice(1)).test(name)) return false;
    } else if (globToRegExp(p).test(name)) {
      matched = true;
    }
  }
  return matched;
}

export interface HostKeySources {
  trusted: () => TrustedKey[];
  /**
   * The user's known_hosts files (UserKnownHostsFile). A file named `known_hosts` also brings its
   * `known_hosts2` sibling, as ssh's default does, unless that is listed itself.
   */
  knownHostsFiles: string[];
  /** More user files, e.g. the UserKnownHostsFile paths of an ssh config; read after knownHostsFiles. */
  extraKnownHostsFiles?: string[];
  /** GlobalKnownHostsFile; default GLOBAL_KNOWN_HOSTS_FILES (/etc/ssh/ssh_known_hosts and ..._known_hosts2). */
  globalKnownHostsFiles?: string[];
  readFile?: (path: string) => string;
}

/** Every known_hosts file a verdict reads, in order, without duplicates (see HostKeySources). */
export function knownHostsFilesOf(sources: Pick<HostKeySources, 'knownHostsFiles' | 'extraKnownHostsFiles' | 'globalKnownHostsFiles'>): string[] {
  const files: string[] = [];
  for (const file of sources.knownHostsFiles) {
    files.push(file);
    if (path.basename(file) === 'known_hosts') files.push(`${file}2`);
  }
  files.push(...(sources.extraKnownHostsFiles ?? []), ...(sources.globalKnownHostsFiles ?? GLOBAL_KNOWN_HOSTS_FILES));
  return [...new Set(files)];
}

/**
 * Decides what to make of a presented host key, from the app's own trusted list and the user's
 * known_hosts files. Any key we do not know for an address that has a known key (of any type) is
 * "changed"; so is one marked @revoked. Only an address with no known key gives "unknown" (first
 * contact). Only "trusted" lets a connection proceed.
 */
export function verifyHostKey(host: string, port: number, keyBlob: Buffer, sources: HostKeySources): HostKeyVerdict {
  const presented = describeKey(keyBlob);

  const known: { keyType: string; key: string; source: string; revoked: boolean }[] = [];
  for (const t of sources.trusted()) {
    if (t.host.toLowerCase() === host.toLowerCase() && t.port === port) {
      known.push({ keyType: t.keyType, key: t.key, source: 'Fleetwake trusted keys', revoked: false });
    }
  }
  const name = knownHostsName(host, port);
  const certAuthorities: string[] = [];
  for (const { file, e } of knownHostsEntriesFor(name, sources)) {
    if (e.marker === '@cert-authority') {
      certAuthorities.push(`${file}:${e.line}`);
      continue;
    }
    known.push({ keyType: e.keyType, key: e.key, source: `${file}:${e.line}`, revoked: e.marker === '@revoked' });
  }

  const revoked = known.find((k) => k.revoked && k.key === presented.key);
  if (revoked) {
    return { verdict: 'changed', presented, expectedFingerprint: '(this key is marked @revoked)', source: revoked.source, revoked: true };
  }
  const valid = known.filter((k) => !k.revoked);
  if (valid.some((k) => k.key === presented.key)) return { verdict: 'trusted', presented };
  const sameType = valid.find((k) => k.keyType === presented.keyType);
  if (sameType) {
    const expectedFingerprint = fingerprintOf(Buffer.from(sameType.key, 'base64'));
    return { verdict: 'changed', presented, expectedFingerprint, source: sameType.source };
  }
  // A host we know under another key type that now presents a new type is a changed key too, as
  // OpenSSH treats it: an impostor answers with whatever type it has. (The handshake asks for the
  // known types first, so a real host that still has its old key never gets here.)
  if (valid.length) {
    const fingerprints = [...new Set(valid.map((k) => fingerprintOf(Buffer.from(k.key, 'base64'))))];
    const sources = [...new Set(valid.map((k) => k.source))];
    return { verdict: 'changed', presented, expectedFingerprint: fingerprints.join(', '), source: sources.join(', ') };
  }
  const notes: string[] = [];
  if (certAuthorities.length) {
    notes.push(
      `Your known_hosts trusts a certificate authority for ${name} (@cert-authority at ${certAuthorities.join(', ')}), but Fleetwake does not support SSH host certificates: ` +
        'it cannot check this host through that authority. Compare the fingerprint with the one the server\'s admin gives you (ssh-keygen -lf on its host key) before confirming.',
    );
  }
  return notes.length ? { verdict: 'unknown', presented, note: notes.join(' ') } : { verdict: 'unknown', presented };
}

/**
 * Key types already known for an address (Fleetwake's trusted keys, then the known_hosts files), so
 * the handshake asks the server for those first, as OpenSSH does.
 */
export function preferredHostKeyTypes(host: string, port: number, sources: HostKeySources): string[] {
  const types = sources
    .trusted()
    .filter((t) => t.host.toLowerCase() === host.toLowerCase() && t.port === port)
    .map((t) => t.keyType);
  for (const { e } of knownHostsEntriesFor(knownHostsName(host, port), sources)) {
    if (e.marker === null) types.push(e.keyType);
  }
  return [...new Set(types)];
}

/**
 * Parsed known_hosts files, per path, with the text they were parsed from: each check still reads the
 * file (a few microseconds), and parses it again only when the text differs, so a status over 20 hosts
 * parses each file once instead of twice per host, and any change is seen at the very next check.
 */
const knownHostsCache = new Map<string, { text: string; entries: KnownHostsEntry[] }>();

/** The entries of one file; null when it cannot be read (a missing file simply knows nothing). */
function knownHostsEntriesOf(file: string, readFile: HostKeySources['readFile']): KnownHostsEntry[] | null {
  let text: string;
  try {
    text = (readFile ?? ((p: string) => readFileSync(p, 'utf8')))(file);
  } catch {
    return null;
  }
  const hit = knownHostsCache.get(file);
  if (hit?.text === text) return hit.entries;
  const entries = parseKnownHosts(text);
  if (knownHostsCache.size >= 64) knownHostsCache.clear();
  knownHostsCache.set(file, { text, entries });
  return entries;
}

/** Every known_hosts line (any marker) that names `name`, from the files that can be read. */
function* knownHostsEntriesFor(name: string, sources: HostKeySources) {
  for (const file of knownHostsFilesOf(sources)) {
    const entries = knownHostsEntriesOf(file, sources.readFile);
    if (!entries) continue;
    for (const e of entries) if (hostMatchesPatterns(e.patterns, name)) yield { file, e };
  }
}
