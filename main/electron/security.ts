/**
 * Electron security checklist, applied in one place.
 *
 * Type-only imports of 'electron': the Electron objects are passed in, so this module (and its pure
 * helpers) load in plain Node for unit tests without touching the Electron binary.
 */
import type { App, Session, Shell, WebContents, WebPreferences } from 'electron';

/**
 * Same policy as the renderer's <meta http-equiv="Content-Security-Policy">: no WebSocket (only the
 * browser harness needs one, and it serves its own policy in place of the meta tag).
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
  "connect-src 'self'; base-uri 'none'; form-action 'none'";

const MAX_EXTERNAL_URL_LENGTH = 2048;

/** Only plain http(s) links without embedded credentials may leave the app (to the user's browser). */
export function isSafeExternalUrl(url: unknown): boolean {
  if (typeof url !== 'string' || url.length === 0 || url.length > MAX_EXTERNAL_URL_LENGTH) return false;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return false;
  if (parsed.username !== '' || parsed.password !== '') return false;
  return parsed.hostname !== '';
}

/** webPreferences for every window we create. */
export function secureWebPreferences(preloadPath: string): WebPreferences {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webviewTag: false,
    spellcheck: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    navigateOnDragDrop: false,
    safeDialogs: true,
  };
}

export interface SecurityLog {
  warn(message: string): void;
}

const hardened = new WeakSet<WebContents>();

function shortUrl(url: string): string {
  return url.length > 200 ? `${url.slice(0, 200)}...` : url;
}

/**
 * No navigation, no redirects, no <webview>, no new windows. http(s) links the page tries to open go
 * to the user's browser instead. Idempotent per webContents.
 */
export function hardenWebContents(contents: WebContents, shell: Pick<Shell, 'openExternal'>, log: SecurityLog = console): void {
  if (hardened.has(contents)) return;
  hardened.add(contents);

  contents.on('will-navigate', (event) => {
    event.preventDefault();
    log.warn(`Blocked navigation to ${shortUrl(event.url)}`);
  });
  contents.on('will-frame-navigate', (event) => {
    if (event.isMainFrame) return; // 'will-navigate' already handles the main frame
    event.preventDefault();
    log.warn(`Blocked subframe navigation to ${shortUrl(event.url)}`);
  });
  contents.on('will-redirect', (event) => {
    event.preventDefault();
    log.warn(`Blocked redirect to ${shortUrl(event.url)}`);
  });
  contents.on('will-attach-webview', (event) => {
    event.preventDefault();
    log.warn('Blocked a <webview>');
  });
  contents.setWindowOpenHandler(({ url }) => {
    if (isSafeExternalUrl(url)) {
      shell.openExternal(url).catch((err: unknown) => {
        log.warn(`Could not open ${shortUrl(url)} in the browser: ${err instanceof Error ? err.message : String(err)}`);
      });
    } else {
      log.warn(`Blocked window.open of ${shortUrl(url)}`);
    }
    return { action: 'deny' };
  });
}

/** Deny every permission and add the CSP header (defense in depth beside the meta tag). */
export function hardenSession(session: Session): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler(() => false);
  session.webRequest.onHeadersReceived((details, callback) => {
    // Keep any policy the response already has (several policies are all enforced), add ours.
    const responseHeaders: Record<string, string[]> = { ...(details.responseHeaders ?? {}) };
    const existing = Object.keys(responseHeaders).find((n) => n.toLowerCase() === 'content-security-policy');
    const key = existing ?? 'Content-Security-Policy';
    responseHeaders[key] = [...(responseHeaders[key] ?? []), CONTENT_SECURITY_POLICY];
    callback({ responseHeaders });
  });
}

/**
 * App-wide guards. Call before `app.whenReady()`: every webContents ever created (our window and
 * anything else) is hardened as it appears.
 */
export function installAppSecurity(app: App, shell: Pick<Shell, 'openExternal'>, log: SecurityLog = console): void {
  app.enableSandbox();
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents, shell, log));
}
