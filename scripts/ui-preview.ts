/**
 * Dev-only: look at the renderer without the real core.
 *
 *   npx vite build && npx tsx scripts/ui-preview.ts
 *
 * Serves out/renderer through the real harness server (main/harness/server.ts) backed by an in-memory
 * FAKE fleet (ui-preview/fake-fleet.ts), drives Debian Chromium through the main screens and writes test-results/ui-preview/*.png.
 * Pass --serve to keep the server running and print the URL instead (open it in a browser yourself).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { startHarness } from '../main/harness/server.js';
import type { Prompt } from '../preload/api.js';
import { FakeFleet } from './ui-preview/fake-fleet.js';

const ROOT = resolve('out/renderer');
const SHOTS = resolve('test-results/ui-preview');

// ---- server ----------------------------------------------------------------------------------------

/** The real harness server (main/harness/server.ts) in front of the fake fleet. */
async function startServer(fleet: FakeFleet) {
  const token = randomBytes(16).toString('hex');
  let harness = await startHarness({ fleet, rendererDir: ROOT, token });
  return {
    url: harness.url,
    /**
     * Cut the page's socket (the "lost connection" banner). The harness can only close as a whole, so
     * it starts again on the same port and token for the reloads that follow.
     */
    dropSockets: async () => {
      const { port } = harness;
      await harness.close();
      harness = await startHarness({ fleet, rendererDir: ROOT, port, token });
    },
    close: () => harness.close(),
  };
}

// ---- screenshots -------------------------------------------------------------------------------------

