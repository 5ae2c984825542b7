import { execFile, spawn } from 'node:child_process';
import { existsSync, writeFileSync, readFileSync, mkdtempSync } from 'node:fs';
import { promisify } from 'node:util';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestFleet, type TestFleet } from '../support/fleet.js';
import { generateKey, type GeneratedKey } from '../support/keys.js';
import { freePort } from '../support/ports.js';
import { requireTools } from '../support/require-tools.js';
import { startSshd, type SshdHandle } from '../support/sshd.js';
import { authorizeKey, ensureUser } from '../support/users.js';
import { waitFor } from '../support/wait-for.js';

const run = promisify(execFile);

// Real OpenSSH sshd processes, several users and host keys; every connection state reached for real.
let keysDir: string;
let aliceKey: GeneratedKey;
let bobKey: GeneratedKey;
let daveKey: GeneratedKey;
let pemKey: GeneratedKey;
let hostA: SshdHandle; // alice + dave, key auth; also the jump host
let hostB: SshdHandle; // bob, key auth, different host key type
let hostP: SshdHandle; // carol, password + keyboard-interactive (PAM)
const DAVE_PASSPHRASE = 'correct horse battery staple';
const CAROL_PASSWORD = 'carol-Secret-42';

beforeAll(async () => {
  requireTools();
  keysDir = mkdtempSync(join(tmpdir(), 'fleetwake-keys-'));
  [aliceKey, bobKey, daveKey, pemKey] = await Promise.all([
    generateKey(keysDir, { type: 'ed25519', name: 'alice' }),
    generateKey(keysDir, { type: 'ecdsa', name: 'bob' }),
    generateKey(keysDir, { type: 'ed25519', name: 'dave', passphrase: DAVE_PASSPHRASE }),
    generateKey(keysDir, { type: 'rsa', name: 'pem', format: 'pem' }),
  ]);
  await ensureUser('fwtalice');
  await ensureUser('fwtbob');
  await ensureUser('fwtdave');
  await ensureUser('fwtcarol', { password: CAROL_PASSWORD });
  await authorizeKey('fwtalice', aliceKey.publicKey);
  await authorizeKey('fwtalice', pemKey.publicKey);
  await authorizeKey('fwtbob', bobKey.publicKey);
  await authorizeKey('fwtdave', daveKey.publicKey);
  [hostA, hostB, hostP] = await Promise.all([
    startSshd({ allowUsers: ['fwtalice', 'fwtdave'], passwordAuthentication: false }),
    startSshd({ allowUsers: ['fwtbob'], hostKeyType: 'ecdsa', passwordAuthentication: false }),
    startSshd({ allowUsers: ['fwtcarol'], usePam: true, passwordAuthentication: true }),
  ]);
});

afterAll(async () => {
  await Promise.all([hostA, hostB, hostP].map((h) => h?.destroy()));
});

async function addTrusted(t: TestFleet, name: string, sshd: SshdHandle, user: string, identityFile?: string) {
  await t.fleet.addHost({ name, host: sshd.host, port: sshd.port, user, ...(identityFile ? { identityFile } : {}) });
  const s = await t.waitForState(name, 'host-key-unknown');
  await t.fleet.trustHostKey(name, s.fingerprint!);
  return t.waitForState(name, 'online');
}

