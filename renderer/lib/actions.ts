import { getBridge } from '../bridge/index.js';
import { applyStatus, watchHost } from '../state/store.js';

/** Connect (or retry now); a host-key status that comes back opens the key dialog by itself. */
export async function connectHost(name: string): Promise<void> {
  watchHost(name);
  const status = await getBridge().connectHost(name);
  if (status) applyStatus(status);
}

export async function disconnectHost(name: string): Promise<void> {
  await getBridge().disconnectHost(name);
}
