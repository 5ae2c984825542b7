import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFleetStore } from '../../main/store/fleet-store.js';
import { makeTestFleet } from '../support/fleet.js';
import { generateKey, type GeneratedKey } from '../support/keys.js';
import { requireTools } from '../support/require-tools.js';
import { startSshd, type SshdHandle } from '../support/sshd.js';
import { authorizeKey, ensureUser } from '../support/users.js';

// Issue 10 item 2: a key of a NEW type for a host we already know is a changed key, not a first
// contact; and the handshake asks for the types we know so a real host never shows that dialog.
let keysDir: string;
let userKey: GeneratedKey;
let ecdsaHostKey: GeneratedKey;
const sshds: SshdHandle[] = [];

beforeAll(async () => {
  requireTools();
  keysDir = mkdtempSync(join(tmpdir(), 'fleetwake-keytypes-'));
  [userKey, ecdsaHostKey] = await Promise.all([
    generateKey(keysDir, { type: 'ed25519', name: 'user' }),
    generateKey(keysDir, { type: 'ecdsa', name: 'host_ecdsa' }),
  ]);
  await ensureUser('fwtkeytype');
  await authorizeKey('fwtkeytype', userKey.publicKey);
});

afterAll(async () => {
  await Promise.all(sshds.map((s) => s.destroy()));
});

async function sshd(opts: Parameters<typeof startSshd>[0]): Promise<SshdHandle> {
  const s = await startSshd({ allowUsers: ['fwtkeytype'], passwordAuthentication: false, ...opts });
  sshds.push(s);
  return s;
}

/** ecdsa blob and the `ssh-keygen -lf` fingerprint of the extra host key. */
function ecdsaPub(): { algorithm: string; blob: string } {
  const [algorithm, blob] = readFileSync(ecdsaHostKey.publicPath, 'utf8').trim().split(/\s+/) as [string, string];
  return { algorithm, blob };
}