describe('host keys', () => {
  it('shows an unknown key with its fingerprint, and trusts it only when confirmed', async () => {
    const t = makeTestFleet();
    try {
      await t.fleet.addHost({ name: 'gpu-a', host: hostA.host, port: hostA.port, user: 'fwtalice', identityFile: aliceKey.privatePath });
      const unknown = await t.waitForState('gpu-a', 'host-key-unknown');
      expect(unknown.fingerprint).toBe(hostA.hostKeyFingerprint);
      expect(unknown.keyType).toBe('ssh-ed25519');
      expect(t.statuses.some((s) => s.name === 'gpu-a' && s.state === 'connecting')).toBe(true);

      // A wrong fingerprint trusts nothing.
      const wrong = 'SHA256:' + 'A'.repeat(43);
      await expect(t.fleet.trustHostKey('gpu-a', wrong)).rejects.toMatchObject({ code: 'host-key-mismatch', field: 'fingerprint' });
      await expect(t.fleet.trustHostKey('gpu-a', 'not-a-fingerprint')).rejects.toMatchObject({ code: 'invalid-input' });
      expect((await t.fleet.getStatuses())[0]!.state).toBe('host-key-unknown');

      const online = await t.fleet.trustHostKey('gpu-a', unknown.fingerprint!);
      expect(online.state).toBe('online');
      // The question the user answered is not left behind as a "last error".
      expect(online.lastError).toBeUndefined();
      const r = await t.fleet.connection('gpu-a').exec('id -un');
      expect(r.stdout.trim()).toBe('fwtalice');
    } finally {
      await t.fleet.close();
    }
  });

  it('accepts a key already in ~/.ssh/known_hosts, and blocks loudly when it changed', async () => {
    const t = makeTestFleet();
    try {
      writeFileSync(
        join(t.homeDir, '.ssh', 'known_hosts'),
        `[${hostB.host}]:${hostB.port} ${hostB.hostKeyAlgorithm} ${hostB.hostPublicKey}\n`,
      );
      await t.fleet.addHost({ name: 'gpu-b', host: hostB.host, port: hostB.port, user: 'fwtbob', identityFile: bobKey.privatePath });
      await t.waitForState('gpu-b', 'online');
      expect(t.statuses.some((s) => s.state.startsWith('host-key'))).toBe(false);

      const old = hostB.hostKeyFingerprint;
      await hostB.rotateHostKey();
      const changed = await t.waitForState('gpu-b', 'host-key-changed');
      expect(changed.fingerprint).toBe(hostB.hostKeyFingerprint);
      expect(changed.expectedFingerprint).toBe(old);
      expect(changed.error).toMatch(/HOST KEY CHANGED/);
      // No silent retry lets it through.
      await new Promise((r) => setTimeout(r, 1500));
      expect((await t.fleet.getStatuses())[0]!.state).toBe('host-key-changed');

      // Accepting takes the new fingerprint, explicitly.
      await expect(t.fleet.trustHostKey('gpu-b', old)).rejects.toMatchObject({ code: 'host-key-mismatch' });
      const after = await t.fleet.trustHostKey('gpu-b', hostB.hostKeyFingerprint);
      expect(after.state).toBe('online');
    } finally {
      await t.fleet.close();
    }
  });
});

