/**
 * The `fleetwake` executable's entry: bundled into out/cli/fleetwake.cjs (scripts/build-cli.mjs), which
 * bin/fleetwake.cjs runs; from source through tsx when that build is missing or stale.
 */
import { readFileSync, writeSync } from 'node:fs';
import { isatty } from 'node:tty';
import { fileURLToPath } from 'node:url';
import { runCli } from './main.js';

/**
 * Writes to fd 1 or 2 synchronously, as Node's stdout and stderr do on Linux anyway, without making
 * their stream objects (a pipe's is a net.Socket: ~2 ms of a ~100 ms run). Should the descriptor be
 * non-blocking and full (EAGAIN), the rest goes through the stream, which waits.
 */
let streamed = false;
function writer(fd: 1 | 2, stream: () => NodeJS.WriteStream): (s: string) => void {
  return (s) => {
    const text = s.endsWith('\n') ? s : s + '\n';
    if (streamed) {
      stream().write(text);
      return;
    }
    const buf = Buffer.from(text);
    let off = 0;
    try {
      while (off < buf.length) off += writeSync(fd, buf, off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      streamed = true;
      stream().write(buf.subarray(off));
    }
  };
}

/** Handles that need nothing from us before the process ends (ours: the exit timer below). */
const IDLE_RESOURCES = new Set(['Timeout', 'TTYWrap']);

async function main(): Promise<void> {
  // Two folders up from main/cli/index.ts and from out/cli/fleetwake.cjs alike.
  const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { version: string };

  // isatty() first: touching process.stdin makes a stream for it, which a script's run never needs.
  const terminal = isatty(0) && isatty(2) ? { input: process.stdin, output: process.stderr } : null;

  const code = await runCli(process.argv.slice(2), {
    out: writer(1, () => process.stdout),
    err: writer(2, () => process.stderr),
    terminal,
    env: process.env,
    version: pkg.version,
  });
  process.exitCode = code;
  // Sockets of hosts that never answered must not keep the process alive past the answer.
  setTimeout(() => process.exit(code), 50).unref();
  // A run that left nothing open (no SSH connection closing, no stream still writing) ends now rather
  // than after the event loop's last turn, where V8 tends to run a scavenge nobody needs (~3 ms).
  if (!streamed && !terminal && process.getActiveResourcesInfo().every((r) => IDLE_RESOURCES.has(r))) process.exit(code);
}

void main();
