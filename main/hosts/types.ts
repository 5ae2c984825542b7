import type { HostView } from '../../preload/api.js';

/**
 * A host as it is stored: the contract's HostView without what only the view adds (whether secrets
 * are kept; secrets themselves are never part of either).
 */
export type HostRecord = Omit<HostView, 'hasStoredPassword' | 'hasStoredPassphrase'>;
