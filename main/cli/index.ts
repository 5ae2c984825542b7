import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runCli } from './main.js';

const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { version: string };

const terminal = process.stdin.isTTY && process.stderr.isTTY ? { input: process.stdin, output: process.stderr } : null;

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
