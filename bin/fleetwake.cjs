#!/usr/bin/env node
// `fleetwake`: runs the built CLI, out/cli/fleetwake.cjs (`npm run build`, or `npm run build:cli` alone,
// about a second), which starts in about 1.5x the time of `node -e 0`.
//
// A checkout never runs a stale build silently. Where the TypeScript sources are present (a checkout,
// not an installed package), the build is used only while every source file it was built from (listed
// in out/cli/fleetwake.inputs.json) is older than the build and still there. Otherwise this runs the
// sources through tsx (a dev dependency; several times slower to start) and says why on stderr. Without
// the sources (an installed package) the build is run as it is.
//
// CommonJS and small on purpose: this file's own start counts in every run, and an ES-module entry
// makes Node load its ES-module loader (~10 ms more on a 2-core box).
//
// The build runs with a V8 code cache beside it (out/cli/fleetwake.cjs.v8cache, written by the first
// run that has none and can write there): V8 then skips compiling the bundle and the functions a run
// needs, about a fifth of `hosts ls`. Node 22 has this built in (module.enableCompileCache); Node 20,
// which Fleetwake supports, does not. The cache names the bundle's size and mtime it was made from;
// V8 itself refuses one from another V8 version or other flags. Either way the bundle is compiled
// as usual and the cache written again.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const BUNDLE = 'out/cli/fleetwake.cjs';
const INPUTS = 'out/cli/fleetwake.inputs.json';
const BUILD_HINT = '`npm run build:cli` (about a second) or `npm run build` refreshes it';

/** Why the build must not run in this checkout, or null when it may. */
function staleBuild() {
  if (!fs.existsSync(path.join(root, 'main', 'cli', 'index.ts'))) return null; // an installed package: nothing to compare with
  if (!fs.existsSync(path.join(root, BUNDLE))) return `${BUNDLE} is missing`;
  let manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(path.join(root, INPUTS), 'utf8'));
  } catch {
    return `${INPUTS} is missing or unreadable`;
  }
  for (const input of manifest.inputs ?? []) {
    const st = fs.statSync(path.join(root, input), { throwIfNoEntry: false });
    if (!st) return `${input} was removed after the build`;
    if (st.mtimeMs > manifest.builtAt) return `${input} changed after the build`;
  }
  return null;
}

/** require(file), compiled with the code cache beside it when that is the cache of this very file. */
function runBuild(file) {
  const Module = module.constructor; // not require('node:module'): that loads the ES-module loader
  const cacheFile = `${file}.v8cache`;
  // ASCII only (scripts/build-cli.mjs checks), so latin1 reads it as it is, without UTF-8 decoding.
  const source = fs.readFileSync(file, 'latin1');
  const st = fs.statSync(file);
  const stamp = `${st.size}:${st.mtimeMs}\n`;
  let cachedData;
  try {
    const buf = fs.readFileSync(cacheFile);
    if (buf.subarray(0, stamp.length).toString('latin1') === stamp) cachedData = buf.subarray(stamp.length);
  } catch {
    // none yet
  }
  const vm = require('node:vm');
  const script = new vm.Script(Module.wrap(source), { filename: file, cachedData });
  if (cachedData === undefined || script.cachedDataRejected) {
    // After the run, so the cache holds the functions this run compiled too. Best effort: an installed
    // package's folder may not be writable, and then every run compiles, as plain require() would.
    process.once('exit', () => {
      const tmp = `${cacheFile}.${process.pid}`;
      try {
        fs.writeFileSync(tmp, Buffer.concat([Buffer.from(stamp, 'latin1'), script.createCachedData()]));
        fs.renameSync(tmp, cacheFile);
      } catch {
        try {
          fs.unlinkSync(tmp);
        } catch {
          /* nothing was written */
        }
      }
    });
  }
  const m = new Module(file, module);
  m.filename = file;
  m.paths = Module._nodeModulePaths(path.dirname(file));
  const req = Module.createRequire(file);
  script.runInThisContext().call(m.exports, m.exports, req, m, file, path.dirname(file));
  m.loaded = true;
}

const why = staleBuild();
if (why === null) {
  runBuild(path.join(root, BUNDLE));
} else {
  import('tsx/esm/api').then(
    ({ register }) => {
      process.stderr.write(`fleetwake: running the TypeScript sources through tsx (slow start): ${why}; ${BUILD_HINT}.\n`);
      register();
      return import('../main/cli/index.ts');
    },
    () => {
      process.stderr.write(`fleetwake: the built CLI cannot be used (${why}), and tsx, which runs the sources, is not installed. ${BUILD_HINT}.\n`);
      process.exitCode = 1;
    },
  );
}
