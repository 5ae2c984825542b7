/**
 * Sleep and wake from the UI: Chromium -> harness -> core -> real sshd -> the real agent, with the sleep
 * simulator as its suspend command. Suspend from the card, see `asleep`, press Wake and watch `waking`
 * with its steps, then `online`; switch automatic suspend on from the host page, watch the countdown run
 * out, wake it from there, and find both sleeps in the history.
 *
 * NETWORK RULE: the host's Wake-on-LAN target is the simulator's port on 127.0.0.1, and the fleet's wake
 * guard refuses anything else before a packet leaves.
 */
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopScript } from '../../main/deploy/index.js';
import { startHarness, type Harness } from '../../main/harness/server.js';
import type { GuardedTarget } from '../../main/sleep/wake/wake.js';
import { ensureRendererBuilt, launchChromium, screenshot, watchConsole } from '../support/browser.js';
import { makeTestFleet, type TestFleet } from '../support/fleet.js';
import { generateKey, type GeneratedKey } from '../support/keys.js';
import { requireTools } from '../support/require-tools.js';
import { assertLoopbackTarget, startSleepSim, type SleepSim } from '../support/sleep-sim.js';
import { startSshd, type SshdHandle } from '../support/sshd.js';
import { authorizeKey, ensureUser, type TestUser } from '../support/users.js';

const run = promisify(execFile);
const USER = 'fwte2esleep';
const HOST = 'gpu-sleepy';
const MAC = '02:00:5e:77:00:42';
/** Long enough that the card is seen `waking` with its steps, as a real boot would be. */
const BOOT_MS = 2_500;

let browser: Browser;
let sshd: SshdHandle;
let key: GeneratedKey;
let user: TestUser;
let sim: SleepSim;
let t: TestFleet;
let harness: Harness;
let page: Page;
let consoleProblems: string[];
const guarded: GuardedTarget[] = [];

const installDir = () => join(user.home, '.local/share/fleetwake');
const configDir = () => join(user.home, '.config/fleetwake');

async function stopAgent(): Promise<void> {
  await run('sh', ['-c', stopScript(join(installDir(), 'fleetwake-agent.cjs'))]).catch(() => undefined);
}

/**
 * Records every state the element with `testId` shows (data-state), so a short state between two polls
 * is not missed. Read it back with seenStates().
 */
async function recordStates(testId: string): Promise<void> {
  await page.evaluate((id) => {
    const w = window as unknown as { __seen: Record<string, string[]> };
    w.__seen ??= {};
    const seen: string[] = (w.__seen[id] = []);
    const note = () => {
      const s = document.querySelector(`[data-testid="${id}"]`)?.getAttribute('data-state');
      if (s && seen.at(-1) !== s) seen.push(s);
    };
    new MutationObserver(note).observe(document.body, { subtree: true, childList: true, attributes: true });
    note();
  }, testId);
}

function seenStates(testId: string): Promise<string[]> {
  return page.evaluate((id) => (window as unknown as { __seen: Record<string, string[]> }).__seen[id] ?? [], testId);
}

