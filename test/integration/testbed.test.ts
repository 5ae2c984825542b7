/**
 * Proves the real-OpenSSH test bed itself (test/support/*), with the system ssh client and ssh2, so
 * that a failing feature test never has to wonder whether the bed is to blame.
 */
import { createHash } from 'node:crypto';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, type ConnectConfig } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKey, type GeneratedKey } from '../support/keys.js';
import { freePort } from '../support/ports.js';
import { requireTools, TESTBED_TOOLS } from '../support/require-tools.js';
import { descendants, isRunning, sshExec, startSshd, type SshdHandle } from '../support/sshd.js';
import { authorizeKey, ensureUser } from '../support/users.js';

const BEDPW_PW = 'fwt-bedpw-Pa55!';

let tmp: string;
let aliceKey: GeneratedKey;
let bobKey: GeneratedKey;
let hostA: SshdHandle; // ed25519 host key, UsePAM no
let hostB: SshdHandle; // rsa host key, UsePAM yes (keyboard-interactive)
const handles: SshdHandle[] = [];

/** ssh2 fingerprint exactly as FIELD-NOTES says: 'SHA256:' + unpadded base64(sha256(key)). */
function ssh2Fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

interface Connected {
  client: Client;
  fingerprint: string;
  prompts: string[];
}

/** Connect with ssh2; resolves when ready. hostVerifier has a block body returning nothing (ssh2 trap). */
function connect(h: SshdHandle, cfg: Partial<ConnectConfig>): Promise<Connected> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    const seen = { fingerprint: '', prompts: [] as string[] };
    client.on('keyboard-interactive', (_name, _instr, _lang, prompts, finish) => {
      seen.prompts.push(...prompts.map((p) => p.prompt));
      finish(prompts.map(() => BEDPW_PW));
    });
    client.once('ready', () => {
      client.setNoDelay(true);
      resolve({ client, ...seen });
    });
    client.once('error', reject);
    try {
      client.connect({
        host: h.host,
        port: h.port,
        readyTimeout: 10_000,
        hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
          seen.fingerprint = ssh2Fingerprint(key);
          verify(true);
        },
        ...cfg,
      });
    } catch (err) {
      reject(err);
    }
  });
}

function exec(client: Client, command: string): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, stream) => {
      if (err) return reject(err);
      let stdout = '';
      let code = -1;
      stream.on('data', (d: Buffer) => (stdout += d));
      stream.stderr.resume();
      stream.on('exit', (c: number) => (code = c));
      stream.on('close', () => resolve({ code, stdout }));
    });
  });
}

