#!/usr/bin/env node
// Bundles the `fleetwake` CLI into ONE CommonJS file, so a run loads a single file instead of compiling
// the TypeScript sources through tsx each time:
//   out/cli/fleetwake.cjs               main/cli/index.ts and everything it imports, pins included
//   out/cli/fleetwake.inputs.json       { builtAt, inputs }: the source files it was built from, which
//                                       bin/fleetwake.cjs compares with the checkout (a stale build is
//                                       never run silently: see the comment there)
// (bin/fleetwake.cjs adds out/cli/fleetwake.cjs.v8cache, V8's code cache of the bundle, on its first run.)
// ssh2 (and its optional native addon cpu-features) stay in node_modules, as in the Electron main
// bundle: ssh2 loads its addons with guarded require() calls. Everything else the CLI needs at run time
// (wake_on_lan, ...) is compiled in, except conf, which main/store loads with require() on the first
// write. Modules the sources load with import() (ssh2, the pins) are evaluated only when a command
// reaches them, so `fleetwake hosts ls` never pays for them. CommonJS rather than an ES module: Node
// gives an ES module that imports a built-in (node:fs) a namespace of ALL its exports, which loads
// the lazy parts of the built-in too (fs's streams: ~10 ms of a ~100 ms start); require() does not.
// main/deploy/pinned-artifacts.generated.ts is compiled in like in the main bundle, so build after the
// pins (scripts/build.mjs does).
// Usage: node scripts/build-cli.mjs      Importable: `await buildCli()`.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CLI_BUNDLE = path.join(root, 'out', 'cli', 'fleetwake.cjs');
export const CLI_INPUTS = path.join(root, 'out', 'cli', 'fleetwake.inputs.json');

/**
 * Built-ins that some command needs but most runs never touch, loaded on their first use instead of at
 * start: together ~15-20 ms of a ~100 ms `fleetwake hosts ls` on a 2-core box (child_process alone is
 * ~6 ms, for the agent version check of `fleetwake agent`; module, which brings Node's ES-module loader,
 * only for loading conf on a store's first write).
 * crypto, fs, os, path and the like are not here: every run uses them.
 */
const LAZY_BUILTINS = ['child_process', 'module', 'net', 'dgram', 'readline', 'stream/promises', 'fs/promises', 'assert', 'zlib', 'dns', 'tls', 'http', 'https'];

/**
 * esbuild plugin: `import { execFileSync } from 'node:child_process'` (and `require('net')` in bundled
 * dependencies) get a stand-in whose exports are getters that require() the real module on first read.
 * The export names are taken from this Node at build time. Only when the module loads changes.
 * @returns {import('esbuild').Plugin}
 */
function lazyBuiltins() {
  const require = createRequire(import.meta.url);
  const names = new Set(LAZY_BUILTINS);
  return {
    name: 'lazy-builtins',
    setup(build) {
      build.onResolve({ filter: /^(node:)?[a-z_/]+$/ }, (args) => {
        const id = args.path.replace(/^node:/, '');
        if (!names.has(id)) return undefined;
        // The stand-in's own require() is the real built-in.
        if (args.namespace === 'lazy-builtin') return { path: `node:${id}`, external: true };
        return { path: id, namespace: 'lazy-builtin' };
      });
      build.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => {
        const keys = Object.keys(require(`node:${args.path}`)).filter((k) => k !== 'default' && k !== '__esModule');
        const lines = [
          `let m; const load = () => (m ??= require(${JSON.stringify(`node:${args.path}`)}));`,
          ...keys.map((k) => `Object.defineProperty(exports, ${JSON.stringify(k)}, { enumerable: true, get: () => load()[${JSON.stringify(k)}] });`),
        ];
        return { contents: lines.join('\n'), loader: 'js' };
      });
    },
  };
}

/**
 * @param {{ quiet?: boolean }} [options]
 * @returns {Promise<{ outfile: string, inputs: string[], bytes: number, ms: number }>}
 */
export async function buildCli(options = {}) {
  // Taken before esbuild reads a single source: a file saved during the build counts as newer.
  const builtAt = Date.now();
  const t0 = performance.now();
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: ['main/cli/index.ts'],
    outfile: CLI_BUNDLE,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // Minified: V8 compiles the whole entry chunk at every start, and a third less text is a third less
    // of that; the source map beside it maps stack traces back (node --enable-source-maps).
    minify: true,
    sourcemap: true,
    logLevel: 'warning',
    metafile: true,
    legalComments: 'none',
    external: ['ssh2', 'cpu-features', 'electron'],
    plugins: [lazyBuiltins()],
    // import('ssh2') becomes a require() of the CommonJS package: no ES-module loader in a CLI run at all.
    supported: { 'dynamic-import': false },
    // The sources are ES modules: import.meta.url (package.json, conf next to the bundle) is this file's.
    define: { 'import.meta.url': '__fwImportMetaUrl' },
    banner: { js: "const __fwImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  });
  // bin/fleetwake.cjs reads the bundle as latin1 (no UTF-8 decoding); esbuild escapes non-ASCII by default.
  if (/[^\x00-\x7f]/.test(readFileSync(CLI_BUNDLE, 'latin1'))) throw new Error(`${CLI_BUNDLE} is not ASCII; bin/fleetwake.cjs reads it as latin1`);
  for (const output of Object.values(result.metafile.outputs)) {
    for (const imp of output.imports) {
      if (imp.path === 'electron') throw new Error('the CLI bundle imports electron; only main/electron/ may (see FIELD-NOTES)');
    }
  }
  // Every file the bundle was built from that lives in this checkout (not node_modules: npm installs
  // change those, and a dependency bump goes with a source change or `npm run build`; not the plugin's
  // stand-ins, which are no files).
  const inputs = Object.keys(result.metafile.inputs)
    .filter((p) => !p.split('/').includes('node_modules') && !/^[a-z-]+:/.test(p))
    .sort();
  mkdirSync(path.dirname(CLI_INPUTS), { recursive: true });
  // The code cache bin/fleetwake.cjs keeps belongs to the previous bundle (it checks, but why keep it).
  rmSync(`${CLI_BUNDLE}.v8cache`, { force: true });
  const tmp = `${CLI_INPUTS}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify({ builtAt, inputs }, null, 1) + '\n');
  renameSync(tmp, CLI_INPUTS);
  const bytes = result.metafile.outputs[path.relative(root, CLI_BUNDLE)]?.bytes ?? 0;
  const ms = Math.round(performance.now() - t0);
  if (!options.quiet) console.log(`${'cli'.padEnd(10)} ${path.relative(root, CLI_BUNDLE).padEnd(24)} ${ms} ms (${(bytes / 1024).toFixed(0)} KB, ${inputs.length} source files)`);
  return { outfile: CLI_BUNDLE, inputs, bytes, ms };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildCli().catch((err) => {
    console.error(`cli build failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
