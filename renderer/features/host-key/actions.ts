import { getBridge } from '../../bridge/index.js';
import { applyStatus } from '../hosts/store.js';

export async function trustHostKey(name: string, fingerprint: string): Promise<void> {
  const status = await getBridge().trustHostKey(name, fingerprint);
  if (status) applyStatus(status);
}
