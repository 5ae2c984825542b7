import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOT_DIR = join(import.meta.dirname, '..', '..', 'test-results', 'e2e');
export const RENDERER_DIR = join(import.meta.dirname, '..', '..', 'out', 'renderer');

/** Debian's Chromium, headless; a missing browser fails the test with what to install. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`E2E tests need Debian's Chromium at ${CHROMIUM}: apt-get install -y chromium (npm test installs it).`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--headless',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
    ],
  });
}

/** The built renderer the harness serves; builds it when missing so a lone e2e run works. */
export async function ensureRendererBuilt(): Promise<string> {
  if (!existsSync(join(RENDERER_DIR, 'index.html'))) {
    const { build } = await import('vite');
    await build({ configFile: join(import.meta.dirname, '..', '..', 'vite.config.ts'), logLevel: 'warn' });
  }
  return RENDERER_DIR;
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: false });
  return path;
}

/** Collects console errors and CSP violations so a test can assert the page ran clean. */
export function watchConsole(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  return problems;
}