async function shot(page: Page, name: string) {
  await page.waitForTimeout(450); // let transitions (and meter widths) settle
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
    page.on("pageerror", (e) => problems.push(`page error: ${e.message} ${e.stack ?? ""}`));

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
    await page.getByLabel('Port', { exact: true }).fill('70000');
    await page.getByLabel('User').fill('ml');
    await page.getByLabel('Identity file').fill('~/.ssh/id_ed25519');
    await page.getByRole('button', { name: 'Save host' }).click();
    await page.getByTestId('field-error-port').waitFor();
    await shot(page, '04-add-host-error');
    // Fix it and save: the host key question for the new host opens by itself.
    await page.getByLabel('Port', { exact: true }).fill('22');
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

    // 8. agents and live metrics
    await page.getByTestId('gpu-row-dgx-h100-7').waitFor();
    await page.getByTestId('metric-cpu-a6000-ws').waitFor();
    await page.waitForTimeout(1200);
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot(page, '20-fleet-metrics');
    await page.screenshot({ path: join(SHOTS, '21-fleet-metrics-full.png'), fullPage: true });
    await page.getByTestId('host-card-h200-mig').screenshot({ path: join(SHOTS, '22-agent-outdated-card.png') });
    await page.getByTestId('host-card-gpu-a100-1').screenshot({ path: join(SHOTS, '22b-agent-unreachable-card.png') });

    // host page, 1 h then 7 d
    await page.getByTestId('host-open-dgx-h100').click();
    await page.getByTestId('host-page-dgx-h100').waitFor();
    await page.getByTestId('chart-gpu-util-7').locator('svg.recharts-surface').waitFor();
    await shot(page, '23-host-page-1h');
    await page.screenshot({ path: join(SHOTS, '24-host-page-1h-full.png'), fullPage: true });
    await page.getByTestId('range-7d').click();
    await page.locator('[data-testid="range-7d"][aria-pressed="true"]').waitFor();
    await page.waitForTimeout(600);
    await page.screenshot({ path: join(SHOTS, '25-host-page-7d-full.png'), fullPage: true });
    await page.getByTestId('host-page-back').click();
    await page.getByTestId('host-open-h200-mig').click();
    await page.getByTestId('chart-gpu-util-0').waitFor();
    await page.waitForTimeout(600);
    await page.screenshot({ path: join(SHOTS, '26-host-page-mig-full.png'), fullPage: true });
    await page.getByTestId('host-page-back').click();
    await page.getByTestId('host-open-home-4080').click();
    await page.getByTestId('range-24h').click();
    await page.getByTestId('chart-gpu-util-0').waitFor();
    await page.waitForTimeout(600);
    await page.screenshot({ path: join(SHOTS, '27-host-page-home-24h-full.png'), fullPage: true });
    await page.getByTestId('host-page-back').click();

    // deploy: sudo password, then progress on the card and on the host page
    fleet.stepMs = 4000;
    await page.getByTestId('host-card-bastion').getByRole('button', { name: 'Install agent' }).click();
    await page.getByTestId('prompt-dialog').waitFor();
    await page.getByTestId('prompt-input-0').fill('correct horse');
    await shot(page, '28-sudo-prompt');
    await page.getByRole('dialog').getByRole('button', { name: 'Continue' }).click();
    await page.locator('[data-testid="agent-state-bastion"][data-state="installing"]').waitFor();
    await page.waitForTimeout(4500);
    await page.getByTestId('host-card-bastion').screenshot({ path: join(SHOTS, '29-deploy-card.png') });
    await page.getByTestId('host-open-bastion').click();
    await page.getByTestId('deploy-progress').waitFor();
    await page.waitForTimeout(4200);
    await shot(page, '30-deploy-in-progress');
    fleet.stepMs = 300;
    await page.locator('[data-testid="deploy-progress"][data-state="done"]').waitFor({ timeout: 60_000 });
    await page.waitForTimeout(1500);
    await shot(page, '31-deploy-done');
    await page.getByRole('button', { name: 'Uninstall…' }).click();
    await page.getByTestId('uninstall-purge').check();
    await shot(page, '32-uninstall-confirm');
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
    await page.getByTestId('host-page-back').click();

    // 11. sleep & wake: an asleep card, a waking one with live progress, a failed wake
    await page.evaluate(() => window.scrollTo(0, 0));
    fleet.demoWaking('gpu-4090-home');
    await page.getByTestId('wake-progress-gpu-4090-home').waitFor();
    await page.waitForTimeout(1600);
    await page.screenshot({ path: join(SHOTS, '50-fleet-sleep-full.png'), fullPage: true });
    await page.getByTestId('host-card-gpu-h100-2').screenshot({ path: join(SHOTS, '51-card-asleep.png') });
    await page.getByTestId('host-card-gpu-4090-home').screenshot({ path: join(SHOTS, '52-card-waking.png') });
    await page.getByTestId('wake-gpu-h100-2').click();
    await page.locator('[data-testid="wake-progress-gpu-h100-2"] [data-step="network-up"][data-state="done"]').waitFor();
    await page.waitForTimeout(300);
    await page.getByTestId('host-card-gpu-h100-2').screenshot({ path: join(SHOTS, '53-card-waking-mid.png') });
    await page.locator('[data-testid="host-card-gpu-h100-2"][data-state="online"]').waitFor({ timeout: 15_000 });
    await page.getByTestId('host-card-gpu-h100-2').screenshot({ path: join(SHOTS, '53b-card-woke.png') });
    await page.getByTestId('wake-tower-3090').click();
    await page.locator('[data-testid="wake-progress-tower-3090"][data-state="failed"]').waitFor({ timeout: 15_000 });
    await page.waitForTimeout(300);
    await page.getByTestId('host-card-tower-3090').screenshot({ path: join(SHOTS, '54-card-wake-failed.png') });
    await page.getByTestId('suspend-a6000-ws').click();
    await page.getByTestId('suspend-dialog').waitFor();
    await shot(page, '55-suspend-confirm');
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();

    // 12. idle panel: counting down, then a field error, then an active host
    await page.getByTestId('host-open-a6000-ws').click();
    await page.getByTestId('suspend-countdown').waitFor();
    const c1 = await page.getByTestId('suspend-countdown').textContent();
    await page.waitForTimeout(2100);
    const c2 = await page.getByTestId('suspend-countdown').textContent();
    console.log(`  countdown ticks: ${c1} -> ${c2}`);
    if (c1 === c2) problems.push(`countdown did not tick (${c1})`);
    await page.locator('.host-panels-idle').screenshot({ path: join(SHOTS, '56-idle-panel.png') });
    await page.screenshot({ path: join(SHOTS, '57-host-page-idle-full.png'), fullPage: true });
    await page.getByTestId('idle-field-idleTimeoutSeconds').fill('2');
    await page.getByTestId('idle-save').click();
    await page.getByTestId('idle-error-idleTimeoutSeconds').waitFor();
    await page.locator('.host-panels-idle').screenshot({ path: join(SHOTS, '58-idle-field-error.png') });
    await page.getByTestId('idle-field-idleTimeoutSeconds').fill('20');
    await page.getByTestId('idle-save').click();
    await page.getByTestId('idle-error-idleTimeoutSeconds').waitFor({ state: 'detached' });
    await page.waitForTimeout(300);
    console.log(`  countdown after 20 min timeout: ${await page.getByTestId('suspend-countdown').textContent()}`);
    await page.getByTestId('host-page-back').click();
    await page.getByTestId('host-open-dgx-h100').click();
    await page.locator('[data-testid="idle-state"][data-state="active"]').waitFor();
    await page.locator('.host-panels-idle').screenshot({ path: join(SHOTS, '59-idle-active.png') });
    await page.getByTestId('host-page-back').click();

    // 13. energy view and preferences
    await page.getByTestId('open-energy').click();
    await page.getByTestId('energy-total').waitFor();
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(SHOTS, '60-energy-full.png'), fullPage: true });
    await page.getByTestId('pref-sleepWatts').fill('500');
    await page.getByTestId('pref-save').click();
    await page.getByTestId('pref-error-sleepWatts').waitFor();
    await page.getByTestId('preferences').screenshot({ path: join(SHOTS, '61-prefs-error.png') });
    await page.getByTestId('energy-back').click();

    // 14. tray icons as generated into resources/ (light and dark bars, 1x and 2x)
    const icons = await browser.newPage({ viewport: { width: 760, height: 330 } });
    const png = async (n: string) => `data:image/png;base64,${(await readFile(resolve('resources', `tray-${n}.png`))).toString('base64')}`;
    let html = '<body style="margin:0;font:12px system-ui">';
    for (const [bg, fg] of [['#eceff3', '#333'], ['#1f2430', '#ccc']]) {
      html += `<div style="background:${bg};color:${fg};padding:14px;display:flex;gap:22px;align-items:flex-end">`;
      for (const n of ['awake', 'asleep', 'trouble', 'awakeTemplate', 'asleepTemplate', 'troubleTemplate']) {
        html += `<div style="text-align:center"><img src="${await png(`${n}@2x`)}" style="width:64px;image-rendering:pixelated"><br>`;
        html += `<img src="${await png(n)}" style="width:16px"> <img src="${await png(`${n}@2x`)}" style="width:16px"><br>${n}</div>`;
      }
      html += '</div>';
    }
    await icons.setContent(html);
    await icons.screenshot({ path: join(SHOTS, '62-tray-icons.png') });
    await icons.close();

    // 9. lost connection
    await srv.dropSockets();
    await page.getByTestId('banner-connection-lost').waitFor();
    await shot(page, '10-connection-lost');

    // 10. narrow windows
    await page.setViewportSize({ width: 720, height: 900 });
    await page.reload();
    await page.getByTestId('host-card-bastion').waitFor();
    await shot(page, '11-narrow');
    await page.setViewportSize({ width: 900, height: 800 });
    await page.reload();
    await page.getByTestId('gpu-row-dgx-h100-7').waitFor();
    await page.waitForTimeout(1200);
    await shot(page, '40-narrow-900-fleet');
    await page.getByTestId('host-open-dgx-h100').click();
    await page.getByTestId('chart-gpu-util-0').locator('svg.recharts-surface').waitFor();
    await page.waitForTimeout(600);
    await page.screenshot({ path: join(SHOTS, '41-narrow-900-host-page-full.png'), fullPage: true });
  } finally {
    fleet.stopSampling();
    await browser.close();
    await srv.close();
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