function tcpError(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.on('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

beforeAll(async () => {
  requireTools([...TESTBED_TOOLS, 'ssh-keyscan']);
  tmp = mkdtempSync(path.join(os.tmpdir(), 'fwt-testbed-'));
  [aliceKey, bobKey] = await Promise.all([
    generateKey(tmp, { type: 'ed25519', comment: 'alice@testbed' }),
    generateKey(tmp, { type: 'rsa', format: 'pem', comment: 'bob@testbed' }),
  ]);
  await ensureUser('fwtalice');
  await ensureUser('fwtbob');
  await ensureUser('fwtbedpw', { password: BEDPW_PW });
  await authorizeKey('fwtalice', aliceKey.publicKey);
  await authorizeKey('fwtalice', aliceKey.publicKey); // idempotent: must not duplicate
  await authorizeKey('fwtbob', bobKey.publicKey);
  const users = ['fwtalice', 'fwtbob', 'fwtbedpw'];
  [hostA, hostB] = await Promise.all([
    startSshd({ allowUsers: users }),
    startSshd({ allowUsers: users, hostKeyType: 'rsa', usePam: true }),
  ]);
  handles.push(hostA, hostB);
});

afterAll(async () => {
  await Promise.all(handles.map((h) => h.destroy()));
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('test bed: keys and users', () => {
  it('generates keys in the requested formats with ssh-keygen fingerprints', async () => {
    expect(readFileSync(aliceKey.privatePath, 'utf8')).toContain('BEGIN OPENSSH PRIVATE KEY');
    expect(readFileSync(bobKey.privatePath, 'utf8')).toContain('BEGIN RSA PRIVATE KEY');
    expect(aliceKey.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    const enc = await generateKey(tmp, { type: 'ecdsa', passphrase: 'pp' });
    // The passphrase is really applied: -y with it works, without it fails.
    expect(execFileSync('ssh-keygen', ['-y', '-P', 'pp', '-f', enc.privatePath]).toString()).toContain('ecdsa-sha2-nistp256');
    expect(() => execFileSync('ssh-keygen', ['-y', '-P', '', '-f', enc.privatePath], { stdio: 'pipe' })).toThrow();
    await expect(generateKey(tmp, { type: 'ed25519', format: 'pem' })).rejects.toThrow(/no PEM/);
  });

  it('ensureUser leaves key-only users unlocked and authorizeKey is idempotent', () => {
    const shadow = readFileSync('/etc/shadow', 'utf8');
    expect(shadow).toMatch(/^fwtalice:\*:/m);
    const keys = readFileSync('/home/fwtalice/.ssh/authorized_keys', 'utf8');
    expect(keys.split('\n').filter((l) => l === aliceKey.publicKey)).toHaveLength(1);
  });

  it('freePort never hands out the same port twice', async () => {
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    expect(new Set(ports).size).toBe(20);
  });

  it('requireTools names the package to install', () => {
    expect(() => requireTools(['/usr/sbin/no-such-sshd', 'ip'])).toThrow(/missing tools: \/usr\/sbin\/no-such-sshd/);
    expect(() => requireTools(['sshd-nope', 'ssh-keygen'])).not.toThrow(/openssh/);
    expect(() => requireTools(['/nonexistent/sshd'])).toThrow('apt-get install -y openssh-server');
  });
});

describe('test bed: real sshd', () => {
  it('key login as two users on two sshd with different host keys (OpenSSH client)', async () => {
    const [a, b, wrong] = await Promise.all([
      sshExec(hostA, 'fwtalice', aliceKey.privatePath, 'id -un'),
      sshExec(hostB, 'fwtbob', bobKey.privatePath, 'id -un; echo err >&2; exit 3'),
      sshExec(hostA, 'fwtbob', aliceKey.privatePath, 'true'),
    ]);
    expect(a).toMatchObject({ code: 0, stdout: 'fwtalice\n' });
    expect(b).toMatchObject({ code: 3, stdout: 'fwtbob\n', stderr: 'err\n' });
    expect(wrong.code).toBe(255);
    expect(hostA.port).not.toBe(hostB.port);
    expect(hostA.hostKeyFingerprint).not.toBe(hostB.hostKeyFingerprint);
    expect([hostA.hostKeyAlgorithm, hostB.hostKeyAlgorithm]).toEqual(['ssh-ed25519', 'ssh-rsa']);
    // What the server really presents is the key the handle reports.
    const scan = execFileSync('ssh-keyscan', ['-p', String(hostA.port), '-t', 'ed25519', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    expect(scan).toContain(`ssh-ed25519 ${hostA.hostPublicKey}`);
    expect(hostA.readLog()).toContain('Accepted publickey for fwtalice');
  });

  it("ssh2 hostVerifier fingerprint equals hostKeyFingerprint; password login works (UsePAM no)", async () => {
    const { client, fingerprint } = await connect(hostA, { username: 'fwtbedpw', password: BEDPW_PW });
    try {
      expect(fingerprint).toBe(hostA.hostKeyFingerprint);
      expect(await exec(client, 'id -un')).toEqual({ code: 0, stdout: 'fwtbedpw\n' });
    } finally {
      client.end();
    }
    const b = await connect(hostB, { username: 'fwtbob', privateKey: readFileSync(bobKey.privatePath) });
    b.client.end();
    expect(b.fingerprint).toBe(hostB.hostKeyFingerprint);
  });

  it('keyboard-interactive via ssh2 tryKeyboard on a UsePAM yes instance', async () => {
    const { client, prompts } = await connect(hostB, { username: 'fwtbedpw', tryKeyboard: true });
    try {
      expect(prompts.length).toBeGreaterThan(0);
      expect(prompts[0]).toMatch(/password/i);
      expect(await exec(client, 'id -un')).toEqual({ code: 0, stdout: 'fwtbedpw\n' });
    } finally {
      client.end();
    }
  });

  it('stop() drops live clients and refuses new ones; start() restores the same port and key', async () => {
    const h = await startSshd({ allowUsers: ['fwtalice'] });
    handles.push(h);
    const { client } = await connect(h, { username: 'fwtalice', privateKey: readFileSync(aliceKey.privatePath) });
    await exec(client, 'true'); // a session channel makes the per-connection child tree real
    const listener = h.pid!;
    expect(descendants(listener).length).toBeGreaterThan(0);
    const connChildren = descendants(listener);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.on('error', () => {}); // a reset may surface as error before close
    await h.stop();
    await closed;
    expect(h.pid).toBeNull();
    for (const p of [listener, ...connChildren]) expect(isRunning(p)).toBe(false);
    expect(await tcpError(h.port)).toBe('ECONNREFUSED');
    await expect(connect(h, { username: 'fwtalice', privateKey: readFileSync(aliceKey.privatePath) })).rejects.toMatchObject({ code: 'ECONNREFUSED' });

    const { port, hostKeyFingerprint } = h;
    await h.start();
    expect(h.port).toBe(port);
    const again = await connect(h, { username: 'fwtalice', privateKey: readFileSync(aliceKey.privatePath) });
    again.client.end();
    expect(again.fingerprint).toBe(hostKeyFingerprint);
    expect(h.hostKeyFingerprint).toBe(hostKeyFingerprint);

    // rotateHostKey: new key of the same type, same port, fields updated, server presents it.
    const oldBlob = h.hostPublicKey;
    await h.rotateHostKey();
    expect(h.port).toBe(port);
    expect(h.hostKeyFingerprint).not.toBe(hostKeyFingerprint);
    expect(h.hostPublicKey).not.toBe(oldBlob);
    const rotated = await connect(h, { username: 'fwtalice', privateKey: readFileSync(aliceKey.privatePath) });
    rotated.client.end();
    expect(rotated.fingerprint).toBe(h.hostKeyFingerprint);
    expect((await sshExec(h, 'fwtalice', aliceKey.privatePath, 'echo ok')).stdout).toBe('ok\n');
  });

  it('freeze() hangs the server so keepalive fires; thaw() brings it back', async () => {
    const h = hostA;
    const { client } = await connect(h, {
      username: 'fwtalice',
      privateKey: readFileSync(aliceKey.privatePath),
      keepaliveInterval: 500,
      keepaliveCountMax: 2,
    });
    await exec(client, 'true');
    const t0 = Date.now();
    const failed = new Promise<Error>((resolve) => client.once('error', resolve));
    h.freeze();
    try {
      const err = await failed;
      expect(err.message).toMatch(/Keepalive timeout/);
      expect(Date.now() - t0).toBeLessThan(5000);
    } finally {
      h.thaw();
      client.end();
    }
    expect((await sshExec(h, 'fwtalice', aliceKey.privatePath, 'echo back')).stdout).toBe('back\n');
  });

  it('startSshd fails with a clear message on a bad config or a taken port', async () => {
    await expect(startSshd({ extraConfig: ['NoSuchOption yes'] })).rejects.toThrow(/sshd -t rejected.*NoSuchOption/s);
    // hostA answers banners on that port; the bed must still notice that ITS sshd failed to bind.
    await expect(startSshd({ port: hostA.port })).rejects.toThrow(/did not come up[^]*Address already in use/);
  });

  it('a test process killed by SIGTERM or SIGKILL leaves no sshd behind', async () => {
    const script = path.join(tmp, 'orphan.mts');
    const sshdModule = path.resolve(import.meta.dirname, '../support/sshd.ts');
    writeFileSync(script, `import { startSshd } from ${JSON.stringify(sshdModule)};
const h = await startSshd();
console.log(h.pid + ' ' + h.dir);
setInterval(() => {}, 1000);
`);
    const runOrphan = (sig: NodeJS.Signals) =>
      new Promise<{ pid: number; dir: string }>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
        child.stdout.once('data', (d: Buffer) => {
          const [pid, dir] = d.toString().trim().split(' ');
          child.once('exit', () => resolve({ pid: Number(pid), dir: dir! }));
          child.kill(sig);
        });
        child.once('error', reject);
      });
    const orphans = await Promise.all([runOrphan('SIGTERM'), runOrphan('SIGKILL')]);
    await new Promise((r) => setTimeout(r, 200)); // pdeathsig delivery is asynchronous
    for (const o of orphans) expect(isRunning(o.pid)).toBe(false);
    // SIGTERM ran the cleanup hook; SIGKILL could not, so its dir is ours to remove.
    expect(existsSync(orphans[0]!.dir)).toBe(false);
    rmSync(orphans[1]!.dir, { recursive: true, force: true });
  });
});
