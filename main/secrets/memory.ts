import type { SecretStorageState } from '../../preload/api.js';
import { FleetError } from '../core/errors.js';
import type { SecretKind, SecretStore } from './types.js';

/**
 * Secrets for the life of one process: the CLI and the browser harness have no keychain, so
 * nothing typed there ever reaches the disk.
 */
export class MemorySecretStore implements SecretStore {
  private readonly values = new Map<string, { value: string; binding: string | undefined }>();

  state(): SecretStorageState {
    return 'unavailable';
  }

  canPersist(): boolean {
    return false;
  }

  private key(host: string, kind: SecretKind): string {
    return `${host}\u0000${kind}`;
  }

  get(host: string, kind: SecretKind, binding?: string): string | undefined {
    const entry = this.values.get(this.key(host, kind));
    return entry && entry.binding === binding ? entry.value : undefined;
  }

  set(host: string, kind: SecretKind, value: string, persist: boolean, binding?: string): void {
    if (persist) {
      throw new FleetError(
        'secret-storage-unavailable',
        'Secrets can only be saved by the desktop app (in the system keychain). Here it is kept for this session only.',
      );
    }
    this.values.set(this.key(host, kind), { value, binding });
  }

  has(host: string, kind: SecretKind): boolean {
    return this.values.has(this.key(host, kind));
  }

  hasPersisted(): boolean {
    return false;
  }

  delete(host: string): void {
    for (const kind of ['password', 'passphrase'] as const) this.values.delete(this.key(host, kind));
  }

  rename(from: string, to: string): void {
    for (const kind of ['password', 'passphrase'] as const) {
      const v = this.values.get(this.key(from, kind));
      if (v !== undefined) this.values.set(this.key(to, kind), v);
      this.values.delete(this.key(from, kind));
    }
  }
}
