#!/usr/bin/env node
// npm start: build, make sure the Electron binary is there (download it if needed), open the app.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const electronDir = path.join(root, 'node_modules', 'electron');
const pathTxt = path.join(electronDir, 'path.txt');

function run(args, what) {
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`${what} failed${r.signal ? ` (${r.signal})` : ''}.`);
    return false;
  }
  return true;
}

if (!run([path.join(root, 'scripts', 'build.mjs')], 'Build')) process.exit(1);

if (!existsSync(electronDir)) {
  console.error('Electron is not installed (node_modules/electron is missing). Run `npm install` first.');
  process.exit(1);
}

if (!existsSync(pathTxt)) {
  // npm 11 may skip install scripts, so the Electron binary is fetched here on first start.
  console.log('Downloading the Electron binary (first start)...');
  const ok = run([path.join(electronDir, 'install.js')], 'Downloading Electron');
  if (!ok || !existsSync(pathTxt)) {
    console.error(
      [
        '',
        'Could not download Electron, so the desktop window cannot open on this machine',
        '(no network access to the Electron release server?).',
        'To run the same UI against the same core in a browser, use:  npm run harness',
        'To retry the download later:                               node node_modules/electron/install.js',
        '',
      ].join('\n'),
    );
    process.exit(1);
  }
}

// Only now is it safe to require('electron'): it returns the binary's path when path.txt exists.
const require = createRequire(import.meta.url);
const electronBinary = require('electron');

const child = spawn(electronBinary, ['.', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (!child.killed) child.kill(signal);
  });
}
child.on('error', (err) => {
  console.error(`Could not start Electron (${electronBinary}): ${err.message}`);
  process.exit(1);
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
