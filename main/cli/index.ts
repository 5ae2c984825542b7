/**
 * The `fleetwake` executable's entry: bundled into out/cli/fleetwake.cjs (scripts/build-cli.mjs), which
 * bin/fleetwake.mjs runs; from source through tsx when that build is missing or stale.
 */
import { readFileSync } from 'node:fs';
import { isatty } from 'node:tty';
import { fileURLToPath } from 'node:url';
import { runCli } from './main.js';

async function main(): Promise<void> {
  // Two folders up from main/cli/index.ts and from out/cli/fleetwake.cjs alike.
  const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { version: string };

  // isatty() first: touching process.stdin makes a stream for it, which a script's run never needs.
  const terminal = isatty(0) && isatty(2) ? { input: process.stdin, output: process.stderr } : null;

  const code = await runCli(process.argv.slice(2), {
    out: (s) => process.stdout.write(s.endsWith('\n') ? s : s + '\n'),
    err: (s) => process.stderr.write(s.endsWith('\n') ? s : s + '\n'),
    terminal,
    env: process.env,
    version: pkg.version,
  });
  process.exitCode = code;
  // Sockets of hosts that never answered must not keep the process alive past the answer.
  setTimeout(() => process.exit(code), 50).unref();
}

void main();