beforeAll(async () => {
  requireTools();
  const rendererDir = await ensureRendererBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'fleetwake-e2e-sleep-'));
  chmodSync(dir, 0o755);
  key = await generateKey(dir, { type: 'ed25519', name: 'e2esleep' });
  user = await ensureUser(USER);
  await authorizeKey(USER, key.publicKey);
  await stopAgent();
  rmSync(installDir(), { recursive: true, force: true });
  rmSync(configDir(), { recursive: true, force: true });

  sshd = await startSshd({ allowUsers: [USER], passwordAuthentication: false });
  sim = await startSleepSim({ sshd, user, mac: MAC, bootDelayMs: BOOT_MS });

  // The agent's config exists before deploy, so deploy keeps it: 1 s samples, a short idle timeout,
  // thresholds that tolerate the CPU other test files burn on this shared box, automatic suspend off
  // until the UI turns it on, and the simulator as the suspend command.
  for (const d of [join(user.home, '.config'), configDir()]) {
    mkdirSync(d, { recursive: true });
    chownSync(d, user.uid, user.gid);
  }
  const yaml = [
    'metrics:',
    '  interval_seconds: 1',
    'idle:',
    '  cpu_idle_threshold: 99',
    '  gpu_idle_threshold: 99',
    '  window_seconds: 10',
    '  idle_timeout_seconds: 6',
    '  min_samples: 2',
    '  enable_suspend: false',
    '  locked: [gpu_idle_threshold]',
    'suspend:',
    `  command: [${sim.suspendCommand.map((a) => JSON.stringify(a)).join(', ')}]`,
    '',
  ].join('\n');
  writeFileSync(join(configDir(), 'agent.yaml'), yaml, { mode: 0o600 });
  chownSync(join(configDir(), 'agent.yaml'), user.uid, user.gid);

  t = makeTestFleet({
    wake: {
      guard: (target) => {
        guarded.push(target);
        assertLoopbackTarget(target);
      },
      pollIntervalMs: 100,
    },
    agent: { retryMs: 500, restartIntervalMs: 500 },
  });
  await t.fleet.addHost({ name: HOST, host: sshd.host, port: sshd.port, user: USER, identityFile: key.privatePath, mac: MAC, wolAddress: sim.udpAddress, wolPort: sim.udpPort });
  await t.fleet.trustHostKey(HOST, sshd.hostKeyFingerprint);
  const deployed = await t.fleet.deployAgent(HOST, { mode: 'user' });
  expect(deployed.state, deployed.message).toBe('running');

  harness = await startHarness({ fleet: t.fleet, rendererDir });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  consoleProblems = watchConsole(page);
});

afterAll(async () => {
  await browser?.close();
  await harness?.close();
  await t?.fleet.close().catch(() => undefined);
  await sim?.close().catch(() => undefined);
  if (sshd && sshd.pid === null) await sshd.start().catch(() => undefined);
  if (user) {
    await stopAgent();
    rmSync(installDir(), { recursive: true, force: true });
    rmSync(configDir(), { recursive: true, force: true });
  }
  await sshd?.destroy();
  // The network rule, once more over every packet the UI asked for.
  for (const g of guarded) assertLoopbackTarget(g);
});

