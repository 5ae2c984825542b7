import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../../main/harness/server.js';
import { ensureRendererBuilt, launchChromium, screenshot, watchConsole } from '../support/browser.js';
import { installFakeNvidiaSmi } from '../support/fake-gpu-host.js';
import { makeTestFleet, type TestFleet } from '../support/fleet.js';
import { generateKey, type GeneratedKey } from '../support/keys.js';
import { requireTools } from '../support/require-tools.js';
import { startSshd, type SshdHandle } from '../support/sshd.js';
import { authorizeKey, ensureUser, type TestUser } from '../support/users.js';

// The agent loop in the real renderer: Chromium -> harness -> core -> real sshd -> deploy -> agent ->
// live metrics and history charts, with a fake nvidia-smi answering from a real H100 capture.
const run = promisify(execFile);
const USER = 'fwte2eagent';
const HOST = 'gpu-agent';
const CAPTURE = 'linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01.txt';

let browser: Browser;
let sshd: SshdHandle;
let key: GeneratedKey;
let user: TestUser;
let t: TestFleet;
let harness: Harness;
let page: Page;
let consoleProblems: string[];

/** What a user-mode install leaves in the user's home (AGENT_PATHS.user). */
const installDir = () => join(user.home, '.local/share/fleetwake');
const configDir = () => join(user.home, '.config/fleetwake');

/** A previous run that died half way may have left its agent running: stop it by its pid file, remove its files. */
function removeLeftovers(): void {
  const pidFile = join(installDir(), 'state', 'agent.pid');
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 1) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  }
  rmSync(installDir(), { recursive: true, force: true });
  rmSync(configDir(), { recursive: true, force: true });
}

/**
 * Number of points in the plotted line of a chart (M/L/C commands of the recharts curve path); 0 while
 * there is no line. Reads the DOM as it is now, without waiting for the path to appear.
 */
async function curvePoints(testId: string): Promise<number> {
  const d = await page
    .getByTestId(testId)
    .locator('path.recharts-area-curve')
    .evaluateAll((els) => els[0]?.getAttribute('d') ?? '');
  return (d.match(/[MLC]/g) ?? []).length;
}

beforeAll(async () => {
  requireTools();
  const rendererDir = await ensureRendererBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'fleetwake-e2e-agent-'));
  chmodSync(dir, 0o755);

  // A fake nvidia-smi answering from a real H100 capture, first on the host's PATH (sshd SetEnv below).
  const gpu = installFakeNvidiaSmi(dir, CAPTURE);

  key = await generateKey(dir, { type: 'ed25519', name: 'e2eagent' });
  user = await ensureUser(USER); // key-only, no sudo: deploy falls back to user mode
  await authorizeKey(USER, key.publicKey);
  removeLeftovers();

  // Deploy writes agent.yaml only when there is none, and the default samples every 5 s. A config with
  // a 1 s interval placed first makes the card tick every second and the history charts fill in seconds.
  mkdirSync(join(user.home, '.config'), { recursive: true });
  chownSync(join(user.home, '.config'), user.uid, user.gid);
  mkdirSync(configDir(), { recursive: true });
  chownSync(configDir(), user.uid, user.gid);
  const configFile = join(configDir(), 'agent.yaml');
  writeFileSync(configFile, 'metrics:\n  interval_seconds: 1\n');
  chownSync(configFile, user.uid, user.gid);
  chmodSync(configFile, 0o644);

  sshd = await startSshd({
    allowUsers: [USER],
    passwordAuthentication: false,
    extraConfig: [gpu.sshdSetEnv],
  });
  t = makeTestFleet();
  await t.fleet.addHost({ name: HOST, host: sshd.host, port: sshd.port, user: USER, identityFile: key.privatePath });
  await t.fleet.trustHostKey(HOST, sshd.hostKeyFingerprint);
  await t.waitForState(HOST, 'online');

  harness = await startHarness({ fleet: t.fleet, rendererDir });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  consoleProblems = watchConsole(page);
});

