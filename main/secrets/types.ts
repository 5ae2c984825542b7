import type { SecretStorageState } from '../../preload/api.js';

export type SecretKind = 'password' | 'passphrase';

/**
 * Where secrets live. In the desktop app: encrypted with Electron's safeStorage. In the CLI and the
 * browser harness: memory only, for the life of the process.
 */
export interface SecretStore {
  state(): SecretStorageState;
  /** True when `set(..., persist=true)` would really keep the secret encrypted on disk. */
  canPersist(): boolean;
  get(host: string, kind: SecretKind): string | undefined;
  /** persist=false keeps it for this process only. Throws FleetError('secret-storage-unavailable') if persist cannot be honoured. */
  set(host: string, kind: SecretKind, value: string, persist: boolean): void;
  has(host: string, kind: SecretKind): boolean;
  /** Whether a secret is persisted (for HostView.hasStored*). */
  hasPersisted(host: string, kind: SecretKind): boolean;
  delete(host: string): void;
  rename(from: string, to: string): void;
}
