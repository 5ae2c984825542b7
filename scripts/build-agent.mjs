#!/usr/bin/env node
// Bundles the server agent into ONE CommonJS file that runs on Node 18+ with node built-ins only:
//   resources/agent/fleetwake-agent.cjs     (#!/usr/bin/env node, chmod 755)
//   resources/agent/fleetwake-agent.sha256  ("<hex>  fleetwake-agent.cjs", sha256sum format)
// AGENT_VERSION = package.json version + "+" + 12 hex chars of the bundle's own hash, so the app can tell
// two builds of the same version apart. Fails when the bundle is over 300 KB or requires a non-built-in.
// Usage: node scripts/build-agent.mjs (also re-pins: scripts/pin-artifacts.mjs)   Importable: `await buildAgent({ outDir })`.
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const MAX_AGENT_BYTES = 300 * 1024;
const PLACEHOLDER = '@@AGENTHASH@@';

const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const isBuiltin = (id) => BUILTINS.has(id) || (id.startsWith('node:') && BUILTINS.has(id.slice(5)));

/**
 * @param {{ outDir?: string, minify?: boolean, quiet?: boolean }} [options]
 * @returns {Promise<{ outfile: string, sha256file: string, bytes: number, sha256: string, version: string }>}
 */
export async function buildAgent(options = {}) {
  const outDir = path.resolve(root, options.outDir ?? 'resources/agent');
  const outfile = path.join(outDir, 'fleetwake-agent.cjs');
  const sha256file = path.join(outDir, 'fleetwake-agent.sha256');
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: [path.join(root, 'remote-agent/main.ts')],
    outfile,
    write: false,
    bundle: true,
    platform: 'node',
    target: 'node18',
    format: 'cjs',
    minify: options.minify ?? true,
    legalComments: 'none',
    banner: { js: '#!/usr/bin/env node' },
    define: { AGENT_VERSION: JSON.stringify(`${pkg.version}+${PLACEHOLDER}`) },
    metafile: true,
    logLevel: 'warning',
  });

  const bad = new Set();
  for (const output of Object.values(result.metafile.outputs)) {
    for (const imp of output.imports) if (imp.external && !isBuiltin(imp.path)) bad.add(imp.path);
  }
  const file = result.outputFiles.find((f) => f.path === outfile) ?? result.outputFiles[0];
  const withPlaceholder = file.text;
  // Belt and braces: any literal require("x") left in the text must be a built-in as well.
  for (const m of withPlaceholder.matchAll(/\brequire\(\s*["'`]([^"'`]+)["'`]\s*\)/g)) if (!isBuiltin(m[1])) bad.add(m[1]);
  if (bad.size > 0) throw new Error(`agent bundle requires non-built-in modules: ${[...bad].join(', ')}; the agent may use node built-ins only`);

  const hash = createHash('sha256').update(withPlaceholder).digest('hex').slice(0, 12);
  const text = withPlaceholder.split(PLACEHOLDER).join(hash);
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_AGENT_BYTES) throw new Error(`agent bundle is ${bytes} bytes, over the ${MAX_AGENT_BYTES}-byte limit`);

  mkdirSync(outDir, { recursive: true });
  writeFileSync(outfile, text);
  chmodSync(outfile, 0o755);
  const sha256 = createHash('sha256').update(text).digest('hex');
  writeFileSync(sha256file, `${sha256}  ${path.basename(outfile)}\n`);
  const version = `${pkg.version}+${hash}`;
  // The app reads this instead of running the bundle: a packaged app has no node to run it with.
  writeFileSync(path.join(outDir, 'fleetwake-agent.version'), `${version}\n`);
  if (!options.quiet) console.log(`agent      ${path.relative(root, outfile)}  ${(bytes / 1024).toFixed(1)} KB  ${version}  sha256 ${sha256.slice(0, 16)}…`);
  return { outfile, sha256file, bytes, sha256, version };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // Re-pinned so the app (from source) accepts the bundle just built; the build does the same.
  buildAgent()
    .then(() => import('./pin-artifacts.mjs'))
    .then((m) => m.pinArtifacts())
    .catch((err) => {
      console.error(`build-agent: ${err.message}`);
      process.exit(1);
    });
}
