import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import type { App, Session, WebContents } from 'electron';
import {
  CONTENT_SECURITY_POLICY,
  hardenSession,
  hardenWebContents,
  installAppSecurity,
  isSafeExternalUrl,
  secureWebPreferences,
} from '../../main/electron/security.js';

describe('isSafeExternalUrl', () => {
  it.each(['https://github.com/fleetwake/fleetwake', 'http://10.0.0.5:8080/', 'https://example.com/a?b=c#d'])('allows %s', (u) => {
    expect(isSafeExternalUrl(u)).toBe(true);
  });
  it.each([
    'file:///etc/passwd',
    'javascript:alert(1)',
    'data:text/html,hi',
    'ssh://gpu1',
    'smb://share/x',
    'https://user:pass@example.com/',
    'https://user@example.com/',
    'http://',
    'not a url',
    '',
    `https://example.com/${'a'.repeat(3000)}`,
  ])('refuses %s', (u) => {
    expect(isSafeExternalUrl(u)).toBe(false);
  });
  it('refuses non-strings', () => {
    expect(isSafeExternalUrl(undefined)).toBe(false);
    expect(isSafeExternalUrl({ toString: () => 'https://example.com' })).toBe(false);
  });
});

describe('secureWebPreferences', () => {
  it('turns on isolation and sandbox, turns off node, webview and spellcheck', () => {
    expect(secureWebPreferences('/app/out/electron/preload.cjs')).toMatchObject({
      preload: '/app/out/electron/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webviewTag: false,
      spellcheck: false,
    });
  });
});

function fakeContents() {
  const ee = new EventEmitter() as EventEmitter & { setWindowOpenHandler: (h: (d: { url: string }) => unknown) => void; openHandler?: (d: { url: string }) => unknown };
  ee.setWindowOpenHandler = (h) => {
    ee.openHandler = h;
  };
  return ee;
}

describe('hardenWebContents', () => {
  it('prevents navigation, redirects and webviews, and denies window.open (http(s) to the browser)', () => {
    const contents = fakeContents();
    const openExternal = vi.fn(async () => {});
    const log = { warn: vi.fn() };
    hardenWebContents(contents as unknown as WebContents, { openExternal }, log);
    hardenWebContents(contents as unknown as WebContents, { openExternal }, log); // idempotent
    expect(contents.listenerCount('will-navigate')).toBe(1);

    for (const name of ['will-navigate', 'will-redirect', 'will-attach-webview']) {
      const ev = { url: 'https://evil.example/', preventDefault: vi.fn() };
      contents.emit(name, ev);
      expect(ev.preventDefault).toHaveBeenCalled();
    }
    const sub = { url: 'https://evil.example/', isMainFrame: false, preventDefault: vi.fn() };
    contents.emit('will-frame-navigate', sub);
    expect(sub.preventDefault).toHaveBeenCalled();

    expect(contents.openHandler!({ url: 'https://docs.example/x' })).toEqual({ action: 'deny' });
    expect(openExternal).toHaveBeenCalledWith('https://docs.example/x');
    expect(contents.openHandler!({ url: 'file:///etc/passwd' })).toEqual({ action: 'deny' });
    expect(openExternal).toHaveBeenCalledTimes(1);
  });
});

describe('hardenSession', () => {
  it('denies all permissions and adds the CSP header', () => {
    let request: ((wc: unknown, p: string, cb: (ok: boolean) => void) => void) | undefined;
    let check: (() => boolean) | undefined;
    let headers: ((d: { responseHeaders?: Record<string, string[]> }, cb: (r: { responseHeaders: Record<string, string[]> }) => void) => void) | undefined;
    const session = {
      setPermissionRequestHandler: (h: typeof request) => (request = h),
      setPermissionCheckHandler: (h: typeof check) => (check = h),
      setDevicePermissionHandler: vi.fn(),
      webRequest: { onHeadersReceived: (h: typeof headers) => (headers = h) },
    };
    hardenSession(session as unknown as Session);
    const cb = vi.fn();
    request!(null, 'media', cb);
    expect(cb).toHaveBeenCalledWith(false);
    expect(check!()).toBe(false);
    const done = vi.fn();
    headers!({ responseHeaders: { 'content-type': ['text/html'], 'content-security-policy': ["default-src 'self'"] } }, done);
    expect(done).toHaveBeenCalledWith({
      responseHeaders: { 'content-type': ['text/html'], 'content-security-policy': ["default-src 'self'", CONTENT_SECURITY_POLICY] },
    });
    headers!({}, done);
    expect(done).toHaveBeenLastCalledWith({ responseHeaders: { 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
  });
});

describe('installAppSecurity', () => {
  it('enables the sandbox and hardens every webContents created', () => {
    const app = new EventEmitter() as EventEmitter & { enableSandbox: () => void };
    app.enableSandbox = vi.fn();
    installAppSecurity(app as unknown as App, { openExternal: vi.fn(async () => {}) }, { warn: () => {} });
    expect(app.enableSandbox).toHaveBeenCalled();
    const contents = fakeContents();
    app.emit('web-contents-created', {}, contents);
    expect(contents.listenerCount('will-navigate')).toBe(1);
    expect(contents.openHandler).toBeTypeOf('function');
  });
});