describe('authentication', () => {
  it('two hosts, different users and host keys, online together; one command is fast over the shared connection', async () => {
    const t = makeTestFleet();
    try {
      await Promise.all([
        addTrusted(t, 'a', hostA, 'fwtalice', aliceKey.privatePath),
        addTrusted(t, 'b', hostB, 'fwtbob', bobKey.privatePath),
      ]);
      const [ra, rb] = await Promise.all([t.fleet.connection('a').exec('whoami'), t.fleet.connection('b').exec('whoami')]);
      expect(ra.stdout.trim()).toBe('fwtalice');
      expect(rb.stdout.trim()).toBe('fwtbob');
      const exit = await t.fleet.connection('a').exec('exit 3');
      expect(exit.code).toBe(3);
    } finally {
      await t.fleet.close();
    }
  });

  it('authenticates through a running ssh-agent, with no key file configured', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleetwake-agent-'));
    const socket = join(dir, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
    try {
      await waitFor('the ssh-agent socket', () => existsSync(socket), { timeoutMs: 5_000, intervalMs: 20 });
      await run('ssh-add', [aliceKey.privatePath], { env: { ...process.env, SSH_AUTH_SOCK: socket } });
      const t = makeTestFleet({ agentSocket: socket });
      try {
        await addTrusted(t, 'via-agent', hostA, 'fwtalice');
        expect((await t.fleet.connection('via-agent').exec('whoami')).stdout.trim()).toBe('fwtalice');
      } finally {
        await t.fleet.close();
      }
    } finally {
      agent.kill();
    }
  });

  it('a PEM key works', async () => {
    const t = makeTestFleet();
    try {
      await addTrusted(t, 'pem', hostA, 'fwtalice', pemKey.privatePath);
    } finally {
      await t.fleet.close();
    }
  });

  it('asks for a key passphrase, retries a wrong one, keeps the deadline paused while waiting', async () => {
    const t = makeTestFleet({ connection: { connectTimeoutMs: 1_500, keepaliveIntervalMs: 1_000, keepaliveCountMax: 2, backoffInitialMs: 200, backoffMaxMs: 1_000 } });
    try {
      const seen: string[] = [];
      t.fleet.on('prompt', (p) => {
        seen.push(p.instructions);
        expect(p.kind).toBe('passphrase');
        expect(p.prompts[0]!.echo).toBe(false);
        // Answer after longer than the connect deadline: the wait must not time the attempt out.
        setTimeout(() => void t.fleet.answerPrompt(p.id, [seen.length === 1 ? 'wrong' : DAVE_PASSPHRASE], false), 2_000);
      });
      await t.fleet.addHost({ name: 'dave', host: hostA.host, port: hostA.port, user: 'fwtdave', identityFile: daveKey.privatePath });
      const s = await t.waitForState('dave', 'host-key-unknown');
      await t.fleet.trustHostKey('dave', s.fingerprint!);
      await t.waitForState('dave', 'online', 20_000);
      expect(seen.length).toBe(2);
      expect(seen[1]).toMatch(/did not unlock/);
      // Not logged, not leaked into statuses.
      expect(JSON.stringify(t.statuses)).not.toContain(DAVE_PASSPHRASE);
    } finally {
      await t.fleet.close();
    }
  });

  it('password from an environment variable; a wrong one is auth-failed with no reconnect storm', async () => {
    // PAM delays each failed try by ~2 s (password, then keyboard-interactive with the same secret);
    // on a loaded machine that outlasts a short test deadline, so this test allows the app default.
    const t = makeTestFleet({
      env: { GOOD_PW: CAROL_PASSWORD, BAD_PW: 'nope' },
      connection: { connectTimeoutMs: 15_000, keepaliveIntervalMs: 1_000, keepaliveCountMax: 2, backoffInitialMs: 200, backoffMaxMs: 1_000 },
    });
    try {
      await t.fleet.addHost({ name: 'carol', host: hostP.host, port: hostP.port, user: 'fwtcarol', passwordEnv: 'GOOD_PW' });
      const s = await t.waitForState('carol', 'host-key-unknown');
      await t.fleet.trustHostKey('carol', s.fingerprint!);
      await t.waitForState('carol', 'online');

      await t.fleet.updateHost('carol', { name: 'carol', host: hostP.host, port: hostP.port, user: 'fwtcarol', passwordEnv: 'BAD_PW' });
      const failed = await t.waitForState('carol', 'auth-failed', 30_000);
      expect(failed.error).toMatch(/Authentication failed for fwtcarol@/);
      const attempts = t.statuses.filter((x) => x.name === 'carol' && x.state === 'connecting').length;
      await new Promise((r) => setTimeout(r, 2_500));
      expect(t.statuses.filter((x) => x.name === 'carol' && x.state === 'connecting').length).toBe(attempts);
    } finally {
      await t.fleet.close();
    }
  });

  it('keyboard-interactive questions are forwarded to the user', async () => {
    const t = makeTestFleet();
    try {
      const kinds: string[] = [];
      t.fleet.on('prompt', (p) => {
        kinds.push(p.kind);
        // Refuse the plain password prompt so the server falls through to keyboard-interactive.
        if (p.kind === 'password') void t.fleet.answerPrompt(p.id, null, false);
        else void t.fleet.answerPrompt(p.id, p.prompts.map(() => CAROL_PASSWORD), false);
      });
      await t.fleet.addHost({ name: 'kbd', host: hostP.host, port: hostP.port, user: 'fwtcarol' });
      const s = await t.waitForState('kbd', 'host-key-unknown');
      await t.fleet.trustHostKey('kbd', s.fingerprint!);
      await t.waitForState('kbd', 'online', 20_000);
      expect(kinds).toContain('keyboard-interactive');
    } finally {
      await t.fleet.close();
    }
  });

  it('a key the server does not accept is auth-failed and says what was tried', async () => {
    const t = makeTestFleet();
    try {
      await t.fleet.addHost({ name: 'wrongkey', host: hostB.host, port: hostB.port, user: 'fwtbob', identityFile: aliceKey.privatePath });
      const s = await t.waitForState('wrongkey', 'host-key-unknown');
      await t.fleet.trustHostKey('wrongkey', s.fingerprint!);
      const failed = await t.waitForState('wrongkey', 'auth-failed');
      expect(failed.error).toMatch(/Check the user, key or password/);
    } finally {
      await t.fleet.close();
    }
  });
});