afterAll(async () => {
  // The UI uninstalls at the end; this only matters when the test failed before that.
  if (t && existsSync(join(installDir(), 'install.json'))) {
    await t.fleet.uninstallAgent(HOST, { purge: true }).catch(() => undefined);
  }
  await browser?.close();
  await harness?.close();
  await t?.fleet.close();
  await sshd?.destroy();
  if (user) rmSync(configDir(), { recursive: true, force: true });
});

/** An administrator's system agent on this machine (its install.json), which this test must leave alone. */
const systemAgent = existsSync('/opt/fleetwake/install.json');
const initialAgentState = systemAgent ? 'unreachable' : 'not-installed';

describe('agent in Chromium', () => {
  it('install from the card, live GPU metrics, charts that fill, 24 h / 7 d, uninstall with purge', async () => {
    await page.goto(harness.url);
    const card = page.getByTestId(`host-card-${HOST}`);
    await expect.poll(() => card.getAttribute('data-state'), { timeout: 15_000 }).toBe('online');
    const chip = page.getByTestId(`agent-state-${HOST}`);
    // Where an administrator also runs the system agent, this user (not in its group) is told so; Retry
    // only reaches the agent again, and the user's own agent comes from the host page's Reinstall. The
    // suite passes on such a machine too.
    await expect.poll(() => chip.getAttribute('data-state'), { timeout: 15_000 }).toBe(initialAgentState);
    if (systemAgent) {
      expect(await card.textContent()).toMatch(/only for group fleetwake/);
      await card.getByRole('button', { name: 'Retry' }).click();
      await expect.poll(() => chip.getAttribute('data-state')).toBe('unreachable');
      expect(existsSync(installDir())).toBe(false);
      await page.getByTestId(`host-open-${HOST}`).click();
      await page.getByTestId(`host-page-${HOST}`).waitFor();
    }
    const install = systemAgent ? page.getByRole('button', { name: 'Reinstall' }) : card.getByRole('button', { name: 'Install agent' });
    await install.waitFor();

    // Record every state (and step) the agent chip shows, so a short 'installing' phase is not missed.
    await page.evaluate((testId) => {
      const w = window as unknown as { __chip: string[] };
      w.__chip = [];
      const note = () => {
        const el = document.querySelector(`[data-testid="${testId}"]`);
        if (!el) return;
        const entry = `${el.getAttribute('data-state')}|${el.querySelector('.agent-chip-detail')?.textContent ?? ''}`;
        if (w.__chip.at(-1) !== entry) w.__chip.push(entry);
      };
      new MutationObserver(note).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
      note();
    }, `agent-state-${HOST}`);

    await install.click();
    // Auto mode asks for a sudo password only where sudo wants one; this host has none, but if a prompt
    // shows up, cancelling it is the user-mode answer.
    const prompt = page.getByTestId('prompt-dialog');
    await expect
      .poll(
        async () => {
          if (await prompt.isVisible()) await prompt.getByRole('button', { name: 'Cancel' }).click();
          return chip.getAttribute('data-state');
        },
        { timeout: 45_000, interval: 100 },
      )
      .toBe('running');
    const seen = await page.evaluate(() => (window as unknown as { __chip: string[] }).__chip);
    const installing = seen.filter((s) => s.startsWith('installing|'));
    expect(installing.length, `chip states: ${seen.join(' → ')}`).toBeGreaterThan(0);
    // The card names the deploy steps while they run.
    expect(installing.some((s) => s.split('|')[1]!.length > 0), `chip states: ${seen.join(' → ')}`).toBe(true);
    expect(seen.at(-1)).toMatch(/^running\|v\d/);
    expect(await card.getByRole('button', { name: 'Install agent' }).count()).toBe(0);
    const agent = (await t.fleet.getAgentStatuses()).find((a) => a.name === HOST);
    expect(agent?.info?.mode).toBe('user');
    if (systemAgent) await page.getByTestId('host-page-back').click();

    // Live metrics on the card: CPU %, memory, and the H100 at 100 % with its VRAM.
    const cpu = page.getByTestId(`metric-cpu-${HOST}`);
    await cpu.waitFor({ timeout: 15_000 });
    await expect.poll(() => cpu.textContent()).toMatch(/CPU\s*\d+%/);
    await expect.poll(() => page.getByTestId(`metric-mem-${HOST}`).textContent()).toMatch(/Mem\s*\d+(\.\d)? \/ \d+(\.\d)? GiB/);
    const gpu = page.getByTestId(`gpu-row-${HOST}-0`);
    await gpu.waitFor();
    const gpuText = (await gpu.textContent()) ?? '';
    expect(gpuText).toContain('H100');
    expect(gpuText).toContain('100%');
    expect(gpuText).toContain('19.4 / 79.6 GiB');
    await screenshot(page, '10-agent-running-card');

    // The host page: the deploy that just ran, live panel, history charts that gain points.
    await page.getByTestId(`host-open-${HOST}`).click();
    await page.getByTestId(`host-page-${HOST}`).waitFor();
    expect(await page.getByTestId('deploy-progress').getAttribute('data-state')).toBe('done');
    await expect.poll(() => page.locator('[data-testid="agent-panel"]').textContent()).toContain('User service');
    const cpuChart = page.getByTestId('chart-cpu');
    const gpuChart = page.getByTestId('chart-gpu-util-0');
    await cpuChart.waitFor({ timeout: 15_000 });
    await gpuChart.waitFor({ timeout: 15_000 });
    // The agent samples every second (the config placed before deploy), so the 1 h history says so.
    // The resolution is the median interval of the samples so far: give it a few samples to settle.
    await expect.poll(() => page.getByTestId('history').locator('.history-meta').textContent(), { timeout: 20_000 }).toMatch(/\b1 s resolution · live/);
    await expect.poll(() => curvePoints('chart-cpu')).toBeGreaterThan(0);
    const cpuBefore = await curvePoints('chart-cpu');
    const gpuBefore = await curvePoints('chart-gpu-util-0');
    await expect.poll(() => curvePoints('chart-cpu'), { timeout: 15_000 }).toBeGreaterThan(cpuBefore);
    await expect.poll(() => curvePoints('chart-gpu-util-0'), { timeout: 15_000 }).toBeGreaterThan(gpuBefore);

    // Three compute processes in the capture.
    const procs = page.getByTestId('gpu-processes');
    await procs.waitFor();
    expect(await procs.locator('tbody tr').count()).toBe(3);
    await page.getByTestId('history').scrollIntoViewIfNeeded();
    await screenshot(page, '11-host-page-1h');

    // 24 h and 7 d: minute averages (only the minute in progress, this young agent), drawn without errors.
    for (const range of ['24h', '7d'] as const) {
      await page.getByTestId(`range-${range}`).click();
      await expect.poll(() => page.getByTestId(`range-${range}`).getAttribute('aria-pressed')).toBe('true');
      await expect.poll(() => page.getByTestId('history').locator('.history-meta').textContent()).toMatch(/1 min resolution/);
      for (const chart of [cpuChart, gpuChart]) {
        await chart.locator('svg.recharts-surface').waitFor();
        await chart.locator('.recharts-area').first().waitFor({ state: 'attached' });
        expect(await chart.locator('.chart-empty').count()).toBe(0);
      }
      expect(await page.getByTestId('history-empty').count()).toBe(0);
      expect(await page.getByTestId('history').getByRole('alert').count()).toBe(0);
    }
    await page.getByTestId('history').scrollIntoViewIfNeeded();
    await screenshot(page, '12-host-page-7d');

    // Uninstall with purge from the host page.
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.getByRole('button', { name: 'Uninstall…' }).click();
    const dialog = page.getByTestId('uninstall-dialog');
    await dialog.waitFor();
    await dialog.getByTestId('uninstall-purge').check();
    await dialog.getByRole('button', { name: 'Uninstall and delete data' }).click();
    await expect.poll(() => chip.getAttribute('data-state'), { timeout: 30_000 }).toBe(initialAgentState);
    await dialog.waitFor({ state: 'detached' });
    expect(existsSync(installDir())).toBe(false);
    expect(existsSync(configDir())).toBe(false);
    const left = await run('pgrep', ['-u', USER, '-f', 'fleetwake-agent']).catch(() => ({ stdout: '' }));
    expect(left.stdout.trim()).toBe('');

    expect(consoleProblems.filter((p) => !/favicon/.test(p))).toEqual([]);
  });
});
