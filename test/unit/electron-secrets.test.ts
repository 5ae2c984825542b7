import { describe, expect, it, vi } from 'vitest';
import { FleetError } from '../../main/core/errors.js';
import { SafeStorageSecrets, type SafeStorageLike, type SecretKv } from '../../main/electron/secrets.js';

/** A stand-in for Electron's safeStorage: a keyed XOR, so ciphertexts never contain the plaintext. */
function fakeSafeStorage(opts: { available?: boolean; backend?: string } = {}) {
  const key = 0x5a;
  const safe: SafeStorageLike & { available: boolean; backend: string } = {
    available: opts.available ?? true,
    backend: opts.backend ?? 'gnome_libsecret',
    isEncryptionAvailable() {
      return this.available;
    },
    getSelectedStorageBackend() {
      return this.backend;
    },
    encryptString: vi.fn((s: string) => Buffer.concat([Buffer.from('v11'), Buffer.from(s, 'utf8').map((b) => b ^ key)])),
    decryptString: vi.fn((b: Buffer) => {
      if (b.subarray(0, 3).toString() !== 'v11') throw new Error('bad ciphertext');
      return Buffer.from(b.subarray(3).map((x) => x ^ key)).toString('utf8');
    }),
  };
  return safe;
}

function mapKv() {
  const map = new Map<string, unknown>();
  // Mimic electron-store: values go through JSON on disk.
  const kv: SecretKv = {
    get: (k) => (map.has(k) ? JSON.parse(JSON.stringify(map.get(k))) : undefined),
    set: (k, v) => void map.set(k, JSON.parse(JSON.stringify(v))),
  };
  return { kv, map, dump: () => JSON.stringify([...map]) };
}

const SECRET = 'correct horse battery staple';

