import type { Preferences, PreferencesApi } from '../../preload/api.js';
import type { FleetContext } from '../core/context.js';
import { applyPreferences } from './index.js';

/** The user's preferences (notifications, energy estimate), kept in the store. */
export class PreferencesService implements PreferencesApi {
  constructor(private readonly ctx: FleetContext) {}

  async getPreferences(): Promise<Preferences> {
    return this.ctx.data().preferences;
  }

  async setPreferences(prefs: Partial<Preferences>): Promise<Preferences> {
    // Under the store's lock, applied to the preferences on disk now: a change the CLI made meanwhile stays.
    return this.ctx.deps.store.update((data) => ({ ...data, preferences: applyPreferences(data.preferences, prefs) })).preferences;
  }
}