describe('host key types', () => {
  it('a host trusted with ed25519 that now offers only ecdsa is host-key-changed with the old fingerprint, not unknown', async () => {
    const first = await sshd({ hostKeyType: 'ed25519' });
    const t = makeTestFleet();
    try {
      await t.fleet.addHost({ name: 'kt', host: first.host, port: first.port, user: 'fwtkeytype', identityFile: userKey.privatePath });
      const unknown = await t.waitForState('kt', 'host-key-unknown');
      expect(unknown.keyType).toBe('ssh-ed25519');
      await t.fleet.trustHostKey('kt', unknown.fingerprint!);
      await t.waitForState('kt', 'online');
      const oldFingerprint = first.hostKeyFingerprint;

      // The impostor on the same address and port has only an ecdsa key.
      await first.stop();
      const impostor = await sshd({ hostKeyType: 'ecdsa', port: first.port });
      const changed = await t.waitForState('kt', 'host-key-changed');
      expect(changed.keyType).toBe('ecdsa-sha2-nistp256');
      expect(changed.fingerprint).toBe(impostor.hostKeyFingerprint);
      expect(changed.expectedFingerprint).toBe(oldFingerprint);
      expect(changed.error).toMatch(/HOST KEY CHANGED/);
      expect(t.statuses.filter((s) => s.name === 'kt' && s.state === 'host-key-unknown')).toHaveLength(1);
      // Blocked: no retry lets it through.
      await new Promise((r) => setTimeout(r, 1_500));
      expect((await t.fleet.getStatuses())[0]!.state).toBe('host-key-changed');
      await impostor.stop();
    } finally {
      await t.fleet.close();
    }
  });

  it('a known_hosts entry of another type also makes a new key type a changed key', async () => {
    const s = await sshd({ hostKeyType: 'ecdsa' });
    const other = await sshd({ hostKeyType: 'ed25519' });
    const t = makeTestFleet();
    try {
      // known_hosts knows the address with an ed25519 key (not the one the server has).
      writeFileSync(join(t.homeDir, '.ssh', 'known_hosts'), `[${s.host}]:${s.port} ${other.hostKeyAlgorithm} ${other.hostPublicKey}\n`);
      await t.fleet.addHost({ name: 'kh', host: s.host, port: s.port, user: 'fwtkeytype', identityFile: userKey.privatePath });
      const changed = await t.waitForState('kh', 'host-key-changed');
      expect(changed.fingerprint).toBe(s.hostKeyFingerprint);
      expect(changed.expectedFingerprint).toBe(other.hostKeyFingerprint);
      expect(changed.error).toContain('known_hosts:1');
    } finally {
      await t.fleet.close();
    }
  });

  it('a host with ed25519 and ecdsa keys whose ecdsa key is in known_hosts connects without any dialog', async () => {
    const s = await sshd({ hostKeyType: 'ed25519', extraConfig: [`HostKey ${ecdsaHostKey.privatePath}`] });
    const t = makeTestFleet();
    try {
      const { algorithm, blob } = ecdsaPub();
      writeFileSync(join(t.homeDir, '.ssh', 'known_hosts'), `[${s.host}]:${s.port} ${algorithm} ${blob}\n`);
      await t.fleet.addHost({ name: 'both', host: s.host, port: s.port, user: 'fwtkeytype', identityFile: userKey.privatePath });
      await t.waitForState('both', 'online');
      expect(t.statuses.some((x) => x.state.startsWith('host-key'))).toBe(false);
    } finally {
      await t.fleet.close();
    }
  });

  it('a host with ed25519 and ecdsa keys whose ecdsa key Fleetwake trusts connects without any dialog', async () => {
    const s = await sshd({ hostKeyType: 'ed25519', extraConfig: [`HostKey ${ecdsaHostKey.privatePath}`] });
    const dataDir = mkdtempSync(join(tmpdir(), 'fleetwake-keytypes-data-'));
    const store = openFleetStore(dataDir);
    const { algorithm, blob } = ecdsaPub();
    store.update((d) => ({
      ...d,
      trustedKeys: [{ host: s.host, port: s.port, keyType: algorithm, fingerprint: ecdsaHostKey.fingerprint, key: blob, addedAt: new Date().toISOString() }],
    }));
    const t = makeTestFleet({ store });
    try {
      await t.fleet.addHost({ name: 'both2', host: s.host, port: s.port, user: 'fwtkeytype', identityFile: userKey.privatePath });
      await t.waitForState('both2', 'online');
      expect(t.statuses.some((x) => x.state.startsWith('host-key'))).toBe(false);
    } finally {
      await t.fleet.close();
    }
  });

  it("an imported host's UserKnownHostsFile is read for its key, as OpenSSH reads it", async () => {
    const s = await sshd({ hostKeyType: 'ed25519' });
    const t = makeTestFleet();
    try {
      const kh = join(t.homeDir, '.ssh', 'known_hosts.d', 'work');
      mkdirSync(dirname(kh), { recursive: true });
      writeFileSync(kh, `[${s.host}]:${s.port} ${s.hostKeyAlgorithm} ${s.hostPublicKey}\n`);
      const cfg = join(t.homeDir, '.ssh', 'config');
      const block = (alias: string, extra: string) =>
        `Host ${alias}\n  HostName ${s.host}\n  Port ${s.port}\n  User fwtkeytype\n  IdentityFile ${userKey.privatePath}\n${extra}`;
      writeFileSync(cfg, `${block('work', `  UserKnownHostsFile ${kh}\n`)}${block('other', '')}`);

      // OpenSSH itself accepts the host with that file and strict checking, and nothing else.
      const ssh = (alias: string) =>
        spawnSync('ssh', ['-F', cfg, '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `GlobalKnownHostsFile=/dev/null`, alias, 'true'], { encoding: 'utf8', timeout: 20_000 });
      const viaFile = ssh('work');
      expect(viaFile.status, viaFile.stderr).toBe(0);
      expect(ssh('other').stderr).toMatch(/Host key verification failed/);

      const preview = await t.fleet.previewSshConfigImport(cfg);
      expect(preview.candidates.find((c) => c.alias === 'work')!.input.knownHostsFiles).toEqual([kh]);
      const r = await t.fleet.importHosts(preview.candidates.map((c) => c.input));
      expect(r.failed).toEqual([]);
      expect((await t.fleet.listHosts()).find((h) => h.name === 'work')!.knownHostsFiles).toEqual([kh]);
      await t.waitForState('work', 'online');
      // The same server under an alias without that file is a first contact.
      await t.waitForState('other', 'host-key-unknown');
      expect(t.statuses.some((x) => x.name === 'work' && x.state.startsWith('host-key'))).toBe(false);
    } finally {
      await t.fleet.close();
    }
  });
});

