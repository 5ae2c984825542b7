import type { HostInput, LocalFilePurpose } from '../../../preload/api.js';
import { getBridge } from '../../bridge/index.js';
import { applyStatus, watchHost } from './store.js';

/** Connect (or retry now); a host-key status that comes back opens the key dialog by itself. */
export async function connectHost(name: string): Promise<void> {
  watchHost(name);
  const status = await getBridge().connectHost(name);
  if (status) applyStatus(status);
}

export async function disconnectHost(name: string): Promise<void> {
  await getBridge().disconnectHost(name);
}

/** Add a host, or update the one named `editName`. A new host is watched so its host-key question opens by itself. */
export async function saveHost(input: HostInput, editName?: string): Promise<void> {
  const bridge = getBridge();
  const saved = editName ? await bridge.updateHost(editName, input) : await bridge.addHost(input);
  if (editName === undefined) watchHost(saved?.name ?? input.name);
}

export async function removeHost(name: string): Promise<void> {
  await getBridge().removeHost(name);
}

/** Forget the password / passphrase saved in the system keychain. */
export async function forgetSecrets(name: string): Promise<void> {
  await getBridge().forgetSecrets(name);
}

/** The desktop app's native file dialog; the chosen file may then be used even outside ~/.ssh. null: cancelled. */
export function chooseLocalFile(purpose: LocalFilePurpose): Promise<string | null> {
  return getBridge().chooseLocalFile(purpose);
}
