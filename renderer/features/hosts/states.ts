import type { HostState } from '../../../preload/api.js';

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
