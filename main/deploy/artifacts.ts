/**
 * What the app ships for servers, on this machine: the agent bundle and the Node runtimes
 * (resources/agent, resources/runtime; built by scripts/build-agent.mjs and scripts/fetch-node-runtime.mjs).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RuntimeArch } from '../remote/probe.js';
import { noPinMessage, type ArtifactPins } from './pins.js';

/**
 * The app's resources/ folder: FLEETWAKE_RESOURCES_DIR, Electron's packaged resourcesPath, else found
 * by walking up from this module (source tree, out/ bundles) or the working directory.
 */
export function resourcesDir(): string {
  const env = process.env.FLEETWAKE_RESOURCES_DIR;
  if (env) return env;
  const packaged = (process as { resourcesPath?: string }).resourcesPath;
  if (packaged && existsSync(path.join(packaged, 'agent'))) return packaged;
  const starts: string[] = [];
  try {
    // Empty in a CommonJS bundle (esbuild), where __dirname serves instead.
    if (import.meta.url) starts.push(path.dirname(fileURLToPath(import.meta.url)));
  } catch {
    /* not an ES module */
  }
  if (typeof __dirname === 'string') starts.push(__dirname);
  starts.push(process.cwd());
  for (const start of starts) {
    for (let dir = start; ; dir = path.dirname(dir)) {
      if (existsSync(path.join(dir, 'resources')) && existsSync(path.join(dir, 'package.json'))) return path.join(dir, 'resources');
      if (path.dirname(dir) === dir) break;
    }
  }
  return path.join(process.cwd(), 'resources');
}

export const defaultAgentBundle = () => path.join(resourcesDir(), 'agent', 'fleetwake-agent.cjs');
export const defaultRuntimeDir = () => path.join(resourcesDir(), 'runtime');

const versionCache = new Map<string, { mtimeMs: number; size: number; version: string }>();

/** The version token in `fleetwake-agent version` output ("0.1.0+1a2b3c4d5e6f"), or the first line as is. */
export function parseAgentVersionOutput(out: string): string {
  const line = out.trim().split('\n')[0]?.trim() ?? '';
  const m = /\b\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]*)?/.exec(line);
  return m ? m[0] : line;
}

/** The agent version of a bundle, from running `node <bundle> version` here (cached per file state). */
export function bundledAgentVersion(bundlePath: string = defaultAgentBundle()): string {
  let st;
  try {
    st = statSync(bundlePath);
  } catch {
    throw new Error(`The agent bundle ${bundlePath} is missing. Build it with: npm run build`);
  }
  const sidecar = bundlePath.replace(/\.cjs$/, '.version');
  if (sidecar !== bundlePath && existsSync(sidecar)) {
    const written = readFileSync(sidecar, 'utf8').trim();
    if (written) return written;
  }
  const hit = versionCache.get(bundlePath);
  if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit.version;
  let out: string;
  try {
    // ELECTRON_RUN_AS_NODE: inside the Electron app process.execPath is Electron, not node.
    out = execFileSync(process.execPath, [bundlePath, 'version'], {
      encoding: 'utf8',
      timeout: 15_000,
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`Could not read the version of ${bundlePath}: ${(err.stderr || err.message).trim()}`);
  }
  const version = parseAgentVersionOutput(out);
  if (!version) throw new Error(`${bundlePath} printed no version`);
  versionCache.set(bundlePath, { mtimeMs: st.mtimeMs, size: st.size, version });
  return version;
}

export interface RuntimeArtifact {
  arch: RuntimeArch;
  gzPath: string;
  version: string;
  /** sha256 and size of the unpacked binary, as pinned. */
  sha256: string;
  size: number;
  /** sha256 and size of the .gz that is uploaded, as pinned. */
  gzSha256: string;
  gzSize: number;
}

/**
 * The shipped runtime for `arch` as this build pinned it (the .json written beside the .gz by the fetch
 * is not read: it is a file that can change after the build), or a message saying what is missing.
 */
export function runtimeArtifact(runtimeDir: string, arch: RuntimeArch, pins: ArtifactPins | undefined): RuntimeArtifact | string {
  const gzPath = path.join(runtimeDir, `node-linux-${arch}.gz`);
  if (!existsSync(gzPath)) return `The app has no Node runtime for linux-${arch} (${gzPath}). Fetch it with: npm run build`;
  const pin = pins?.runtimes[arch];
  if (!pin) return noPinMessage(`the Node runtime for linux-${arch}`);
  return { arch, gzPath, ...pin };
}