describe('sleep and wake in Chromium', () => {
  it('suspend from the card: asleep; Wake: waking with its steps, then online', async () => {
    await page.goto(harness.url);
    const card = page.getByTestId(`host-card-${HOST}`);
    await expect.poll(() => card.getAttribute('data-state'), { timeout: 15_000 }).toBe('online');
    await expect.poll(() => page.getByTestId(`agent-state-${HOST}`).getAttribute('data-state'), { timeout: 15_000 }).toBe('running');
    await recordStates(`host-card-${HOST}`);

    await page.getByTestId(`suspend-${HOST}`).click();
    const dialog = page.getByTestId('suspend-dialog');
    await dialog.waitFor();
    await dialog.getByTestId('suspend-confirm').click();
    await dialog.waitFor({ state: 'detached' });
    await sim.waitFor('asleep', 15_000);
    await expect.poll(() => card.getAttribute('data-state'), { timeout: 15_000 }).toBe('asleep');
    // Asleep, not offline: the agent announced it. The card offers Wake and no longer Suspend.
    expect(await page.getByTestId(`host-state-${HOST}`).textContent()).toMatch(/asleep/i);
    const wake = page.getByTestId(`wake-${HOST}`);
    expect(await wake.isEnabled()).toBe(true);
    expect(await page.getByTestId(`suspend-${HOST}`).count()).toBe(0);
    // Sleeping is not trouble: no red agent chip, no "connection lost", just since when.
    expect(await page.getByTestId(`agent-state-${HOST}`).count()).toBe(0);
    await expect.poll(() => page.getByTestId(`host-message-${HOST}`).textContent()).toMatch(/^Asleep since /);
    expect(await card.textContent()).not.toMatch(/connection lost|unreachable|offline/i);
    await screenshot(page, '20-sleep-card-asleep');

    const packetsBefore = sim.packets.length;
    await wake.click();
    await expect.poll(() => card.getAttribute('data-state'), { timeout: 5_000, interval: 50 }).toBe('waking');
    const steps = page.getByTestId(`wake-progress-${HOST}`);
    await steps.waitFor();
    // The packet is out and the box is "booting": the first step is done, the next one runs.
    await expect.poll(() => steps.locator('[data-step="packet-sent"]').getAttribute('data-state')).toBe('done');
    expect(await steps.locator('[data-state="running"]').count()).toBe(1);
    // Elapsed time against the limit, and a way out, while it boots.
    const clock = page.getByTestId(`wake-clock-${HOST}`);
    expect(await clock.textContent()).toMatch(/^\d+ s of up to \d+ s\s*Cancel$/);
    await screenshot(page, '21-sleep-card-waking');

    await expect.poll(() => card.getAttribute('data-state'), { timeout: 30_000 }).toBe('online');
    await expect.poll(() => page.getByTestId(`agent-state-${HOST}`).getAttribute('data-state'), { timeout: 15_000 }).toBe('running');
    expect(sim.state).toBe('awake');
    expect(sim.wakes).toBe(1);
    const sent = sim.packets.slice(packetsBefore);
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.every((p) => p.valid)).toBe(true);
    // A successful wake leaves no progress list behind, and the live metrics come back.
    await steps.waitFor({ state: 'detached' });
    await page.getByTestId(`metric-cpu-${HOST}`).waitFor({ timeout: 15_000 });
    await screenshot(page, '22-sleep-card-online-after-wake');

    const seen = await seenStates(`host-card-${HOST}`);
    expect(seen.join(' → ')).toMatch(/online → asleep → waking → online$/);
  });

  it('the host page: gates, automatic suspend switched on, the countdown runs out, Wake, history', async () => {
    await page.getByTestId(`host-open-${HOST}`).click();
    await page.getByTestId(`host-page-${HOST}`).waitFor();
    const panel = page.getByTestId('idle-panel');
    await panel.waitFor();
    // Suspend is off (agent.yaml): the `disabled` gate blocks and says so, and there is no countdown.
    const disabled = panel.getByTestId('gate-disabled');
    await expect.poll(() => disabled.getAttribute('data-blocking'), { timeout: 15_000 }).toBe('true');
    expect(await panel.getByTestId('suspend-countdown').count()).toBe(0);
    for (const gate of ['high_cpu', 'high_gpu', 'gpu_processes', 'inhibit', 'sessions', 'ollama_busy']) {
      expect(await panel.getByTestId(`gate-${gate}`).count(), gate).toBe(1);
    }
    // No nvidia-smi and no Ollama on this host: those gates say unavailable, they do not pretend.
    expect(await panel.getByTestId('gate-high_gpu').getAttribute('data-status')).toBe('unavailable');
    expect(await panel.getByTestId('gate-ollama_busy').getAttribute('data-status')).toBe('unavailable');
    await screenshot(page, '23-sleep-idle-panel-off');

    // gpu_idle_threshold is locked in agent.yaml: read-only here, saying who locked it where; the core
    // refuses it too, on that field.
    expect(await panel.getByTestId('idle-field-gpuIdleThreshold').isDisabled()).toBe(true);
    expect(await panel.getByTestId('idle-field-cpuIdleThreshold').isDisabled()).toBe(false);
    expect(await panel.getByTestId('idle-locked-note').textContent()).toContain(`Locked by the administrator in ${join(configDir(), 'agent.yaml')}`);
    await expect(t.fleet.configureIdle(HOST, { gpuIdleThreshold: 50 })).rejects.toMatchObject({ code: 'conflict', field: 'gpuIdleThreshold' });

    // A bad threshold is refused with the field named, and nothing changes on the agent.
    const before = (await t.fleet.getIdleStatus(HOST)).status!.settings;
    await panel.getByTestId('idle-field-cpuIdleThreshold').fill('250');
    await panel.getByTestId('idle-save').click();
    await panel.getByTestId('idle-error-cpuIdleThreshold').waitFor();
    expect(await panel.getByTestId('idle-error-cpuIdleThreshold').textContent()).toMatch(/0.*100/);
    expect((await t.fleet.getIdleStatus(HOST)).status!.settings).toEqual(before);
    await panel.getByRole('button', { name: 'Reset' }).click();
    // Settings that do not fit together: the agent's cross-field refusal lands on the field to change.
    await panel.getByTestId('idle-field-minSamples').fill('50');
    await panel.getByTestId('idle-save').click();
    await panel.getByTestId('idle-error-minSamples').waitFor();
    expect(await panel.getByTestId('idle-error-minSamples').textContent()).toMatch(/window/i);
    expect((await t.fleet.getIdleStatus(HOST)).status!.settings).toEqual(before);
    await panel.getByRole('button', { name: 'Reset' }).click();

    await recordStates(`host-state-${HOST}`);
    await panel.getByTestId('idle-enable').click();
    await expect.poll(async () => (await t.fleet.getIdleStatus(HOST)).status?.settings.enableSuspend).toBe(true);
    const countdown = panel.getByTestId('suspend-countdown');
    await countdown.waitFor({ timeout: 20_000 });
    await countdown.evaluate((el) => el.scrollIntoView({ block: 'center' }));
    await screenshot(page, '24-sleep-idle-countdown');
    expect(Number(await countdown.getAttribute('data-suspend-at'))).toBeGreaterThan(Date.now() - 60_000);

    await sim.waitFor('asleep', 30_000);
    const badge = page.getByTestId(`host-state-${HOST}`);
    await expect.poll(() => badge.getAttribute('data-state'), { timeout: 15_000 }).toBe('asleep');
    await expect.poll(() => panel.textContent()).toContain('is asleep');
    // Nothing to retry or reinstall on a sleeping host, and no stale idle state.
    expect(await page.getByRole('button', { name: 'Retry' }).count()).toBe(0);
    expect(await panel.getByTestId('idle-state').count()).toBe(0);
    expect(await page.getByTestId(`host-page-${HOST}`).locator('.host-head').textContent()).not.toMatch(/connection lost|unreachable/i);
    // The history is there while it sleeps (from what the app saw), the current sleep open.
    const historyAsleep = page.getByTestId('sleep-history');
    await expect.poll(() => historyAsleep.locator('[data-open="true"]').count(), { timeout: 10_000 }).toBe(1);
    expect(await historyAsleep.textContent()).toContain('asleep now');
    await page.evaluate(() => window.scrollTo(0, 0));
    await screenshot(page, '25-sleep-host-page-asleep');

    // Wake from the host page; right after the resume the idle window starts over.
    await page.getByTestId(`wake-${HOST}`).click();
    await expect.poll(() => badge.getAttribute('data-state'), { timeout: 5_000, interval: 50 }).toBe('waking');
    await expect.poll(() => badge.getAttribute('data-state'), { timeout: 30_000 }).toBe('online');
    await expect.poll(() => panel.getByTestId('idle-state').getAttribute('data-state'), { timeout: 15_000 }).toBe('warming_up');
    // Switch automatic suspend off again before the window fills, from the UI.
    await panel.getByTestId('idle-enable').click();
    await expect.poll(async () => (await t.fleet.getIdleStatus(HOST)).status?.settings.enableSuspend).toBe(false);
    expect(sim.suspends).toBe(2);

    const history = page.getByTestId('sleep-history');
    await history.scrollIntoViewIfNeeded();
    await expect.poll(() => history.getByTestId('sleep-period').count(), { timeout: 10_000 }).toBe(2);
    expect(await history.locator('[data-open="true"]').count()).toBe(0);
    expect(await history.locator('.sleep-reason-idle').count()).toBe(1);
    expect(await history.locator('.sleep-reason-manual').count()).toBe(1);
    await screenshot(page, '26-sleep-history');

    const seen = await seenStates(`host-state-${HOST}`);
    expect(seen.join(' → ')).toMatch(/online → asleep → waking → online$/);
    expect(consoleProblems.filter((p) => !/favicon/.test(p))).toEqual([]);
  });
});
