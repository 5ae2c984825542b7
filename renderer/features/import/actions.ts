import type { HostInput, ImportPreview, ImportResult } from '../../../preload/api.js';
import { getBridge } from '../../bridge/index.js';

/** Read an SSH config (`~/.ssh/config` when no path is given); nothing is added yet. */
export function previewImport(path?: string): Promise<ImportPreview> {
  return getBridge().previewSshConfigImport(path);
}

export function importHosts(inputs: HostInput[]): Promise<ImportResult> {
  return getBridge().importHosts(inputs);
}
