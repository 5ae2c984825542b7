/**
 * Dev-only: look at the renderer without the real core.
 *
 *   npx vite build && npx tsx scripts/ui-preview.ts
 *
 * Serves out/renderer on 127.0.0.1 with a harness-protocol WebSocket at /ws backed by an in-memory FAKE
 * fleet, drives Debian Chromium through the main screens and writes test-results/ui-preview/*.png.
 * Pass --serve to keep the server running and print the URL instead (open it in a browser yourself).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { WebSocketServer, type WebSocket } from 'ws';
import type {
  AppInfo,
  FleetApi,
  FleetEventName,
  FleetEvents,
  HarnessMessage,
  HarnessRequest,
  HostInput,
  HostStatus,
  HostView,
  ImportPreview,
  Prompt,
} from '../preload/api.js';

const ROOT = resolve('out/renderer');
const SHOTS = resolve('test-results/ui-preview');

class FakeError extends Error {
  constructor(
    readonly code: 'invalid-input' | 'not-found' | 'conflict' | 'failed',
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

// ---- the fake fleet ------------------------------------------------------------------------------

type Emit = <E extends FleetEventName>(event: E, payload: FleetEvents[E]) => void;

function view(i: HostInput): HostView {
  return {
    name: i.name,
    host: i.host,
    port: Number(i.port ?? 22),
    user: i.user ?? 'me',
    identityFile: i.identityFile ?? null,
    passwordEnv: i.passwordEnv ?? null,
    jump: i.jump ?? null,
    mac: i.mac ?? null,
    wolAddress: i.wolAddress ?? null,
    wolPort: i.wolPort !== undefined ? Number(i.wolPort) : null,
    hasStoredPassword: false,
    hasStoredPassphrase: false,
  };
}

class FakeFleet implements FleetApi {
  hosts: HostView[] = [];
  statuses = new Map<string, HostStatus>();
  appInfo: AppInfo = { version: '0.1.0', secretStorage: 'available', storeProblems: [], dataDir: '/home/me/.config/fleetwake' };
  emit: Emit = () => {};

  seed(): void {
    const now = Date.now();
    const H = (i: HostInput, st: Omit<HostStatus, 'name' | 'since'>) => {
      this.hosts.push(view(i));
      this.statuses.set(i.name, { name: i.name, since: now, ...st });
    };
    H({ name: 'bastion', host: 'bastion.example.net', user: 'ops', identityFile: '~/.ssh/id_ed25519' }, { state: 'online' });
    H(
      { name: 'gpu-a100-1', host: '10.0.4.11', user: 'ml', jump: 'bastion', mac: '3c:ec:ef:10:22:01' },
      { state: 'online', lastError: 'Connection timed out after 10 s' },
    );
    H({ name: 'gpu-4090-home', host: '192.168.1.40', port: 2222, user: 'anna' }, { state: 'connecting' });
    H(
      { name: 'gpu-h100-2', host: '10.0.4.12', user: 'ml', jump: 'bastion' },
      { state: 'offline', error: 'No route to host (10.0.4.12:22). The server may be asleep.' },
    );
    H(
      { name: 'render-farm', host: 'render.lan', user: 'root', identityFile: '/home/me/.ssh/render_rsa' },
      { state: 'auth-failed', error: 'The server rejected the key ~/.ssh/render_rsa (publickey). Check the user name and that the key is in authorized_keys.' },
    );
    H(
      { name: 'new-box', host: '10.0.9.3', user: 'ubuntu' },
      {
        state: 'host-key-unknown',
        error: 'First connection: confirm the server’s host key.',
        keyType: 'ssh-ed25519',
        fingerprint: 'SHA256:m3b9ZkR0q7yHcY2l1Vb6T9pXo4eJr8sNfW5aQdKgUiE',
      },
    );
    H(
      { name: 'lab-3090', host: 'lab-3090.local', user: 'student' },
      {
        state: 'host-key-changed',
        error: 'The server presented a different host key than the one you trusted.',
        keyType: 'ecdsa-sha2-nistp256',
        fingerprint: 'SHA256:Q1n8cX4vTz0oPp6wR2yHs9LdK3mB7fJe5aGuVi1Zt0A',
        expectedFingerprint: 'SHA256:x7TqL2sWv9bN4mR1cK8pY0hJ6dF3gA5eZuOi2nVtEwM',
      },
    );
    H({ name: 'old-tower', host: '192.168.1.77', user: 'anna' }, { state: 'error', error: 'Agent socket closed unexpectedly (ECONNRESET).' });
  }

  private setStatus(st: Omit<HostStatus, 'since'>): HostStatus {
    const full = { ...st, since: Date.now() };
    this.statuses.set(st.name, full);
    this.emit('host-status', full);
    return full;
  }

  private need(name: string): HostView {
    const h = this.hosts.find((x) => x.name === name);
    if (!h) throw new FakeError('not-found', `No host named ${name}.`);
    return h;
  }

  private validate(input: HostInput, except?: string): void {
    if (!input.name) throw new FakeError('invalid-input', 'Give the host a name.', 'name');
    if (input.name !== except && this.hosts.some((h) => h.name === input.name))
      throw new FakeError('conflict', `A host named ${input.name} already exists. Pick another name.`, 'name');
    if (!input.host) throw new FakeError('invalid-input', 'Enter a hostname or IP address.', 'host');
    if (input.port !== undefined) {
      const p = Number(input.port);
      if (!Number.isInteger(p) || p < 1 || p > 65535)
        throw new FakeError('invalid-input', 'Port must be a whole number from 1 to 65535.', 'port');
    }
  }

  async getAppInfo() {
    return this.appInfo;
  }
  async listHosts() {
    return this.hosts;
  }
  async addHost(input: HostInput) {
    this.validate(input);
    const h = view(input);
    this.hosts.push(h);
    this.emit('hosts-changed', this.hosts);
    this.setStatus({ name: h.name, state: 'connecting' });
    // Like the real core: a first connection stops at the host key question.
    setTimeout(() => {
      if (!this.hosts.some((x) => x.name === h.name)) return;
      this.setStatus({
        name: h.name,
        state: 'host-key-unknown',
        error: 'First connection: confirm the server’s host key.',
        keyType: 'ssh-ed25519',
        fingerprint: 'SHA256:' + randomBytes(32).toString('base64').replace(/=+$/, ''),
      });
    }, 300);
    return h;
  }
  async updateHost(name: string, input: HostInput) {
    this.need(name);
    this.validate(input, name);
    const h = view(input);
    this.hosts = this.hosts.map((x) => (x.name === name ? h : x));
    this.emit('hosts-changed', this.hosts);
    return h;
  }
  async removeHost(name: string) {
    this.need(name);
    this.hosts = this.hosts.filter((h) => h.name !== name);
    this.statuses.delete(name);
    this.emit('hosts-changed', this.hosts);
  }
  async previewSshConfigImport(file?: string): Promise<ImportPreview> {
    return {
      file: file ?? '/home/me/.ssh/config',
      warnings: ['Line 41: Match blocks are not supported and were skipped.', 'Host * defaults were applied to every entry.'],
      candidates: [
        { alias: 'gpu-a6000', input: { name: 'gpu-a6000', host: '10.0.5.21', user: 'ml', identityFile: '~/.ssh/id_ed25519', jump: 'bastion' }, errors: [], exists: false, source: '/home/me/.ssh/config:12' },
        { alias: 'workstation', input: { name: 'workstation', host: 'ws.lan', user: 'anna', port: 2222 }, errors: [], exists: false, source: '/home/me/.ssh/config:20' },
        { alias: 'bastion', input: { name: 'bastion', host: 'bastion.example.net', user: 'ops' }, errors: [], exists: true, source: '/home/me/.ssh/config:3' },
        { alias: 'legacy-*', input: { name: 'legacy-*', host: '' }, errors: [{ field: 'name', message: 'Wildcard patterns cannot be imported as hosts.' }], exists: false, source: '/home/me/.ssh/config:33' },
      ],
    };
  }
  async importHosts(inputs: HostInput[]) {
    const added: HostView[] = [];
    const failed: { name: string; error: { field: string; message: string } }[] = [];
    for (const i of inputs) {
      try {
        added.push(await this.addHost(i));
      } catch (e) {
        const err = e as FakeError;
        failed.push({ name: i.name, error: { field: err.field ?? 'name', message: err.message } });
      }
    }
    return { added, failed };
  }
  async getStatuses() {
    return [...this.statuses.values()];
  }
  async connectHost(name: string) {
    this.need(name);
    return this.setStatus({ name, state: 'connecting' });
  }
  async disconnectHost(name: string) {
    this.need(name);
    this.setStatus({ name, state: 'offline' });
  }
  async trustHostKey(name: string, _fingerprint: string) {
    this.need(name);
    return this.setStatus({ name, state: 'online' });
  }
  async answerPrompt(id: string, _answers: string[] | null, _remember: boolean) {
    this.emit('prompt-closed', { id });
  }
  async forgetSecrets(name: string) {
    this.need(name);
  }
  async openExternal(_url: string) {}
}

// ---- server ----------------------------------------------------------------------------------------

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

async function startServer(fleet: FakeFleet) {
  const token = randomBytes(16).toString('hex');
  const sockets = new Set<WebSocket>();
  fleet.emit = (event, payload) => {
    const msg: HarnessMessage = { kind: 'event', event, payload };
    for (const s of sockets) s.send(JSON.stringify(msg));
  };

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const rel = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname).replace(/^\/+/, '');
    const file = normalize(join(ROOT, rel));
    if (!file.startsWith(ROOT + sep)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      res.end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });

  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/ws' || url.searchParams.get('token') !== token) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      ws.on('message', async (data) => {
        const req = JSON.parse(String(data)) as HarnessRequest;
        let msg: HarnessMessage;
        try {
          const fn = fleet[req.method] as (...a: unknown[]) => Promise<unknown>;
          const value = await fn.apply(fleet, req.args);
          msg = { kind: 'result', id: req.id, result: { ok: true, value } };
        } catch (e) {
          const err = e as FakeError;
          const error = err.field ? { code: err.code, message: err.message, field: err.field } : { code: err.code ?? 'failed', message: err.message };
          msg = { kind: 'result', id: req.id, result: { ok: false, error } };
        }
        ws.send(JSON.stringify(msg));
      });
    });
  });

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/#token=${token}`,
    dropSockets: () => sockets.forEach((s) => s.terminate()),
    close: () => {
      sockets.forEach((s) => s.terminate());
      wss.close();
      server.close();
    },
  };
}

// ---- screenshots -------------------------------------------------------------------------------------

async function shot(page: Page, name: string) {
  await page.waitForTimeout(250); // let transitions settle
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
  console.log(`  ${join('test-results/ui-preview', `${name}.png`)}`);
}

async function main() {
  await readFile(join(ROOT, 'index.html')).catch(() => {
    console.error('out/renderer/index.html is missing: run `npx vite build` first.');
    process.exit(1);
  });
  const fleet = new FakeFleet();
  const srv = await startServer(fleet);

  if (process.argv.includes('--serve')) {
    fleet.seed();
    console.log(`UI preview with a fake fleet: ${srv.url}`);
    return;
  }

  await mkdir(SHOTS, { recursive: true });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const problems: string[] = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));

    console.log('screenshots:');
    // 1. empty fleet
    await page.goto(srv.url);
    await page.getByTestId('empty-state').waitFor();
    await shot(page, '01-empty');

    // 2. populated fleet, with store / keychain banners
    fleet.seed();
    fleet.appInfo = {
      ...fleet.appInfo,
      secretStorage: 'basic_text',
      storeProblems: ['hosts.json was not valid JSON; it was moved aside to hosts.json.corrupt-2025-11-23 and an empty fleet started.'],
    };
    await page.reload();
    await page.getByTestId('host-card-bastion').waitFor();
    await shot(page, '02-fleet-with-banners');
    fleet.appInfo = { ...fleet.appInfo, secretStorage: 'available', storeProblems: [] };
    await page.reload();
    await page.getByTestId('host-card-bastion').waitFor();
    await shot(page, '03-fleet');

    // 3. add host, with a field error from the core
    await page.getByRole('button', { name: 'Add host' }).click();
    await page.getByLabel('Name').fill('gpu-box-9');
    await page.getByLabel('Host').fill('10.0.7.9');
    await page.getByLabel('Port').fill('70000');
    await page.getByLabel('User').fill('ml');
    await page.getByLabel('Identity file').fill('~/.ssh/id_ed25519');
    await page.getByRole('button', { name: 'Save host' }).click();
    await page.getByTestId('field-error-port').waitFor();
    await shot(page, '04-add-host-error');
    // Fix it and save: the host key question for the new host opens by itself.
    await page.getByLabel('Port').fill('22');
    await page.getByRole('button', { name: 'Save host' }).click();
    await page.getByTestId('host-dialog').waitFor({ state: 'detached' });
    await page.getByTestId('host-key-dialog').waitFor();
    await page.getByTestId('host-card-gpu-box-9').waitFor();
    await page.getByRole('dialog').getByRole('button', { name: 'Trust and connect' }).click();
    await page.getByTestId('host-key-dialog').waitFor({ state: 'detached' });
    await page.locator('[data-testid="host-card-gpu-box-9"][data-state="online"]').waitFor();
    await page.getByTestId('host-card-gpu-box-9').getByRole('button', { name: 'Remove' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Remove host' }).click();
    await page.getByTestId('host-card-gpu-box-9').waitFor({ state: 'detached' });

    // 4. host key unknown / changed
    await page.getByTestId('host-card-new-box').getByRole('button', { name: 'Review key' }).click();
    await page.getByTestId('host-key-fingerprint').waitFor();
    await shot(page, '05-host-key-unknown');
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
    await page.getByTestId('host-card-lab-3090').getByRole('button', { name: 'Review key' }).click();
    await page.getByLabel(/Type the new fingerprint/).fill('uVi1Zt0');
    await shot(page, '06-host-key-changed');
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();

    // 5. prompt
    const prompt: Prompt = {
      id: 'p1',
      host: 'render-farm',
      kind: 'passphrase',
      title: 'Unlock SSH key',
      instructions: 'render-farm uses the key /home/me/.ssh/render_rsa, which is protected by a passphrase.',
      prompts: [{ text: 'Passphrase', echo: false }],
      canRemember: true,
    };
    fleet.emit('prompt', prompt);
    await page.getByTestId('prompt-dialog').waitFor();
    await page.getByLabel('Passphrase').fill('hunter2hunter2');
    await shot(page, '07-prompt');
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
    await page.getByTestId('prompt-dialog').waitFor({ state: 'detached' });

    // 6. import
    await page.getByRole('button', { name: 'Import from SSH config' }).click();
    await page.getByRole('button', { name: 'Preview' }).click();
    await page.getByTestId('import-preview').waitFor();
    await shot(page, '08-import');
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();

    // 7. remove confirm
    await page.getByTestId('host-card-old-tower').getByRole('button', { name: 'Remove' }).click();
    await shot(page, '09-remove-confirm');
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();

    // 8. lost connection
    srv.dropSockets();
    await page.getByTestId('banner-connection-lost').waitFor();
    await shot(page, '10-connection-lost');

    // 9. narrow window
    await page.setViewportSize({ width: 720, height: 900 });
    await page.reload();
    await page.getByTestId('host-card-bastion').waitFor();
    await shot(page, '11-narrow');
  } finally {
    await browser.close();
    srv.close();
  }
  if (problems.length) {
    console.log('\nbrowser problems:');
    for (const p of problems) console.log(`  ${p}`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
