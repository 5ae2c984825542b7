/**
 * Issue 10, item 9: known_hosts as OpenSSH reads it. Real keys and real hashed files from ssh-keygen;
 * lines in the form ssh-keyscan prints ("name keytype base64").
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GLOBAL_KNOWN_HOSTS_FILES,
  knownHostsFilesOf,
  userKnownHostsFiles,
  verifyHostKey,
  type HostKeySources,
} from '../../main/ssh/host-keys.js';
import type { TrustedKey } from '../../main/store/types.js';

const SSH_KEYGEN = '/usr/bin/ssh-keygen';
let dir: string;
let ed25519: { type: string; base64: string; blob: Buffer };
let rsa: { type: string; base64: string; blob: Buffer };
let other: { type: string; base64: string; blob: Buffer };

function makeKey(name: string, type: 'ed25519' | 'rsa') {
  const file = path.join(dir, name);
  execFileSync(SSH_KEYGEN, ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-N', '', '-C', '', '-f', file]);
  const [keyType, base64] = fs.readFileSync(`${file}.pub`, 'utf8').trim().split(/\s+/) as [string, string];
  return { type: keyType, base64, blob: Buffer.from(base64, 'base64') };
}

/** ssh-keyscan's output form. */
const scanLine = (name: string, key: { type: string; base64: string }) => `${name} ${key.type} ${key.base64}`;

/** Writes `lines` and hashes the file with ssh-keygen -H, as HashKnownHosts would have. */
function hashedFile(name: string, lines: string[]): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  execFileSync(SSH_KEYGEN, ['-H', '-f', file], { stdio: 'ignore' });
  fs.rmSync(`${file}.old`, { force: true });
  return file;
}

const none: string[] = [];
const sources = (extra: Partial<HostKeySources>, trusted: TrustedKey[] = []): HostKeySources => ({
  trusted: () => trusted,
  knownHostsFiles: [],
  globalKnownHostsFiles: none,
  ...extra,
});

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetwake-hostkeys-'));
  ed25519 = makeKey('host_ed25519', 'ed25519');
  rsa = makeKey('host_rsa', 'rsa');
  other = makeKey('other_ed25519', 'ed25519');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('hashed known_hosts entries (ssh-keygen -H)', () => {
  it('match the bare name on port 22 and [host]:port elsewhere, and nothing else', () => {
    const file = hashedFile('hashed', [scanLine('gpu1.lan', ed25519), scanLine('[10.0.0.5]:2222', rsa)]);
    const text = fs.readFileSync(file, 'utf8');
    expect(text).toMatch(/^\|1\|[A-Za-z0-9+/=]+\|[A-Za-z0-9+/=]+ ssh-ed25519 /m);
    expect(text).not.toContain('gpu1.lan');
    const s = sources({ knownHostsFiles: [file] });
    expect(verifyHostKey('gpu1.lan', 22, ed25519.blob, s).verdict).toBe('trusted');
    expect(verifyHostKey('10.0.0.5', 2222, rsa.blob, s).verdict).toBe('trusted');
    expect(verifyHostKey('gpu1.lan', 2222, ed25519.blob, s).verdict).toBe('unknown');
    expect(verifyHostKey('gpu2.lan', 22, ed25519.blob, s).verdict).toBe('unknown');
    const changed = verifyHostKey('gpu1.lan', 22, other.blob, s);
    expect(changed).toMatchObject({ verdict: 'changed', source: `${file}:1` });
  });

  it('match a name typed in capitals, as ssh lower-cases it before looking it up', () => {
    const file = hashedFile('hashed-lower', [scanLine('gpu1.lan', ed25519)]);
    expect(verifyHostKey('GPU1.lan', 22, ed25519.blob, sources({ knownHostsFiles: [file] })).verdict).toBe('trusted');
  });

  it('ignore damaged hashes instead of throwing', () => {
    const file = path.join(dir, 'damaged');
    fs.writeFileSync(file, `|1|bm90IGEgc2FsdA==|x ${ed25519.type} ${ed25519.base64}\n|1|| ${ed25519.type} ${ed25519.base64}\n|2|a|b ${ed25519.type} ${ed25519.base64}\n`);
    expect(verifyHostKey('gpu1.lan', 22, ed25519.blob, sources({ knownHostsFiles: [file] })).verdict).toBe('unknown');
  });
});

