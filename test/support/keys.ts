/**
 * SSH key pairs made by the real `ssh-keygen`, so the keys under test are exactly what users have
 * (OpenSSH-format and PEM, with and without passphrase).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type KeyType = 'ed25519' | 'rsa' | 'ecdsa';

export interface GenerateKeyOptions {
  type: KeyType;
  /** Encrypt the private key with this passphrase (default: unencrypted). */
  passphrase?: string;
  /** 'openssh' (default) or 'pem' (`-m PEM`, classic PKCS#1/SEC1; rsa and ecdsa only). */
  format?: 'openssh' | 'pem';
  comment?: string;
  /** File name inside `dir` (default: id_<type>, made unique). */
  name?: string;
}

export interface GeneratedKey {
  type: KeyType;
  privatePath: string;
  publicPath: string;
  /** The .pub line: "<algorithm> <base64> <comment>". */
  publicKey: string;
  /** "SHA256:..." as printed by `ssh-keygen -lf` (no '=' padding). */
  fingerprint: string;
}

/** Small bit sizes where allowed: keygen speed matters in tests, strength does not. */
const BITS: Record<KeyType, string[]> = { ed25519: [], rsa: ['-b', '2048'], ecdsa: ['-b', '256'] };

let counter = 0;

/** SHA256 fingerprint of a public key file (or private key file; ssh-keygen reads either). */
export async function fingerprintOf(keyPath: string): Promise<string> {
  const { stdout } = await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', keyPath]);
  const fp = stdout.split(/\s+/)[1];
  if (!fp?.startsWith('SHA256:')) throw new Error(`unexpected ssh-keygen -l output: ${stdout}`);
  return fp;
}

export async function generateKey(dir: string, opts: GenerateKeyOptions): Promise<GeneratedKey> {
  const format = opts.format ?? 'openssh';
  if (format === 'pem' && opts.type === 'ed25519') {
    // ssh-keygen silently writes OpenSSH format for ed25519 even with -m PEM; say so instead.
    throw new Error('generateKey: ed25519 keys have no PEM format; use rsa or ecdsa for format "pem"');
  }
  await mkdir(dir, { recursive: true });
  let privatePath = path.join(dir, opts.name ?? `id_${opts.type}`);
  // ssh-keygen prompts before overwriting (and fails without a tty), so pick a fresh name.
  while (existsSync(privatePath) || existsSync(`${privatePath}.pub`)) {
    privatePath = path.join(dir, `${opts.name ?? `id_${opts.type}`}_${process.pid}_${++counter}`);
  }
  const args = ['-q', '-t', opts.type, ...BITS[opts.type], '-N', opts.passphrase ?? '', '-f', privatePath];
  args.push('-C', opts.comment ?? `fleetwake-test-${opts.type}`);
  if (format === 'pem') args.push('-m', 'PEM');
  await run('ssh-keygen', args);
  await chmod(privatePath, 0o600);
  const publicPath = `${privatePath}.pub`;
  const publicKey = (await readFile(publicPath, 'utf8')).trim();
  return { type: opts.type, privatePath, publicPath, publicKey, fingerprint: await fingerprintOf(publicPath) };
}
