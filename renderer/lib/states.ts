import type { HostState } from '../../preload/api.js';

export interface StateInfo {
  label: string;
  /** One line shown under the pill when the core gave no message. */
  hint: string;
  tone: 'ok' | 'busy' | 'idle' | 'warn' | 'danger' | 'sleep';
}

export const STATE_INFO: Record<HostState, StateInfo> = {
  connecting: { label: 'Connecting', hint: 'Opening the SSH connection…', tone: 'busy' },
  online: { label: 'Online', hint: 'Connected over SSH.', tone: 'ok' },
  offline: { label: 'Offline', hint: 'Not connected.', tone: 'idle' },
  'auth-failed': { label: 'Authentication failed', hint: 'The server refused the key or password.', tone: 'warn' },
  'host-key-unknown': {
    label: 'Confirm host key',
    hint: 'First connection: check the server’s key before trusting it.',
    tone: 'warn',
  },
  'host-key-changed': {
    label: 'HOST KEY CHANGED',
    hint: 'The server presented a different key than the one you trusted.',
    tone: 'danger',
  },
  error: { label: 'Error', hint: 'Something went wrong.', tone: 'danger' },
  asleep: { label: 'Asleep', hint: 'Suspended to save power. Wake it with Wake-on-LAN.', tone: 'sleep' },
  waking: { label: 'Waking', hint: 'Magic packet sent; waiting for the host to answer…', tone: 'busy' },
};

/** Wake applies to a sleeping host, or an offline one with a MAC (it may be asleep without us knowing). */
export const canWake = (state: HostState, mac: string | null) => state === 'asleep' || (state === 'offline' && mac !== null);

/** `ssh-ed25519` -> `ed25519`, `ecdsa-sha2-nistp256` -> `ecdsa`, `rsa-sha2-512` / `ssh-rsa` -> `rsa`. */
export function hostKeyFileType(keyType: string | undefined): string {
  const t = (keyType ?? '').toLowerCase();
  if (t.includes('ed25519')) return 'ed25519';
  if (t.includes('ecdsa')) return 'ecdsa';
  if (t.includes('rsa')) return 'rsa';
  if (t.includes('dss') || t.includes('dsa')) return 'dsa';
  return '<type>';
}

export function prettyKeyType(keyType: string | undefined): string {
  const t = hostKeyFileType(keyType);
  if (t === '<type>') return keyType ?? 'unknown';
  return `${t.toUpperCase()}${keyType && keyType.toLowerCase() !== t ? ` (${keyType})` : ''}`;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function timeAgo(since: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - since) / 1000));
  if (s < 10) return 'just now';
  if (s < 60) return `${s}s ago`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.round(h / 24)} days ago`;
}
