/**
 * Electron entry point (bundled to out/electron/main.cjs). A thin shell around the Fleet core:
 * single instance, the window, IPC binding, safeStorage secrets, security. All logic is in createFleet.
 *
 * The tray (tray.ts) calls `appShell.showWindow()` / `appShell.openHost()` / `appShell.quit()`; while
 * it exists, closing the window hides it (Fleetwake keeps running in the tray) unless quitting.
 * Native notifications (notifications.ts) show the core's 'notification' events.
 */
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, Menu, nativeImage, Notification, safeStorage, session, shell as electronShell, Tray } from 'electron';
import ElectronStore from 'electron-store';
import type { LocalFilePurpose } from '../../preload/api.js';
import { FleetError } from '../core/errors.js';
import { createFleet, type Fleet } from '../fleet.js';
import { openFleetStore } from '../store/fleet-store.js';
import { bindFleetIpc } from './ipc.js';
import { SECRETS_FILE_MODE, SECRETS_STORE_NAME, SafeStorageSecrets } from './secrets.js';
import { hardenSession, installAppSecurity, isSafeExternalUrl } from './security.js';
import { NotificationPresenter } from './notifications.js';
import { followFleet, installHideOnClose, SystemTrayService, type TrayIconState, type TrayMenuItem } from './tray.js';
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
  tray: SystemTrayService | null;
  quitting: boolean;
  closing: boolean;
  closed: boolean;
}

const state: ShellState = { fleet: null, window: null, tray: null, quitting: false, closing: false, closed: false };

const appRoot = app.getAppPath();
const paths = {
  preload: path.join(appRoot, 'out', 'electron', 'preload.cjs'),
  renderer: path.join(appRoot, 'out', 'renderer', 'index.html'),
  icon: path.join(appRoot, 'resources', 'icon.png'),
  resources: path.join(appRoot, 'resources'),
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
    // With a tray, closing the window only hides it; Quit (tray menu, Cmd+Q) really closes.
    if (state.tray) installHideOnClose(win, () => state.quitting);
    state.window = win;
  } else {
    if (win.isMinimized()) win.restore();
    win.show();
    win.focus();
  }
  return win;
}

/**
 * Show the window on one host's page. The renderer follows `#host=<name>` in its URL (an in-page
 * navigation, which security.ts allows); see renderer/lib/deeplink.ts.
 */
function openHost(name: string): void {
  const win = showWindow();
  const go = () => {
    if (win.isDestroyed()) return;
    const hash = `host=${encodeURIComponent(name)}`;
    win.webContents.executeJavaScript(`location.hash = ${JSON.stringify(hash)}; void 0`).catch((err: unknown) => {
      console.warn(`Could not open ${name} in the window: ${err instanceof Error ? err.message : String(err)}`);
    });
  };
  if (win.webContents.isLoading()) win.webContents.once('did-finish-load', go);
  else go();
}

function trayImage(stateName: TrayIconState): Electron.NativeImage {
  // macOS: monochrome template images (tinted for light/dark menu bars); elsewhere colour. The @2x
  // files beside them are picked up by createFromPath for HiDPI screens.
  const file = process.platform === 'darwin' ? `tray-${stateName}Template.png` : `tray-${stateName}.png`;
  return nativeImage.createFromPath(path.join(paths.resources, file));
}

function startTray(fleet: Fleet): void {
  try {
    const tray = new SystemTrayService({
      createTray: (image) => new Tray(image as Electron.NativeImage),
      buildMenu: (template) => Menu.buildFromTemplate(template as TrayMenuItem[] as Electron.MenuItemConstructorOptions[]),
      image: trayImage,
      actions: {
        showWindow: () => void showWindow(),
        openHost,
        wakeHost: (name) => fleet.wakeHost(name, { wait: true }),
        confirmSuspend: (name) => confirmSuspend(fleet, name),
        suspendHost: (name) => fleet.suspendHost(name),
        quit: () => app.quit(),
        reportError: (title, message) => {
          if (Notification.isSupported()) new Notification({ title, body: message }).show();
          else console.warn(`${title}: ${message}`);
        },
      },
    });
    state.tray = tray;
    tray.render();
    followFleet(tray, fleet);
  } catch (err) {
    // No tray (some Linux desktops): keep the old behaviour, closing the window quits.
    state.tray = null;
    console.warn(`No tray icon: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function startNotifications(fleet: Fleet): void {
  const presenter = new NotificationPresenter({ Notification, onClick: openHost, icon: paths.icon });
  fleet.on('notification', (n) => {
    presenter.show(n);
  });
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
    // The renderer may name key files and ssh configs only under ~/.ssh or ones the user picked in the
    // native dialog below (the core adds each pick to pickedFiles).
    localFiles: { allowedDirs: [path.join(os.homedir(), '.ssh')], pickedFiles: new Set<string>() },
    chooseFile: chooseLocalFile,
    openExternal,
  });
  state.fleet = fleet;

  bindFleetIpc({ ipcMain, fleet, getWindow: () => state.window, rendererUrl });
  startTray(fleet);
  startNotifications(fleet);
  showWindow();
}

/** The tray's "Suspend now…": a native question naming what the box's agent still sees running. */
async function confirmSuspend(fleet: Fleet, name: string): Promise<boolean> {
  const idle = await fleet.getIdleStatus(name).catch(() => null);
  const running = idle?.status?.gates.filter((g) => g.status === 'busy').map((g) => g.reason) ?? [];
  const detail = running.length
    ? `Still running there, and stopped by the suspend:\n• ${running.join('\n• ')}`
    : idle?.status
      ? 'Its agent sees nothing running that the suspend would stop.'
      : `Fleetwake could not ask its agent what is running${idle?.message ? ` (${idle.message})` : ''}.`;
  const options: Electron.MessageBoxOptions = {
    type: 'warning',
    buttons: ['Cancel', 'Suspend'],
    defaultId: 0,
    cancelId: 0,
    message: `Suspend ${name} now?`,
    detail,
  };
  const win = state.window;
  const r = win && !win.isDestroyed() ? await dialog.showMessageBox(win, options) : await dialog.showMessageBox(options);
  return r.response === 1;
}

/** The native open dialog, starting in ~/.ssh; hidden files shown, since keys and configs often are. */
async function chooseLocalFile(purpose: LocalFilePurpose): Promise<string | null> {
  const options: Electron.OpenDialogOptions = {
    title: purpose === 'ssh-config' ? 'Choose an SSH config file to import' : 'Choose the private key for this host',
    defaultPath: path.join(os.homedir(), '.ssh'),
    properties: ['openFile', 'showHiddenFiles', 'dontAddToRecent'],
  };
  const win = state.window;
  const r = win && !win.isDestroyed() ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
  return r.canceled ? null : (r.filePaths[0] ?? null);
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

/** Lifecycle hooks for the tray and notifications: show the window (on a host), quit for real, whether a quit is under way. */
export const appShell = {
  showWindow,
  openHost,
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

  // With a tray the window only hides, so this fires when there is no tray: then closing quits, except on macOS.
  app.on('window-all-closed', () => {
    if (state.tray) return;
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
      state.tray?.destroy();
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
