import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  FLEET_EVENTS,
  isFleetMethod,
  type ApiResult,
  type FleetApi,
  type FleetEventName,
  type FleetEvents,
  type HarnessMessage,
  type HarnessRequest,
} from '../../preload/api.js';
import { invokeFleetMethod } from '../core/dispatch.js';

/** What the harness needs of the core: the contract plus its events. */
export interface HarnessFleet extends FleetApi {
  on<E extends FleetEventName>(event: E, listener: (payload: FleetEvents[E]) => void): () => void;
}

export interface HarnessOptions {
  fleet: HarnessFleet;
  /** The built renderer (out/renderer). */
  rendererDir: string;
  port?: number;
  /** Fixed token for tests; random otherwise. */
  token?: string;
}

export interface Harness {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

const MAX_MESSAGE_BYTES = 1024 * 1024;

function sameToken(given: string | null, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The harness's policy: the renderer's, plus its own WebSocket (and only that one). */
export function harnessCsp(port: number): string {
  return `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self' ws://127.0.0.1:${port}; base-uri 'none'; form-action 'none'`;
}

const META_CSP = /(<meta\s+http-equiv="Content-Security-Policy"\s+content=")[^"]*(")/i;

/** The page with its <meta> policy replaced by `policy` (added in <head> when it has none). */
export function withHarnessCsp(html: string, policy: string): string {
  if (META_CSP.test(html)) return html.replace(META_CSP, (_m, a: string, b: string) => `${a}${policy}${b}`);
  return html.replace(/<head>/i, `<head><meta http-equiv="Content-Security-Policy" content="${policy}" />`);
}

/**
 * The browser harness: the real renderer served on 127.0.0.1 and the FleetApi carried over a
 * WebSocket guarded by a random token and an Origin check, so any local page cannot drive it.
 */
export async function startHarness(opts: HarnessOptions): Promise<Harness> {
  const token = opts.token ?? randomBytes(24).toString('base64url');
  const root = resolve(opts.rendererDir);
  let origin = '';

  let allowedHosts = new Set<string>();
  let csp = '';
  /** DNS rebinding: a page on evil.example resolving to 127.0.0.1 sends its own name as Host. */
  const hostAllowed = (req: IncomingMessage) => allowedHosts.has((req.headers.host ?? '').toLowerCase());

  const serveFile = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let pathname: string;
    try {
      pathname = decodeURIComponent(url.pathname);
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('Bad request: the path is not valid percent-encoded UTF-8.');
      return;
    }
    const rel = pathname === '/' ? '/index.html' : pathname;
    const file = normalize(join(root, rel));
    if (file !== root && !file.startsWith(root + sep)) {
      res.writeHead(403).end('Forbidden');
      return;
    }
    let size: number;
    try {
      const st = statSync(file);
      if (!st.isFile()) throw new Error('not a file');
      size = st.size;
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
      return;
    }
    // The renderer's own <meta> policy (the desktop app's) allows no WebSocket; the harness replaces it
    // with its policy, which allows exactly its own socket.
    const body = extname(file) === '.html' ? withHarnessCsp(readFileSync(file, 'utf8'), csp) : null;
    res.writeHead(200, {
      'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': body === null ? size : Buffer.byteLength(body),
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'content-security-policy': `${csp}; frame-ancestors 'none'`,
    });
    if (body === null) createReadStream(file).pipe(res);
    else res.end(body);
  };

  const server = createServer((req, res) => {
    if (!hostAllowed(req)) {
      res.writeHead(403, { 'content-type': 'text/plain' }).end('Forbidden: the harness answers only to 127.0.0.1 and localhost on its own port.');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    serveFile(req, res);
  });

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_MESSAGE_BYTES,
  });

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (!hostAllowed(req) || url.pathname !== '/ws' || !sameToken(url.searchParams.get('token'), token) || req.headers.origin !== origin) {
      socket.write('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  wss.on('connection', (ws: WebSocket) => {
    const send = (msg: HarnessMessage) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(msg));
    };
    const unsubscribe = FLEET_EVENTS.map((event) => opts.fleet.on(event, (payload) => send({ kind: 'event', event, payload })));
    ws.on('close', () => unsubscribe.forEach((u) => u()));
    ws.on('message', async (raw) => {
      let req: HarnessRequest;
      try {
        req = JSON.parse(raw.toString()) as HarnessRequest;
      } catch {
        return;
      }
      if (typeof req?.id !== 'number') return;
      let result: ApiResult<unknown>;
      if (!isFleetMethod(req.method) || !Array.isArray(req.args)) {
        result = { ok: false, error: { code: 'invalid-input', message: `Unknown method "${String(req.method)}".` } };
      } else {
        result = await invokeFleetMethod(opts.fleet, req.method, req.args);
        // JSON has no undefined: a method that returns nothing answers null.
        if (result.ok && result.value === undefined) result = { ok: true, value: null };
      }
      send({ kind: 'result', id: req.id, result });
    });
  });

  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(opts.port ?? 0, '127.0.0.1', () => res());
  });
  const port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;
  allowedHosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  csp = harnessCsp(port);

  return {
    url: `${origin}/#token=${token}`,
    port,
    token,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
