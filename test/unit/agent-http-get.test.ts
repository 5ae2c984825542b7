import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { OllamaCheck, parseHttpResponse, realHttpGet } from '../../remote-agent/idle/ollama.js';

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

async function serve(handler: http.RequestListener): Promise<string> {
  const s = http.createServer(handler);
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

describe('realHttpGet over a plain socket (no node:http in the agent)', () => {
  it('gets status and body from a real HTTP server, path and query included', async () => {
    const seen: string[] = [];
    const base = await serve((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.host}`);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ models: [{ name: 'llama3:8b', expires_at: '2025-01-05T10:00:00Z' }] }));
    });
    const r = await realHttpGet(`${base}/api/ps?x=1`, 2000);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body).models[0].name).toBe('llama3:8b');
    expect(seen).toEqual([`GET /api/ps?x=1 ${base.slice('http://'.length)}`]);
    expect(await new OllamaCheck().run(base)).toEqual({ status: 'busy', reason: 'Ollama model in use: llama3:8b (just loaded)' });
  });

  it('non-200, refused and timeout keep the reasons the Ollama gate shows', async () => {
    const base = await serve((_req, res) => {
      res.statusCode = 404;
      res.end('404 page not found');
    });
    expect(await realHttpGet(`${base}/api/ps`, 2000)).toEqual({ status: 404, body: '404 page not found' });
    await expect(realHttpGet('http://127.0.0.1:9/api/ps', 2000)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    const slow = await serve(() => undefined);
    await expect(realHttpGet(`${slow}/api/ps`, 300)).rejects.toMatchObject({ code: 'ETIMEDOUT' });
  });

  it('decodes a chunked body', () => {
    expect(parseHttpResponse('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{"a"\r\n3\r\n:1}\r\n0\r\n\r\n')).toEqual({ status: 200, body: '{"a":1}' });
    expect(() => parseHttpResponse('garbage')).toThrow();
  });
});
