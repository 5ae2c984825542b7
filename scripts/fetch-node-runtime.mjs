#!/usr/bin/env node
// Fetches the Node runtime that Fleetwake uploads to servers without a usable `node` (ARCHITECTURE.md,
// "The agent on a server"), at BUILD time, from the `node-linux-<arch>` npm packages:
//
//   npm pack node-linux-<arch>@<pinned>   (into a temp dir; never installed: as a dependency it would
//                                          shadow the system node inside npm scripts, FIELD-NOTES.md)
//   extract ONLY package/bin/node, gzip it to resources/runtime/node-linux-<arch>.gz and write
//   resources/runtime/node-linux-<arch>.json = { version, arch, sha256 (of the uncompressed binary), size, gzSha256, gzSize }
//
// Skips an arch whose .json already names the pinned version and whose .gz still has the gzSha256 it
// records. The app never reads the .json: scripts/pin-artifacts.mjs copies these hashes into its code.
//
// Usage: node scripts/fetch-node-runtime.mjs [--arch x64|arm64|all] [--out DIR] [--force]   (without --out it re-pins)
// Module: import { fetchNodeRuntime } from './fetch-node-runtime.mjs'
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createGunzip, createGzip } from 'node:zlib';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Pinned LTS; bump deliberately (the .json records it, so a bump refetches). Needs glibc >= 2.28. */
export const NODE_RUNTIME_VERSION = '22.23.3';
export const RUNTIME_ARCHES = ['x64', 'arm64'];
export const DEFAULT_RUNTIME_DIR = path.join(root, 'resources', 'runtime');

async function sha256File(file, { gunzip = false } = {}) {
  const h = createHash('sha256');
  await pipeline(createReadStream(file), ...(gunzip ? [createGunzip()] : []), async (chunks) => {
    for await (const d of chunks) h.update(d);
  });
  return h.digest('hex');
}

/** The recorded metadata when the .gz is the pinned version and still the file fetched, else null. */
async function upToDate(outDir, arch) {
  const jsonPath = path.join(outDir, `node-linux-${arch}.json`);
  const gzPath = path.join(outDir, `node-linux-${arch}.gz`);
  if (!existsSync(jsonPath) || !existsSync(gzPath)) return null;
  try {
    const meta = JSON.parse(readFileSync(jsonPath, 'utf8'));
    if (meta.version !== NODE_RUNTIME_VERSION || statSync(gzPath).size !== meta.gzSize) return null;
    if (meta.gzSha256 === undefined) {
      // Fetched before the .json recorded gzSha256: the binary's own hash vouches for the .gz instead.
      if ((await sha256File(gzPath, { gunzip: true })) !== meta.sha256) return null;
      const upgraded = { ...meta, gzSha256: await sha256File(gzPath) };
      writeFileSync(jsonPath, `${JSON.stringify(upgraded, null, 2)}\n`);
      return upgraded;
    }
    // The build pins these hashes into the app, so a .gz changed since the fetch must not be pinned.
    return meta.gzSha256 === (await sha256File(gzPath)) ? meta : null;
  } catch {
    return null;
  }
}

async function fetchOne(outDir, arch, log) {
  const pkg = `node-linux-${arch}@${NODE_RUNTIME_VERSION}`;
  const work = mkdtempSync(path.join(tmpdir(), `fleetwake-node-${arch}-`));
  try {
    const t0 = Date.now();
    // --ignore-scripts: nothing from the package runs here. cwd = the temp dir, so no package.json of ours is involved.
    await run('npm', ['pack', pkg, '--silent', '--ignore-scripts', '--pack-destination', work], {
      cwd: work,
      maxBuffer: 16 * 1024 * 1024,
    });
    const tgz = readdirSync(work).find((f) => f.endsWith('.tgz'));
    if (!tgz) throw new Error(`npm pack ${pkg} produced no tarball`);
    // Only the binary; the rest of the package (npm shims, headers) is not needed on a server.
    await run('tar', ['-xzf', path.join(work, tgz), '-C', work, 'package/bin/node']);
    const bin = path.join(work, 'package', 'bin', 'node');
    const size = statSync(bin).size;
    const sha256 = await sha256File(bin);
    mkdirSync(outDir, { recursive: true });
    const gzPath = path.join(outDir, `node-linux-${arch}.gz`);
    const tmpGz = `${gzPath}.tmp-${process.pid}`;
    await pipeline(createReadStream(bin), createGzip({ level: 6 }), createWriteStream(tmpGz));
    renameSync(tmpGz, gzPath);
    const meta = { version: NODE_RUNTIME_VERSION, arch, sha256, size, gzSha256: await sha256File(gzPath), gzSize: statSync(gzPath).size };
    // The .json last: its presence with the right version is what "already fetched" means.
    writeFileSync(path.join(outDir, `node-linux-${arch}.json`), `${JSON.stringify(meta, null, 2)}\n`);
    log(`runtime    node-linux-${arch} v${NODE_RUNTIME_VERSION} (${(meta.gzSize / 1e6).toFixed(1)} MB gz) ${Date.now() - t0} ms`);
    return meta;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Make sure resources/runtime has the pinned runtime for each arch. Returns the metadata per arch.
 * @param {{ arches?: string[], outDir?: string, force?: boolean, log?: (s: string) => void }} [opts]
 */
export async function fetchNodeRuntime(opts = {}) {
  const outDir = opts.outDir ?? DEFAULT_RUNTIME_DIR;
  const arches = opts.arches ?? RUNTIME_ARCHES;
  const log = opts.log ?? ((s) => console.log(s));
  const out = {};
  for (const arch of arches) {
    if (!RUNTIME_ARCHES.includes(arch)) throw new Error(`unsupported runtime arch ${arch} (known: ${RUNTIME_ARCHES.join(', ')})`);
    const present = opts.force ? null : await upToDate(outDir, arch);
    if (present) {
      out[arch] = present;
      log(`runtime    node-linux-${arch} v${NODE_RUNTIME_VERSION} already present`);
      continue;
    }
    out[arch] = await fetchOne(outDir, arch, log);
  }
  return out;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const val = (flag) => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const archArg = val('--arch') ?? 'all';
  const arches = archArg === 'all' ? RUNTIME_ARCHES : archArg.split(',');
  const outDir = val('--out') ? path.resolve(val('--out')) : undefined;
  fetchNodeRuntime({ arches, outDir, force: args.includes('--force') })
    // resources/runtime is what the app ships: re-pin it, as the build does.
    .then(() => (outDir ? undefined : import('./pin-artifacts.mjs').then((m) => m.pinArtifacts())))
    .catch((err) => {
      console.error(`fetch-node-runtime: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    });
}
