#!/usr/bin/env node
// Builds the app into out/:
//   out/renderer/          vite build of the React UI (root vite.config.ts)
//   out/electron/main.cjs  Electron main process (esbuild, CommonJS, node20)
//   out/electron/preload.cjs  sandboxed preload: one CommonJS file that requires only 'electron'
//   out/cli/fleetwake.cjs  the `fleetwake` CLI (scripts/build-cli.mjs; bin/fleetwake.cjs runs it)
// and what the app ships to servers (resources/agent, resources/runtime), whose hashes it pins into the
// main bundle through main/deploy/pinned-artifacts.generated.ts (scripts/pin-artifacts.mjs).
// Usage: node scripts/build.mjs [--renderer-only]
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const rendererOnly = process.argv.includes('--renderer-only');
// vite.config.ts uses paths relative to the repository root.
process.chdir(root);

const ms = (t0) => `${Math.round(performance.now() - t0)} ms`;

async function buildRenderer() {
  const t0 = performance.now();
  const { build } = await import('vite');
  const configFile = path.join(root, 'vite.config.ts');
  // vite.config.ts owns root/outDir (renderer/ -> out/renderer/); pass nothing that would override it.
  await build({ configFile: existsSync(configFile) ? configFile : false, logLevel: 'warn' });
  console.log(`renderer   out/renderer/            ${ms(t0)}`);
}

/** @param {import('esbuild').BuildOptions} options */
async function bundle(label, options) {
  const t0 = performance.now();
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: true,
    logLevel: 'warning',
    metafile: true,
    legalComments: 'none',
    ...options,
  });
  console.log(`${label.padEnd(10)} ${path.relative(root, options.outfile).padEnd(24)} ${ms(t0)}`);
  return result;
}

/** The preload runs sandboxed: its bundle may require nothing but 'electron'. */
function checkPreloadImports(result) {
  const bad = [];
  for (const output of Object.values(result.metafile.outputs)) {
    for (const imp of output.imports) if (imp.external && imp.path !== 'electron') bad.push(imp.path);
  }
  if (bad.length > 0) throw new Error(`preload bundle requires ${bad.join(', ')}; a sandboxed preload may only require 'electron'`);
}

/** A step's failure is reported by that step alone; the steps that needed it just do not run. */
const NOT_RUN = Symbol('not run');
function after(deps, fn) {
  return Promise.all(deps).then(fn, () => Promise.reject(NOT_RUN));
}

async function main() {
  const t0 = performance.now();
  const steps = [['renderer', buildRenderer()]];
  if (!rendererOnly) {
    const agent = import('./build-agent.mjs').then((m) => m.buildAgent());
    // The Node runtime shipped for servers without node (skipped when already fetched).
    const runtime = import('./fetch-node-runtime.mjs').then((m) => m.fetchNodeRuntime());
    const pins = after([agent, runtime], () => import('./pin-artifacts.mjs').then((m) => m.pinArtifacts()));
    steps.push(
      ['agent', agent],
      ['runtime', runtime],
      ['pins', pins],
      [
        'main',
        // The main bundle compiles the pins in, so it is built after them.
        after([pins], () =>
          bundle('main', {
            entryPoints: ['main/electron/main.ts'],
            outfile: 'out/electron/main.cjs',
            // ssh2 stays a node_modules dependency (electron-builder ships production deps): it loads its
            // optional native addons (sshcrypto.node, cpu-features) with guarded require() calls.
            external: ['electron', 'ssh2', 'cpu-features'],
            // The sources are ES modules; the few that resolve a module next to themselves
            // (createRequire(import.meta.url)) get this file's URL in the CommonJS bundle.
            define: { 'import.meta.url': '__fwImportMetaUrl' },
            banner: { js: "const __fwImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
          }),
        ),
      ],
      [
        'cli',
        // The CLI compiles the pins in too.
        after([pins], () => import('./build-cli.mjs').then((m) => m.buildCli())),
      ],
      [
        'preload',
        bundle('preload', {
          entryPoints: ['preload/preload.ts'],
          outfile: 'out/electron/preload.cjs',
          external: ['electron'],
        }).then(checkPreloadImports),
      ],
    );
  }
  // Independent steps run together; every failure is reported, not just the first.
  const results = await Promise.allSettled(steps.map(([, p]) => p));
  const failed = results.flatMap((r, i) => (r.status === 'rejected' && r.reason !== NOT_RUN ? [[steps[i][0], r.reason]] : []));
  for (const [name, err] of failed) console.error(`${name} build failed: ${err instanceof Error ? err.message : String(err)}`);
  if (failed.length > 0) process.exit(1);
  console.log(`build done in ${ms(t0)}`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
