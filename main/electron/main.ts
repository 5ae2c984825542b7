/**
 * Electron entry point (bundled to out/electron/main.cjs). A thin shell around the Fleet core:
 * single instance, the window, IPC binding, safeStorage secrets, security. All logic is in createFleet.
 *
 * Lifecycle hooks are grouped in `shell` so a tray module (issue 4) can plug in: it will call
 * `appShell.showWindow()` / `appShell.quit()` and take over 'close' (hide instead of destroy).
 */
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { app, BrowserWindow, ipcMain, safeStorage, session, shell as electronShell } from 'electron';
import ElectronStore from 'electron-store';
import { FleetError } from '../core/errors.js';
import { createFleet, type Fleet } from '../fleet.js';
import { openFleetStore } from '../store/fleet-store.js';
import { bindFleetIpc } from './ipc.js';
import { SECRETS_FILE_MODE, SECRETS_STORE_NAME, SafeStorageSecrets } from './secrets.js';
import { hardenSession, installAppSecurity, isSafeExternalUrl } from './security.js';
import { createMainWindow } from './window.js';

const APP_NAME = 'Fleetwake';
/** Longest we wait for fleet.close() (SSH sessions) before quitting anyway. */
const CLOSE_TIMEOUT_MS = 5_000;

app.setName(APP_NAME);
// One data folder whatever the package name: ~/.config/Fleetwake, ~/Library/Application Support/Fleetwake, %APPDATA%\Fleetwake.
app.setPath('userData', path.join(app.getPath('appData'), APP_NAME));

interface ShellState {
  fleet: Fleet | null;
  window: BrowserWindow | null;
  quitting: boolean;
  closing: boolean;
  closed: boolean;
}

const state: ShellState = { fleet: null, window: null, quitting: false, closing: false, closed: false };

const appRoot = app.getAppPath();
const paths = {
  preload: path.join(appRoot, 'out', 'electron', 'preload.cjs'),
  renderer: path.join(appRoot, 'out', 'renderer', 'index.html'),
  icon: path.join(appRoot, 'resources', 'icon.png'),
};
const rendererUrl = pathToFileURL(paths.renderer).href;

async function openExternal(url: string): Promise<void> {
  if (!isSafeExternalUrl(url)) {
    throw new FleetError('invalid-input', 'Only http:// and https:// links without credentials can be opened.', 'url');
  }
  await electronShell.openExternal(url);
}

function showWindow(): BrowserWindow {
  let win = state.window;
  if (!win || win.isDestroyed()) {
    win = createMainWindow({ preloadPath: paths.preload, rendererFile: paths.renderer, iconPath: paths.icon });
    win.on('closed', () => {
      if (state.window === win) state.window = null;
    });
    state.window = win;
  } else {
    if (win.isMinimized()) win.restore();
    win.show();
    win.focus();
  }
  return win;
}

function start(): void {
  hardenSession(session.defaultSession);

  const userData = app.getPath('userData');
  const store = openFleetStore(userData, (o) => new ElectronStore(o));
  const secretsKv = new ElectronStore<Record<string, unknown>>({
    name: SECRETS_STORE_NAME,
    cwd: userData,
    configFileMode: SECRETS_FILE_MODE,
    // Only ciphertexts live there: if the file is corrupt, start empty (the user is asked again).
    clearInvalidConfig: true,
  });
  const secrets = new SafeStorageSecrets({ safeStorage, kv: secretsKv });
  // electron-store registers a sync IPC channel for renderer-side stores; we have none, so the only
  // channels left are contract 1's.
  ipcMain.removeAllListeners('electron-store-get-data');

  const fleet = createFleet({
    store,
    secrets,
    appVersion: app.getVersion(),
    homeDir: os.homedir(),
    openExternal,
  });
  state.fleet = fleet;

  bindFleetIpc({ ipcMain, fleet, getWindow: () => state.window, rendererUrl });
  showWindow();
}

async function closeFleet(): Promise<void> {
  const fleet = state.fleet;
  if (!fleet) return;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      console.warn(`Fleet did not close within ${CLOSE_TIMEOUT_MS} ms; quitting anyway.`);
      resolve();
    }, CLOSE_TIMEOUT_MS);
  });
  try {
    await Promise.race([fleet.close(), timeout]);
  } catch (err) {
    console.error(`Error while closing the fleet: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    clearTimeout(timer);
  }
}

/** What the tray module (issue 4) will be handed: show the window, quit for real, and whether a quit is under way. */
export const appShell = {
  showWindow,
  quit: () => app.quit(),
  isQuitting: () => state.quitting,
};

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  installAppSecurity(app, electronShell);

  app.on('second-instance', () => {
    if (app.isReady()) showWindow();
  });

  // Until the tray exists (issue 4): closing the last window quits, except on macOS.
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });

  app.on('activate', () => {
    if (app.isReady() && state.fleet) showWindow();
  });

  app.on('before-quit', (event) => {
    state.quitting = true;
    if (state.closed) return;
    event.preventDefault();
    if (state.closing) return;
    state.closing = true;
    void closeFleet().finally(() => {
      state.closed = true;
      app.quit();
    });
  });

  app
    .whenReady()
    .then(start)
    .catch((err: unknown) => {
      console.error(`Fleetwake failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      app.exit(1);
    });
}