describe('reachability', () => {
  it('reaches a host through a jump host, and reports the jump when it is down', async () => {
    const t = makeTestFleet();
    try {
      await addTrusted(t, 'bastion', hostA, 'fwtalice', aliceKey.privatePath);
      await t.fleet.addHost({ name: 'inner', host: hostB.host, port: hostB.port, user: 'fwtbob', identityFile: bobKey.privatePath, jump: 'bastion' });
      const s = await t.waitForState('inner', 'host-key-unknown');
      await t.fleet.trustHostKey('inner', s.fingerprint!);
      await t.waitForState('inner', 'online');
      // Through the tunnel the target sees the jump host's sshd as its peer, not us directly.
      const r = await t.fleet.connection('inner').exec('echo $SSH_CONNECTION');
      expect(r.stdout.trim().split(' ')[3]).toBe(String(hostB.port));

      await hostA.stop();
      await t.waitForState('bastion', 'offline');
      await t.waitForState('inner', 'offline');
      await t.fleet.disconnectHost('inner');
      const again = await t.fleet.connectHost('inner');
      expect(again.state).toBe('offline');
      expect(again.error).toMatch(/Jump host bastion/);
    } finally {
      await hostA.start();
      await t.fleet.close();
    }
  });

  it('goes offline when sshd stops and comes back online by itself', async () => {
    const t = makeTestFleet();
    try {
      await addTrusted(t, 'flaky', hostA, 'fwtalice', aliceKey.privatePath);
      await hostA.stop();
      const off = await t.waitForState('flaky', 'offline');
      expect(off.error).toBeTruthy();
      await hostA.start();
      await t.waitForState('flaky', 'online', 15_000);
    } finally {
      await t.fleet.close();
    }
  });

  it('a frozen server is detected by keepalive', async () => {
    const t = makeTestFleet();
    try {
      await addTrusted(t, 'frozen', hostB, 'fwtbob', bobKey.privatePath);
      const t0 = Date.now();
      hostB.freeze();
      await t.waitForState('frozen', 'offline', 10_000);
      expect(Date.now() - t0).toBeLessThan(8_000);
    } finally {
      hostB.thaw();
      await t.fleet.close();
    }
  });

  it('a refused port, a silent server and an unresolvable name are offline / error within 10 s', async () => {
    let silent: Server | undefined;
    const t = makeTestFleet({ keepConnected: false });
    try {
      const closedPort = await freePort();
      silent = createServer(() => {
        /* accept and say nothing, like a half-dead box */
      });
      await new Promise<void>((r) => silent!.listen(0, '127.0.0.1', () => r()));
      const silentPort = (silent.address() as { port: number }).port;
      await t.fleet.addHost({ name: 'refused', host: '127.0.0.1', port: closedPort, user: 'nobody' });
      await t.fleet.addHost({ name: 'silent', host: '127.0.0.1', port: silentPort, user: 'nobody' });
      await t.fleet.addHost({ name: 'nxdomain', host: 'no-such-host.invalid', user: 'nobody' });
      const t0 = Date.now();
      const statuses = await t.fleet.checkHosts();
      expect(Date.now() - t0).toBeLessThan(10_000);
      const by = Object.fromEntries(statuses.map((s) => [s.name, s]));
      expect(by.refused!.state).toBe('offline');
      expect(by.refused!.error).toMatch(/refused/);
      expect(by.silent!.state).toBe('offline');
      expect(by.silent!.error).toMatch(/no answer within/);
      expect(by.nxdomain!.state).toBe('error');
      expect(by.nxdomain!.error).toMatch(/could not be resolved/);
    } finally {
      silent?.close();
      await t.fleet.close();
    }
  });
});

describe('store through the core', () => {
  it('rejected input changes nothing on disk', async () => {
    const t = makeTestFleet({ keepConnected: false });
    try {
      await t.fleet.addHost({ name: 'keep', host: '127.0.0.1', port: 2222, user: 'fwtalice' });
      const file = join(t.dataDir, 'fleetwake.json');
      const before = readFileSync(file, 'utf8');
      await expect(t.fleet.addHost({ name: 'bad name!', host: 'x' })).rejects.toMatchObject({ code: 'invalid-input', field: 'name' });
      await expect(t.fleet.addHost({ name: 'ok', host: 'x', port: 70000 })).rejects.toMatchObject({ field: 'port' });
      await expect(t.fleet.updateHost('keep', { name: 'keep', host: 'a b' })).rejects.toMatchObject({ field: 'host' });
      await expect(t.fleet.addHost({ name: 'KEEP', host: 'x' })).rejects.toMatchObject({ code: 'conflict' });
      expect(readFileSync(file, 'utf8')).toBe(before);
    } finally {
      await t.fleet.close();
    }
  });
});
