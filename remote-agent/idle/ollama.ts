/** The Ollama check: GET {url}/api/ps over a plain socket, and what counts as use (see checks.ts). */
import { connect } from 'node:net';
import type { CheckResult } from './engine.js';
import { MAX_OUTPUT } from './exec.js';

export interface OllamaModel {
  name: string;
  expiresAt: string | null;
  sizeVram: number | null;
}

export function parseOllamaPs(body: unknown): OllamaModel[] | null {
  if (typeof body !== 'object' || body === null || !Array.isArray((body as { models?: unknown }).models)) return null;
  const out: OllamaModel[] = [];
  for (const m of (body as { models: unknown[] }).models) {
    if (typeof m !== 'object' || m === null) continue;
    const o = m as Record<string, unknown>;
    const name = typeof o.name === 'string' ? o.name : typeof o.model === 'string' ? o.model : '?';
    out.push({ name, expiresAt: typeof o.expires_at === 'string' ? o.expires_at : null, sizeVram: typeof o.size_vram === 'number' ? o.size_vram : null });
  }
  return out;
}

export type HttpGet = (url: string, timeoutMs: number) => Promise<{ status: number; body: string }>;

/**
 * GET over a plain `net` socket for http: URLs (HTTP/1.0, Connection: close): the agent already loads
 * `net` for its socket, and node:http would add ~2.5 MB of RSS for one small local request per sample.
 * https: URLs load node:https on first use.
 */
export const realHttpGet: HttpGet = async (url, timeoutMs) => {
  const u = new URL(url);
  if (u.protocol === 'https:') return httpsGet(url, timeoutMs);
  if (u.protocol !== 'http:') throw Object.assign(new Error(`unsupported URL scheme ${u.protocol}`), { code: 'EPROTO' });
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const sock = connect({ host, port: Number(u.port || 80) });
    sock.setTimeout(timeoutMs, () => sock.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    sock.on('connect', () => {
      sock.write(`GET ${u.pathname}${u.search} HTTP/1.0\r\nHost: ${u.host}\r\nAccept: application/json\r\nConnection: close\r\n\r\n`);
    });
    sock.on('data', (d: Buffer) => {
      size += d.length;
      if (size > MAX_OUTPUT + 64 * 1024) sock.destroy(new Error('response too large'));
      else chunks.push(d);
    });
    sock.on('error', reject);
    sock.on('end', () => {
      try {
        resolve(parseHttpResponse(Buffer.concat(chunks).toString('utf8')));
      } catch (err) {
        reject(err);
      }
    });
  });
};

/** Status and body of a whole HTTP/1.x response (chunked bodies decoded). */
export function parseHttpResponse(text: string): { status: number; body: string } {
  const head = text.indexOf('\r\n\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  if (head < 0 || !status) throw Object.assign(new Error('not an HTTP response'), { code: 'EPROTO' });
  const headers = text.slice(0, head);
  let body = text.slice(head + 4);
  if (/^transfer-encoding:\s*chunked\s*$/im.test(headers)) {
    let out = '';
    let rest = body;
    for (;;) {
      const eol = rest.indexOf('\r\n');
      const n = eol < 0 ? NaN : parseInt(rest.slice(0, eol), 16);
      if (!Number.isFinite(n) || n === 0) break;
      out += rest.slice(eol + 2, eol + 2 + n);
      rest = rest.slice(eol + 2 + n + 2);
    }
    body = out;
  }
  return { status: Number(status[1]), body };
}

async function httpsGet(url: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  const https = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = https.get(url, { timeout: timeoutMs, headers: { accept: 'application/json' } }, (res) => {
      let body = '';
      let size = 0;
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        size += d.length;
        if (size > MAX_OUTPUT) req.destroy(new Error('response too large'));
        else body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
  });
}

/** Stateful: remembers each model's expires_at between looks (see the file comment). */
export class OllamaCheck {
  private seen: Map<string, string | null> | null = null;

  constructor(private readonly get: HttpGet = realHttpGet) {}

  async run(baseUrl: string, timeoutMs = 2000): Promise<CheckResult> {
    const url = `${baseUrl.replace(/\/+$/, '')}/api/ps`;
    let res: { status: number; body: string };
    try {
      res = await this.get(url, timeoutMs);
    } catch (err) {
      this.seen = null;
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      return { status: 'unavailable', reason: `Ollama not reachable at ${baseUrl} (${code})` };
    }
    if (res.status !== 200) {
      this.seen = null;
      return { status: 'unavailable', reason: `Ollama at ${baseUrl} answered HTTP ${res.status} to /api/ps` };
    }
    let models: OllamaModel[] | null;
    try {
      models = parseOllamaPs(JSON.parse(res.body));
    } catch {
      models = null;
    }
    if (!models) {
      this.seen = null;
      return { status: 'unavailable', reason: `Ollama at ${baseUrl} sent an unexpected /api/ps answer` };
    }
    const prev = this.seen;
    this.seen = new Map(models.map((m) => [m.name, m.expiresAt]));
    if (models.length === 0) return { status: 'clear', reason: 'Ollama has no model loaded' };
    const used: string[] = [];
    for (const m of models) {
      const before = prev?.get(m.name);
      if (prev === null || before === undefined) used.push(`${m.name} (just loaded)`);
      else if (m.expiresAt !== null && before !== null && Date.parse(m.expiresAt) > Date.parse(before)) used.push(`${m.name} (keep-alive extended)`);
    }
    if (used.length > 0) return { status: 'busy', reason: `Ollama model in use: ${used.join(', ')}` };
    return { status: 'clear', reason: `Ollama: ${models.map((m) => m.name).join(', ')} loaded but not used since the last look` };
  }
}
