import type { SecretStorageState } from '../../preload/api.js';

export type SecretKind = 'password' | 'passphrase';

/**
 * What a stored secret is for: `user@host:port SHA256:fingerprint` of the server it was accepted by
 * (`secretBinding`). A secret is only handed out for the same binding, so pointing a host at another
 * address, port, user or host key never sends it to that server.
 */
export function secretBinding(user: string, host: string, port: number, fingerprint: string): string {
  return `${user}@${host}:${port} ${fingerprint}`;
}

/**
 * Where secrets live. In the desktop app: encrypted with Electron's safeStorage. In the CLI and the
 * browser harness: memory only, for the life of the process.
 */
export interface SecretStore {
  state(): SecretStorageState;
  /** True when `set(..., persist=true)` would really keep the secret encrypted on disk. */
  canPersist(): boolean;
  /**
   * The secret, only when it was stored with the same `binding` (see secretBinding); a secret stored
   * with no binding matches only a get with none. Otherwise undefined.
   */
  get(host: string, kind: SecretKind, binding?: string): string | undefined;
  /**
   * persist=false keeps it for this process only. Throws FleetError('secret-storage-unavailable') if
   * persist cannot be honoured. `binding` is stored with it (persisted too).
   */
  set(host: string, kind: SecretKind, value: string, persist: boolean, binding?: string): void;
  /** Whether any secret of that kind is kept for the host, whatever its binding. */
  has(host: string, kind: SecretKind): boolean;
  /** Whether a secret is persisted (for HostView.hasStored*). */
  hasPersisted(host: string, kind: SecretKind): boolean;
  delete(host: string): void;
  rename(from: string, to: string): void;
}
