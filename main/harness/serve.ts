import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createFleet } from '../fleet.js';
import { MemorySecretStore } from '../secrets/memory.js';
import { resolveDataDir } from '../store/data-dir.js';
import { openFleetStore } from '../store/fleet-store.js';
import { startHarness } from './server.js';

// `npm run harness`: the desktop app's UI and core, in a browser, for machines without Electron.
const { values } = parseArgs({ options: { home: { type: 'string' }, port: { type: 'string' } } });
const rendererDir = fileURLToPath(new URL('../../out/renderer', import.meta.url));
if (!existsSync(`${rendererDir}/index.html`)) {
  console.error('fleetwake harness: the renderer is not built. Run "npm run build" first.');
  process.exit(1);
}
const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { version: string };
const store = openFleetStore(resolveDataDir(values.home));
for (const p of store.problems) console.error(`warning: ${p}`);
const fleet = createFleet({
  store,
  secrets: new MemorySecretStore(),
  appVersion: pkg.version,
  homeDir: homedir(),
  keepConnected: true,
});
const harness = await startHarness({ fleet, rendererDir, port: values.port ? Number(values.port) : 0 });
console.log(`Fleetwake harness: open ${harness.url}`);
const stop = async () => {
  await harness.close();
  await fleet.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