describe('which files are read', () => {
  it('by default: known_hosts, its known_hosts2 sibling, then /etc/ssh/ssh_known_hosts and ssh_known_hosts2', () => {
    const home = '/home/u';
    expect(userKnownHostsFiles(home)).toEqual(['/home/u/.ssh/known_hosts', '/home/u/.ssh/known_hosts2']);
    expect(GLOBAL_KNOWN_HOSTS_FILES).toEqual(['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2']);
    expect(knownHostsFilesOf({ knownHostsFiles: ['/home/u/.ssh/known_hosts'] })).toEqual([
      '/home/u/.ssh/known_hosts',
      '/home/u/.ssh/known_hosts2',
      '/etc/ssh/ssh_known_hosts',
      '/etc/ssh/ssh_known_hosts2',
    ]);
    expect(knownHostsFilesOf({ knownHostsFiles: userKnownHostsFiles(home, ['/work/kh']), globalKnownHostsFiles: [] })).toEqual([
      '/home/u/.ssh/known_hosts',
      '/home/u/.ssh/known_hosts2',
      '/work/kh',
    ]);
  });

  it('reads ~/.ssh/known_hosts2 when only ~/.ssh/known_hosts was given (as the core passes it)', () => {
    const ssh = path.join(dir, 'home', '.ssh');
    fs.mkdirSync(ssh, { recursive: true });
    hashedFile(path.join('home', '.ssh', 'known_hosts2'), [scanLine('gpu1.lan', ed25519)]);
    const v = verifyHostKey('gpu1.lan', 22, ed25519.blob, sources({ knownHostsFiles: [path.join(ssh, 'known_hosts')] }));
    expect(v.verdict).toBe('trusted');
  });

  it('reads the global file and extra UserKnownHostsFile paths', () => {
    const global = path.join(dir, 'ssh_known_hosts');
    fs.writeFileSync(global, scanLine('gpu1.lan,10.0.0.5', ed25519) + '\n');
    const extra = hashedFile('extra_known_hosts', [scanLine('[gpu2.lan]:2200', rsa)]);
    expect(verifyHostKey('10.0.0.5', 22, ed25519.blob, sources({ globalKnownHostsFiles: [global] })).verdict).toBe('trusted');
    expect(verifyHostKey('gpu2.lan', 2200, rsa.blob, sources({ extraKnownHostsFiles: [extra] })).verdict).toBe('trusted');
    // The real default global paths are part of the default list (read when they exist).
    const seen: string[] = [];
    verifyHostKey('gpu1.lan', 22, ed25519.blob, {
      trusted: () => [],
      knownHostsFiles: ['/nowhere/.ssh/known_hosts'],
      readFile: (p) => {
        seen.push(p);
        throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      },
    });
    expect(seen).toEqual(['/nowhere/.ssh/known_hosts', '/nowhere/.ssh/known_hosts2', '/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2']);
  });
});

describe('markers', () => {
  it('@cert-authority for the host: says plainly that host certificates are not supported', () => {
    const file = path.join(dir, 'ca_known_hosts');
    fs.writeFileSync(file, `@cert-authority *.lan ${other.type} ${other.base64}\n`);
    const v = verifyHostKey('gpu1.lan', 22, ed25519.blob, sources({ knownHostsFiles: [file] }));
    expect(v.verdict).toBe('unknown');
    expect(v.verdict === 'unknown' && v.note).toContain(`@cert-authority at ${file}:1`);
    expect(v.verdict === 'unknown' && v.note).toContain('Fleetwake does not support SSH host certificates');
    // Not for a host the authority does not cover.
    const elsewhere = verifyHostKey('gpu1.example.com', 22, ed25519.blob, sources({ knownHostsFiles: [file] }));
    expect(elsewhere).toEqual({ verdict: 'unknown', presented: expect.anything() });
  });

  it('@revoked (hashed or not) refuses that key even when Fleetwake and another line trust it', () => {
    const trustedKey: TrustedKey = { host: 'gpu1.lan', port: 22, keyType: ed25519.type, fingerprint: 'SHA256:x', key: ed25519.base64, addedAt: '2026-01-01T00:00:00.000Z' };
    const plain = path.join(dir, 'revoked_plain');
    fs.writeFileSync(plain, `${scanLine('gpu1.lan', ed25519)}\n@revoked * ${ed25519.type} ${ed25519.base64}\n`);
    const v1 = verifyHostKey('gpu1.lan', 22, ed25519.blob, sources({ knownHostsFiles: [plain] }, [trustedKey]));
    expect(v1).toMatchObject({ verdict: 'changed', source: `${plain}:2` });
    expect(v1.verdict === 'changed' && v1.expectedFingerprint).toMatch(/@revoked/);

    const hashed = hashedFile('revoked_hashed', [scanLine('gpu1.lan', ed25519)]);
    const hashedLine = fs.readFileSync(hashed, 'utf8').trim().split(/\s+/)[0];
    fs.writeFileSync(hashed, `@revoked ${hashedLine} ${ed25519.type} ${ed25519.base64}\n`);
    expect(verifyHostKey('gpu1.lan', 22, ed25519.blob, sources({ knownHostsFiles: [hashed] }, [trustedKey])).verdict).toBe('changed');
    // Another key of that host is not affected.
    expect(verifyHostKey('gpu1.lan', 22, rsa.blob, sources({ knownHostsFiles: [hashed] })).verdict).toBe('unknown');
  });
});

describe('parsing each file once per change', () => {
  it('sees every change to a known_hosts file at the next check: a key removed, marked @revoked, or replaced by a same-size line', () => {
    const file = path.join(dir, 'cached_known_hosts');
    const check = () => verifyHostKey('gpu9.lan', 22, ed25519.blob, sources({ knownHostsFiles: [file] })).verdict;
    fs.writeFileSync(file, scanLine('gpu9.lan', ed25519) + '\n');
    expect(check()).toBe('trusted');
    expect(check()).toBe('trusted'); // served from the parsed copy
    // Same length, another key (both ed25519 lines are the same size): content changes, size does not.
    fs.writeFileSync(file, scanLine('gpu9.lan', other) + '\n');
    expect(check()).toBe('changed');
    fs.writeFileSync(file, `@revoked ${scanLine('gpu9.lan', ed25519)}\n`);
    expect(check()).toBe('changed');
    // Replaced by rename, as editors and ssh-keygen -R do.
    fs.writeFileSync(`${file}.new`, scanLine('gpu9.lan', ed25519) + '\n');
    fs.renameSync(`${file}.new`, file);
    expect(check()).toBe('trusted');
    fs.rmSync(file);
    expect(check()).toBe('unknown');
  });
});
