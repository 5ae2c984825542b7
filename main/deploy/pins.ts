/**
 * The hashes of what the app ships to servers (the agent bundle, the Node runtimes), pinned into the
 * app's own code at build time: scripts/pin-artifacts.mjs writes pinned-artifacts.generated.ts and
 * esbuild bundles it into the app. The files in resources/ can be changed after the build, the code
 * that deploys them cannot be without rebuilding it, so deploy trusts the pins and not the files:
 * each file is checked against its pin before upload, and again on the server before it is installed.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { RuntimeArch } from '../remote/probe.js';
import { errMessage, fail } from '../remote/progress.js';

export interface ArtifactPin {
  version: string;
  sha256: string;
  size: number;
}

/** `sha256` and `size` are the unpacked binary's (checked on the server); `gz*` the uploaded file's. */
export interface RuntimePin extends ArtifactPin {
  gzSha256: string;
  gzSize: number;
}

export interface ArtifactPins {
  agent: ArtifactPin | null;
  runtimes: Partial<Record<RuntimeArch, RuntimePin>>;
}

export const NO_PINS: ArtifactPins = { agent: null, runtimes: {} };

let loaded: Promise<ArtifactPins> | undefined;

/** The pins compiled into this build; none when it was never built (tsx on a clean clone). */
export function pinnedArtifacts(): Promise<ArtifactPins> {
  // A literal specifier, so esbuild inlines the module into the bundle instead of reading a file at run
  // time. Loaded lazily, so that a clean clone still runs everything but deploy.
  loaded ??= import('./pinned-artifacts.generated.js').then(
    (m) => m.PINNED_ARTIFACTS,
    () => NO_PINS,
  );
  return loaded;
}

/** Why deploy refuses an artifact this build has no pin for. */
export function noPinMessage(what: string): string {
  return `This Fleetwake build has no pinned sha256 for ${what}, so it cannot check that file before installing it. Run \`npm run build\` (or reinstall Fleetwake).`;
}

/** Streamed: a runtime is tens of MB and the Electron main process must not block on it. */
export async function sha256OfFile(file: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(file), async (chunks: AsyncIterable<Buffer>) => {
    for await (const d of chunks) h.update(d);
  });
  return h.digest('hex');
}

/** Refuse a local file whose sha256 is not its pin; `what` names it in the error ("The agent bundle"). */
export async function checkLocalArtifact(file: string, sha256: string, what: string): Promise<void> {
  let actual: string;
  try {
    actual = await sha256OfFile(file);
  } catch (e) {
    throw fail(`${what} ${file} cannot be read: ${errMessage(e)}. Run \`npm run build\` (or reinstall Fleetwake).`);
  }
  if (actual !== sha256) {
    throw fail(
      `${what} ${file} is not the file this Fleetwake build pinned: its sha256 is ${actual}, the build pinned ${sha256}. ` +
        'It was changed after the build, so nothing was uploaded. Run `npm run build` again (or reinstall Fleetwake).',
    );
  }
}
