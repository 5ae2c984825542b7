import { describe, expect, it } from 'vitest';
import { SafeStorageSecrets, type SafeStorageLike, type SecretKv } from '../../main/electron/secrets.js';
import { MemorySecretStore } from '../../main/secrets/memory.js';
import { secretBinding } from '../../main/secrets/types.js';

const safe: SafeStorageLike = {
  isEncryptionAvailable: () => true,
  getSelectedStorageBackend: () => 'gnome_libsecret',
  encryptString: (s) => Buffer.from(`enc:${s}`),
  decryptString: (b) => b.toString().replace(/^enc:/, ''),
};

function mapKv(): SecretKv {
  const map = new Map<string, unknown>();
  return { get: (k) => (map.has(k) ? JSON.parse(JSON.stringify(map.get(k))) : undefined), set: (k, v) => void map.set(k, JSON.parse(JSON.stringify(v))) };
}

const A = secretBinding('root', '10.0.0.5', 22, 'SHA256:aaaa');
const B = secretBinding('root', '10.0.0.6', 22, 'SHA256:bbbb');

describe('a stored secret is handed out only for the server it was kept for', () => {
  it('memory store', () => {
    const s = new MemorySecretStore();
    s.set('gpu1', 'password', 'pw', false, A);
    expect(s.get('gpu1', 'password', A)).toBe('pw');
    expect(s.get('gpu1', 'password', B)).toBeUndefined();
    expect(s.get('gpu1', 'password')).toBeUndefined();
    expect(s.has('gpu1', 'password')).toBe(true);
  });

  it('safeStorage store: the binding is persisted, survives a restart and a rename, and an unbound (old) secret is not used for a bound request', () => {
    const kv = mapKv();
    const s1 = new SafeStorageSecrets({ safeStorage: safe, kv, platform: 'linux' });
    s1.set('gpu1', 'password', 'pw', true, A);
    s1.set('gpu2', 'passphrase', 'old', true);
    const s2 = new SafeStorageSecrets({ safeStorage: safe, kv, platform: 'linux' });
    expect(s2.get('gpu1', 'password', B)).toBeUndefined();
    expect(s2.get('gpu1', 'password', A)).toBe('pw');
    expect(s2.get('gpu2', 'passphrase', A)).toBeUndefined();
    s2.rename('gpu1', 'big');
    const s3 = new SafeStorageSecrets({ safeStorage: safe, kv, platform: 'linux' });
    expect(s3.get('big', 'password', A)).toBe('pw');
    expect(s3.get('big', 'password', B)).toBeUndefined();
    // A new secret for the new server replaces the binding.
    s3.set('big', 'password', 'pw2', true, B);
    expect(new SafeStorageSecrets({ safeStorage: safe, kv, platform: 'linux' }).get('big', 'password', B)).toBe('pw2');
    expect(new SafeStorageSecrets({ safeStorage: safe, kv, platform: 'linux' }).get('big', 'password', A)).toBeUndefined();
  });
});
