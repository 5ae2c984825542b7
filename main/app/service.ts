import { dirname } from 'node:path';
import { LOCAL_FILE_PURPOSES, type AppApi, type AppInfo, type LocalFilePurpose } from '../../preload/api.js';
import path from 'node:path';
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
      fileDialog: this.ctx.deps.chooseFile !== undefined,
    };
  }

  async chooseLocalFile(purpose: LocalFilePurpose): Promise<string | null> {
    const { chooseFile, localFiles } = this.ctx.deps;
    if (!LOCAL_FILE_PURPOSES.includes(purpose)) {
      throw new FleetError('invalid-input', `Unknown file purpose ${JSON.stringify(String(purpose)).slice(0, 40)} (known: ${LOCAL_FILE_PURPOSES.join(', ')}).`, 'purpose');
    }
    if (!chooseFile) throw new FleetError('failed', 'A file dialog is only available in the desktop app; type the path instead.');
    const file = await chooseFile(purpose);
    if (file === null) return null;
    if (!path.isAbsolute(file)) throw new FleetError('failed', `The file dialog answered a path that is not absolute (${file}); nothing was chosen.`);
    // Only a path the user picked in the dialog widens what the renderer may name.
    localFiles?.pickedFiles?.add(file);
    return file;
  }

  async openExternal(url: string): Promise<void> {
    const { deps } = this.ctx;
    if (!deps.openExternal) throw new FleetError('failed', 'Opening links is only available in the desktop app.');
    await deps.openExternal(url);
  }
}