describe('SafeStorageSecrets', () => {
  it('reports available / basic_text / unavailable', () => {
    const kv = mapKv().kv;
    expect(new SafeStorageSecrets({ safeStorage: fakeSafeStorage(), kv, platform: 'linux' }).state()).toBe('available');
    expect(new SafeStorageSecrets({ safeStorage: fakeSafeStorage({ backend: 'basic_text' }), kv, platform: 'linux' }).state()).toBe('basic_text');
    expect(new SafeStorageSecrets({ safeStorage: fakeSafeStorage({ available: false }), kv, platform: 'linux' }).state()).toBe('unavailable');
    // The backend question is Linux-only.
    expect(new SafeStorageSecrets({ safeStorage: fakeSafeStorage({ backend: 'basic_text' }), kv, platform: 'darwin' }).state()).toBe('available');
  });

  it('persists only ciphertext, and reads it back in a new instance', () => {
    const { kv, dump } = mapKv();
    const safe = fakeSafeStorage();
    const s1 = new SafeStorageSecrets({ safeStorage: safe, kv, platform: 'linux' });
    expect(s1.canPersist()).toBe(true);
    s1.set('gpu1', 'passphrase', SECRET, true);
    s1.set('gpu1', 'password', 'pw-123456', true);
    const raw = dump();
    expect(raw).not.toContain(SECRET);
    expect(raw).not.toContain('pw-123456');
    expect(raw).not.toContain(Buffer.from(SECRET).toString('base64'));
    expect(s1.hasPersisted('gpu1', 'passphrase')).toBe(true);

    const s2 = new SafeStorageSecrets({ safeStorage: safe, kv, platform: 'linux' });
    expect(s2.get('gpu1', 'passphrase')).toBe(SECRET);
    expect(s2.get('gpu1', 'password')).toBe('pw-123456');
    expect(s2.has('gpu1', 'password')).toBe(true);
    expect(s2.get('gpu2', 'password')).toBeUndefined();
  });

  it('keeps session-only secrets in memory, never on the kv', () => {
    const { kv, map } = mapKv();
    const s = new SafeStorageSecrets({ safeStorage: fakeSafeStorage(), kv, platform: 'linux' });
    s.set('gpu1', 'password', SECRET, false);
    expect(s.get('gpu1', 'password')).toBe(SECRET);
    expect(s.has('gpu1', 'password')).toBe(true);
    expect(s.hasPersisted('gpu1', 'password')).toBe(false);
    expect(JSON.stringify([...map])).not.toContain(SECRET);
    expect(new SafeStorageSecrets({ safeStorage: fakeSafeStorage(), kv, platform: 'linux' }).has('gpu1', 'password')).toBe(false);
  });

  it('a session-only value replaces a remembered one', () => {
    const { kv } = mapKv();
    const s = new SafeStorageSecrets({ safeStorage: fakeSafeStorage(), kv, platform: 'linux' });
    s.set('gpu1', 'password', 'old', true);
    s.set('gpu1', 'password', 'new', false);
    expect(s.get('gpu1', 'password')).toBe('new');
    expect(s.hasPersisted('gpu1', 'password')).toBe(false);
  });

  it('basic_text refuses to persist, with a message that says which backend and how to fix it', () => {
    const { kv, map } = mapKv();
    const s = new SafeStorageSecrets({ safeStorage: fakeSafeStorage({ backend: 'basic_text' }), kv, platform: 'linux' });
    expect(s.canPersist()).toBe(false);
    let err: unknown;
    try {
      s.set('gpu1', 'password', SECRET, true);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FleetError);
    expect((err as FleetError).code).toBe('secret-storage-unavailable');
    expect((err as FleetError).message).toMatch(/basic_text/);
    expect((err as FleetError).message).toMatch(/gnome-keyring/);
    expect((err as FleetError).message).toMatch(/KWallet/);
    expect((err as FleetError).message).toMatch(/this session only/);
    expect(map.size).toBe(0);
    expect(s.has('gpu1', 'password')).toBe(false);
    // Session-only still works.
    s.set('gpu1', 'password', SECRET, false);
    expect(s.get('gpu1', 'password')).toBe(SECRET);
    expect(map.size).toBe(0);
  });

  it('unavailable refuses to persist', () => {
    const s = new SafeStorageSecrets({ safeStorage: fakeSafeStorage({ available: false }), kv: mapKv().kv, platform: 'darwin' });
    expect(() => s.set('gpu1', 'passphrase', SECRET, true)).toThrow(/Keychain/);
  });

  it('renames and deletes both memory and persisted entries', () => {
    const { kv, map } = mapKv();
    const safe = fakeSafeStorage();
    const s = new SafeStorageSecrets({ safeStorage: safe, kv, platform: 'linux' });
    s.set('gpu1', 'passphrase', SECRET, true);
    s.set('gpu1', 'password', 'session-pw', false);
    s.set('gpu2', 'password', 'pw2', true);
    s.rename('gpu1', 'big-box');
    expect(s.has('gpu1', 'passphrase')).toBe(false);
    expect(s.has('gpu1', 'password')).toBe(false);
    expect(s.get('big-box', 'password')).toBe('session-pw');
    expect(s.hasPersisted('big-box', 'passphrase')).toBe(true);
    expect(new SafeStorageSecrets({ safeStorage: safe, kv, platform: 'linux' }).get('big-box', 'passphrase')).toBe(SECRET);

    s.delete('big-box');
    expect(s.has('big-box', 'passphrase')).toBe(false);
    expect(s.has('big-box', 'password')).toBe(false);
    expect(JSON.stringify([...map])).not.toContain('big-box');
    expect(s.get('gpu2', 'password')).toBe('pw2');
  });

  it('survives a corrupt or undecryptable store', () => {
    const { kv, map } = mapKv();
    const warn = vi.fn();
    map.set('hosts', { gpu1: { password: Buffer.from('garbage').toString('base64'), bogus: 'x' }, gpu2: 'nope', gpu3: null });
    const s = new SafeStorageSecrets({ safeStorage: fakeSafeStorage(), kv, platform: 'linux', log: { warn } });
    expect(s.get('gpu1', 'password')).toBeUndefined();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).not.toContain('garbage');
    expect(s.has('gpu2', 'password')).toBe(false);
    map.set('hosts', 'not an object');
    expect(s.has('gpu1', 'password')).toBe(false);
    s.set('gpu1', 'password', SECRET, true);
    expect(new SafeStorageSecrets({ safeStorage: fakeSafeStorage(), kv, platform: 'linux' }).get('gpu1', 'password')).toBe(SECRET);
  });
});
