/**
 * Issue 10, item 4: the browser harness died on `GET /%E0%A4%A` (an uncaught URIError), and answered any
 * Host header, so a page on a rebound DNS name could read it. Against the real harness over HTTP.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../../main/harness/server.js';
import { makeTestFleet, type TestFleet } from '../support/fleet.js';

let harness: Harness;
let tf: TestFleet;
let dir: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetwake-harness-'));
  fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>t</title>');
  tf = makeTestFleet({ keepConnected: false });
  harness = await startHarness({ fleet: tf.fleet, rendererDir: dir, token: 't0ken' });
});
afterAll(async () => {
  await harness?.close();
  await tf?.fleet.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function get(rawPath: string, host?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: harness.port, path: rawPath, method: 'GET', headers: host === undefined ? {} : { host } }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the harness server', () => {
  it('answers 400 to a path that is not valid percent-encoding, and keeps serving', async () => {
    const bad = await get('/%E0%A4%A');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatch(/percent-encoded/);
    expect((await get('/%')).status).toBe(400);
    expect((await get('/')).status).toBe(200);
  });

  it('serves only requests addressed to 127.0.0.1 or localhost on its own port (DNS rebinding)', async () => {
    expect((await get('/')).status).toBe(200);
    expect((await get('/', `localhost:${harness.port}`)).status).toBe(200);
    expect((await get('/', `LOCALHOST:${harness.port}`)).status).toBe(200);
    for (const host of [`evil.example:${harness.port}`, 'evil.example', `127.0.0.1:${harness.port + 1}`, '127.0.0.1', `localhost.evil.example:${harness.port}`]) {
      const r = await get('/', host);
      expect(r.status, host).toBe(403);
    }
  });

  it('refuses a WebSocket upgrade with a foreign Host even with the right token and origin', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({
        host: '127.0.0.1',
        port: harness.port,
        path: `/ws?token=${harness.token}`,
        headers: {
          host: `evil.example:${harness.port}`,
          origin: `http://127.0.0.1:${harness.port}`,
          connection: 'Upgrade',
          upgrade: 'websocket',
          'sec-websocket-version': '13',
          'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        },
      });
      req.on('response', (res) => resolve(res.statusCode ?? 0));
      req.on('upgrade', () => resolve(101));
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(403);
  });
});
