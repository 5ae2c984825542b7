/** The main window. Security settings come from security.ts; nothing else happens here. */
import { BrowserWindow } from 'electron';
import { secureWebPreferences } from './security.js';

/** Matches the renderer's light background, so there is no flash before the first paint. */
export const WINDOW_BACKGROUND = '#f6f7f9';

export interface MainWindowOptions {
  preloadPath: string;
  rendererFile: string;
  iconPath?: string;
}

export function createMainWindow(opts: MainWindowOptions): BrowserWindow {
  const win = new BrowserWindow({
    width: 1200,
    height: 800,
    minWidth: 900,
    minHeight: 600,
    title: 'Fleetwake',
    show: false,
    backgroundColor: WINDOW_BACKGROUND,
    ...(opts.iconPath ? { icon: opts.iconPath } : {}),
    webPreferences: secureWebPreferences(opts.preloadPath),
  });
  win.once('ready-to-show', () => win.show());
  // The page's <title> must not rename the window.
  win.on('page-title-updated', (event) => event.preventDefault());
  void win.loadFile(opts.rendererFile).catch((err: unknown) => {
    console.error(`Could not load the UI from ${opts.rendererFile}: ${err instanceof Error ? err.message : String(err)}`);
  });
  return win;
}
