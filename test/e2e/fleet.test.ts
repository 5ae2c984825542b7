import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../../main/harness/server.js';
import { ensureRendererBuilt, launchChromium, screenshot, watchConsole } from '../support/browser.js';
import { makeTestFleet, type TestFleet } from '../support/fleet.js';
import { generateKey, type GeneratedKey } from '../support/keys.js';
import { requireTools } from '../support/require-tools.js';
import { startSshd, type SshdHandle } from '../support/sshd.js';
import { authorizeKey, ensureUser } from '../support/users.js';

// The real renderer in Debian Chromium, against the real core over the harness, against real sshd.
let browser: Browser;
let sshd: SshdHandle;
let key: GeneratedKey;
let t: TestFleet;
let harness: Harness;
let page: Page;
let consoleProblems: string[];

beforeAll(async () => {
  requireTools();
  const rendererDir = await ensureRendererBuilt();
  key = await generateKey(mkdtempSync(join(tmpdir(), 'fleetwake-e2e-')), { type: 'ed25519', name: 'e2e' });
  await ensureUser('fwte2e');
  await authorizeKey('fwte2e', key.publicKey);
  sshd = await startSshd({ allowUsers: ['fwte2e'] });
  // As in the desktop app: the UI may name key files only under ~/.ssh or ones chosen in the file
  // dialog, which here answers the test key (outside ~/.ssh) as if the user had picked it.
  const allowedDirs: string[] = [];
  t = makeTestFleet({ localFiles: { allowedDirs, pickedFiles: new Set() }, chooseFile: async () => key.privatePath });
  allowedDirs.push(join(t.homeDir, '.ssh'));
  harness = await startHarness({ fleet: t.fleet, rendererDir });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  consoleProblems = watchConsole(page);
});

afterAll(async () => {
  await browser?.close();
  await harness?.close();
  await t?.fleet.close();
  await sshd?.destroy();
});

describe('fleet view in Chromium', () => {
  it('add a host, confirm its key, see it online, stop sshd, see it offline, start it, see it back', async () => {
    await page.goto(harness.url);
    await page.getByTestId('empty-state').waitFor();
    await screenshot(page, '01-empty');

    // A bad port is refused next to the field, and what was typed stays.
    await page.getByRole('button', { name: 'Add host' }).first().click();
    const dialog = page.getByTestId('host-dialog');
    await dialog.waitFor();
    await page.getByLabel('Name').fill('gpu-e2e');
    await page.getByLabel('Host').fill(sshd.host);
    await page.getByLabel('Port', { exact: true }).fill('70000');
    await page.getByLabel('User').fill('fwte2e');
    await dialog.getByRole('button', { name: 'Save host' }).click();
    await expect.poll(() => page.getByTestId('field-error-port').textContent()).toMatch(/65535/);
    expect(await page.getByLabel('Name').inputValue()).toBe('gpu-e2e');
    await screenshot(page, '02-add-host-error');
    expect(await t.fleet.listHosts()).toEqual([]);

    await page.getByLabel('Port', { exact: true }).fill(String(sshd.port));
    // A key file typed outside ~/.ssh is refused beside the field; the same file chosen in the dialog is used.
    await page.getByLabel('Identity file').fill(key.privatePath);
    await dialog.getByRole('button', { name: 'Save host' }).click();
    await expect.poll(() => page.getByTestId('field-error-identityFile').textContent()).toMatch(/outside ~\/\.ssh and was not chosen in a file dialog/);
    expect(await t.fleet.listHosts()).toEqual([]);
    await page.getByLabel('Identity file').fill('');
    await dialog.getByRole('button', { name: 'Browse for the key file' }).click();
    await expect.poll(() => page.getByLabel('Identity file').inputValue()).toBe(key.privatePath);
    // The chosen file answers the error shown beside the field.
    expect(await page.getByTestId('field-error-identityFile').count()).toBe(0);
    await screenshot(page, '02b-add-host-key-chosen');
    await dialog.getByRole('button', { name: 'Save host' }).click();

    // The host key dialog opens by itself for the new host, showing the real fingerprint.
    const keyDialog = page.getByTestId('host-key-dialog');
    await keyDialog.waitFor();
    expect(await page.getByTestId('host-key-fingerprint').textContent()).toContain(sshd.hostKeyFingerprint);
    await screenshot(page, '03-host-key-unknown');
    await keyDialog.getByRole('button', { name: 'Trust and connect' }).click();

    const card = page.getByTestId('host-card-gpu-e2e');
    await expect.poll(() => card.getAttribute('data-state'), { timeout: 15_000 }).toBe('online');
    await screenshot(page, '04-online');

    await sshd.stop();
    await expect.poll(() => card.getAttribute('data-state'), { timeout: 15_000 }).toBe('offline');
    expect(await page.getByTestId('host-message-gpu-e2e').textContent()).toBeTruthy();
    await screenshot(page, '05-offline');

    await sshd.start();
    await expect.poll(() => card.getAttribute('data-state'), { timeout: 20_000 }).toBe('online');

    // The key changes: the card turns red and the dialog demands the new fingerprint.
    await sshd.rotateHostKey();
    await expect.poll(() => card.getAttribute('data-state'), { timeout: 20_000 }).toBe('host-key-changed');
    await card.getByRole('button', { name: 'Review key' }).click();
    await keyDialog.waitFor();
    const accept = keyDialog.getByRole('button', { name: 'Trust new key and connect' });
    expect(await accept.isDisabled()).toBe(true);
    await screenshot(page, '06-host-key-changed');
    await page.getByLabel(/Type the new fingerprint/).fill(sshd.hostKeyFingerprint);
    await accept.click();
    await expect.poll(() => card.getAttribute('data-state'), { timeout: 15_000 }).toBe('online');

    expect(consoleProblems.filter((p) => !/favicon/.test(p))).toEqual([]);
  });

  it('the harness refuses a socket without the token', async () => {
    const bad = await browser.newPage();
    const url = new URL(harness.url);
    await bad.goto(`${url.origin}/#token=wrong`);
    await bad.getByTestId('banner-connection-lost').waitFor({ timeout: 10_000 });
    await bad.close();
  });
});
