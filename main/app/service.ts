import { dirname } from 'node:path';
import type { AppApi, AppInfo } from '../../preload/api.js';
import type { FleetContext } from '../core/context.js';
import { FleetError } from '../core/errors.js';

/** The app itself: what the About panel and the store's health show, and opening links outside it. */
export class AppService implements AppApi {
  constructor(private readonly ctx: FleetContext) {}

  async getAppInfo(): Promise<AppInfo> {
    const { appVersion, secrets, store } = this.ctx.deps;
    return {
      version: appVersion,
      secretStorage: secrets.state(),
      storeProblems: [...store.problems],
      dataDir: dirname(store.path),
    };
  }

  async openExternal(url: string): Promise<void> {
    const { deps } = this.ctx;
    if (!deps.openExternal) throw new FleetError('failed', 'Opening links is only available in the desktop app.');
    await deps.openExternal(url);
  }
}
