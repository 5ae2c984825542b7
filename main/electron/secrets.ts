/**
 * SecretStore for the desktop app: Electron safeStorage (OS keychain) encrypts, a separate
 * electron-store file (secrets.json in userData) keeps only base64 ciphertexts keyed by host and kind,
 * and beside them the binding (user@host:port and host key fingerprint) each one may be used for.
 * Secrets the user does not want remembered (or that cannot be kept safely) live in memory only.
 *
 * Electron objects are injected (structural types below) so the unit tests run it in plain Node.
 */
import { FleetError } from '../core/errors.js';
import type { SecretStorageState } from '../../preload/api.js';
import type { SecretKind, SecretStore } from '../secrets/types.js';

/** The part of Electron's safeStorage we use. */
export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  encryptString(plainText: string): Buffer;
  decryptString(encrypted: Buffer): string;
  /** Linux only. */
  getSelectedStorageBackend?(): string;
}

/** Key-value store holding the ciphertexts (electron-store in the app, a Map in tests). */
export interface SecretKv {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
}

export interface SafeStorageSecretsOptions {
  safeStorage: SafeStorageLike;
  kv: SecretKv;
  platform?: NodeJS.Platform;
  log?: { warn(message: string): void };
}

/** Options for the electron-store that backs SecretKv. */
export const SECRETS_STORE_NAME = 'secrets';
export const SECRETS_FILE_MODE = 0o600;
const KV_KEY = 'hosts';
/** host -> kind -> binding (user@host:port SHA256:...) of each persisted ciphertext; absent = unbound (older files). */
const KV_BINDINGS = 'bindings';
const KINDS: readonly SecretKind[] = ['password', 'passphrase'];

type Entry = Partial<Record<SecretKind, string>>;

const isKind = (k: string): k is SecretKind => (KINDS as readonly string[]).includes(k);

export function secretStorageUnavailableMessage(state: SecretStorageState, backend: string | null, platform: NodeJS.Platform): string {
  const keep = 'You can still use the secret for this session only (it is not written to disk).';
  if (state === 'basic_text') {
    return (
      "Cannot remember this secret safely: Electron's safeStorage is using the 'basic_text' backend " +
      '(no keyring service found), which would encrypt it with a hard-coded key. ' +
      'Install and unlock a keyring (gnome-keyring / libsecret, or KWallet), make sure it is running in your ' +
      'desktop session, then restart Fleetwake. ' +
      keep
    );
  }
  const fix =
    platform === 'darwin'
      ? 'Make sure the login Keychain is unlocked and Fleetwake may use it, then restart Fleetwake.'
      : platform === 'win32'
        ? 'Windows DPAPI is not usable for this user account; sign in normally (not as a temporary profile) and restart Fleetwake.'
        : 'Install and unlock a keyring (gnome-keyring / libsecret, or KWallet), make sure it is running in your desktop session, then restart Fleetwake.';
  const which = backend && backend !== 'unknown' ? ` (backend: ${backend})` : '';
  return `Cannot remember this secret: the system keychain is not available to Electron's safeStorage${which}. ${fix} ${keep}`;
}

export class SafeStorageSecrets implements SecretStore {
  private readonly safe: SafeStorageLike;
  private readonly kv: SecretKv;
  private readonly platform: NodeJS.Platform;
  private readonly log: { warn(message: string): void };
  /** Session-only secrets, and persisted ones already decrypted, with their binding. */
  private readonly memory = new Map<string, Map<SecretKind, { value: string; binding: string | undefined }>>();

  constructor(opts: SafeStorageSecretsOptions) {
    this.safe = opts.safeStorage;
    this.kv = opts.kv;
    this.platform = opts.platform ?? process.platform;
    this.log = opts.log ?? console;
  }

  private backend(): string | null {
    if (this.platform !== 'linux' || typeof this.safe.getSelectedStorageBackend !== 'function') return null;
    try {
      return this.safe.getSelectedStorageBackend();
    } catch {
      return null;
    }
  }

  state(): SecretStorageState {
    let available = false;
    try {
      available = this.safe.isEncryptionAvailable();
    } catch {
      available = false;
    }
    if (!available) return 'unavailable';
    if (this.backend() === 'basic_text') return 'basic_text';
    return 'available';
  }

  canPersist(): boolean {
    return this.state() === 'available';
  }

