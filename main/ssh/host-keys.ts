import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
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
  | { verdict: 'changed'; presented: PresentedKey; expectedFingerprint: string; source: string };

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

function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, 'i');
}

function hashedMatch(pattern: string, name: string): boolean {
  // |1|base64(salt)|base64(HMAC-SHA1(salt, name))
  const [, kind, salt, hash] = pattern.split('|');
  if (kind !== '1' || !salt || !hash) return false;
  const mac = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
  return mac === hash;
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
  knownHostsFiles: string[];
  readFile?: (path: string) => string;
}

/**
 * Decides what to make of a presented host key, from the app's own trusted list and the user's
 * known_hosts files. A key that differs from one we know for the same address and key type is
 * "changed"; so is one marked @revoked. Only "trusted" lets a connection proceed.
 */
export function verifyHostKey(host: string, port: number, keyBlob: Buffer, sources: HostKeySources): HostKeyVerdict {
  const presented = describeKey(keyBlob);
  const read = sources.readFile ?? ((p: string) => readFileSync(p, 'utf8'));

  const known: { keyType: string; key: string; source: string; revoked: boolean }[] = [];
  for (const t of sources.trusted()) {
    if (t.host.toLowerCase() === host.toLowerCase() && t.port === port) {
      known.push({ keyType: t.keyType, key: t.key, source: 'Fleetwake trusted keys', revoked: false });
    }
  }
  const name = knownHostsName(host, port);
  for (const file of sources.knownHostsFiles) {
    let text: string;
    try {
      text = read(file);
    } catch {
      continue;
    }
    for (const e of parseKnownHosts(text)) {
      if (e.marker === '@cert-authority') continue;
      if (!hostMatchesPatterns(e.patterns, name)) continue;
      known.push({ keyType: e.keyType, key: e.key, source: `${file}:${e.line}`, revoked: e.marker === '@revoked' });
    }
  }

  const revoked = known.find((k) => k.revoked && k.key === presented.key);
  if (revoked) {
    return { verdict: 'changed', presented, expectedFingerprint: '(this key is marked @revoked)', source: revoked.source };
  }
  if (known.some((k) => !k.revoked && k.key === presented.key)) return { verdict: 'trusted', presented };
  const sameType = known.find((k) => !k.revoked && k.keyType === presented.keyType);
  if (sameType) {
    const expectedFingerprint = fingerprintOf(Buffer.from(sameType.key, 'base64'));
    return { verdict: 'changed', presented, expectedFingerprint, source: sameType.source };
  }
  const otherTypes = [...new Set(known.filter((k) => !k.revoked).map((k) => k.keyType))];
  return otherTypes.length
    ? { verdict: 'unknown', presented, note: `Known with a different key type (${otherTypes.join(', ')}).` }
    : { verdict: 'unknown', presented };
}

/** Key types we already trust for an address, so the handshake asks the server for those first. */
export function preferredHostKeyTypes(host: string, port: number, sources: HostKeySources): string[] {
  const types = sources
    .trusted()
    .filter((t) => t.host.toLowerCase() === host.toLowerCase() && t.port === port)
    .map((t) => t.keyType);
  return [...new Set(types)];
}