  get(host: string, kind: SecretKind, binding?: string): string | undefined {
    const cached = this.memory.get(host)?.get(kind);
    if (cached !== undefined) return cached.binding === binding ? cached.value : undefined;
    const cipher = this.readAll().get(host)?.[kind];
    if (cipher === undefined) return undefined;
    const stored = this.readBindings().get(host)?.[kind];
    // Bound to another server (or stored before bindings existed while one is asked for): not handed out.
    if (stored !== binding) return undefined;
    try {
      const value = this.safe.decryptString(Buffer.from(cipher, 'base64'));
      this.remember(host, kind, value, stored);
      return value;
    } catch (err) {
      // Keychain locked or changed since it was stored: behave as if there were none (the user is asked).
      this.log.warn(`Could not decrypt the stored ${kind} for ${host}: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
  }

  set(host: string, kind: SecretKind, value: string, persist: boolean, binding?: string): void {
    if (persist) {
      const state = this.state();
      if (state !== 'available') {
        throw new FleetError('secret-storage-unavailable', secretStorageUnavailableMessage(state, this.backend(), this.platform));
      }
      const cipher = this.safe.encryptString(value).toString('base64');
      this.update((all) => {
        all.set(host, { ...all.get(host), [kind]: cipher });
      });
      this.updateBindings((all) => {
        const { [kind]: _old, ...rest } = all.get(host) ?? {};
        all.set(host, binding === undefined ? rest : { ...rest, [kind]: binding });
      });
    } else {
      // A new session-only value replaces any remembered one, which would otherwise be stale.
      this.removePersisted(host, kind);
    }
    this.remember(host, kind, value, binding);
  }

  has(host: string, kind: SecretKind): boolean {
    return this.memory.get(host)?.has(kind) === true || this.hasPersisted(host, kind);
  }

  hasPersisted(host: string, kind: SecretKind): boolean {
    return this.readAll().get(host)?.[kind] !== undefined;
  }

  delete(host: string): void {
    this.memory.delete(host);
    if (this.readAll().has(host)) this.update((all) => all.delete(host));
    if (this.readBindings().has(host)) this.updateBindings((all) => all.delete(host));
  }

  rename(from: string, to: string): void {
    if (from === to) return;
    const mem = this.memory.get(from);
    this.memory.delete(to);
    if (mem) {
      this.memory.set(to, mem);
      this.memory.delete(from);
    }
    const names = (m: Map<string, Entry>) => m.has(from) || m.has(to);
    if (names(this.readAll())) this.update((a) => moveEntry(a, from, to));
    if (names(this.readBindings())) this.updateBindings((b) => moveEntry(b, from, to));
  }

  private remember(host: string, kind: SecretKind, value: string, binding: string | undefined): void {
    let m = this.memory.get(host);
    if (!m) {
      m = new Map();
      this.memory.set(host, m);
    }
    m.set(kind, { value, binding });
  }

  private removePersisted(host: string, kind: SecretKind): void {
    const entry = this.readAll().get(host);
    if (entry?.[kind] === undefined) return;
    this.update((all) => {
      const { [kind]: _dropped, ...rest } = all.get(host) ?? {};
      if (Object.keys(rest).length === 0) all.delete(host);
      else all.set(host, rest);
    });
  }

  /** Reads the ciphertext table defensively: a hand-edited or corrupt file yields fewer entries, never a crash. */
  private readAll(): Map<string, Entry> {
    return this.readTable(KV_KEY);
  }

  private readTable(kvKey: string): Map<string, Entry> {
    const out = new Map<string, Entry>();
    const raw = this.kv.get(kvKey);
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return out;
    for (const [host, value] of Object.entries(raw as Record<string, unknown>)) {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) continue;
      const entry: Entry = {};
      for (const [kind, cipher] of Object.entries(value as Record<string, unknown>)) {
        if (isKind(kind) && typeof cipher === 'string' && cipher !== '') entry[kind] = cipher;
      }
      if (Object.keys(entry).length > 0) out.set(host, entry);
    }
    return out;
  }

  private readBindings(): Map<string, Entry> {
    return this.readTable(KV_BINDINGS);
  }

  private updateBindings(change: (all: Map<string, Entry>) => void): void {
    const all = this.readBindings();
    change(all);
    const obj: Record<string, Entry> = Object.create(null) as Record<string, Entry>;
    for (const [host, entry] of all) if (Object.keys(entry).length > 0) obj[host] = entry;
    this.kv.set(KV_BINDINGS, { ...obj });
  }

  private update(change: (all: Map<string, Entry>) => void): void {
    const all = this.readAll();
    change(all);
    const obj: Record<string, Entry> = Object.create(null) as Record<string, Entry>;
    for (const [host, entry] of all) obj[host] = entry;
    this.kv.set(KV_KEY, { ...obj });
  }
}

/** A renamed host's entry moves to the new name, replacing whatever stood there. */
function moveEntry<V>(map: Map<string, V>, from: string, to: string): void {
  const entry = map.get(from);
  map.delete(from);
  map.delete(to);
  if (entry !== undefined) map.set(to, entry);
}
