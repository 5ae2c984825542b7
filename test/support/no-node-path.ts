/**
 * A bin folder with the ordinary tools a server has, but NO node: sessions of a test sshd whose PATH is
 * set to it (`SetEnv PATH=<dir>`) look like a host without Node. /bin is a symlink to /usr/bin on
 * Debian, so PATH=/bin would still find /usr/bin/node; hence a dedicated folder of symlinks.
 */
import { existsSync, mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findTool } from './require-tools.js';

/** What deploy's scripts, sudo-less user mode and the agent's daemon need (coreutils and friends). */
export const NO_NODE_TOOLS = [
  'sh', 'bash', 'dash', 'env', 'uname', 'cat', 'mkdir', 'rm', 'rmdir', 'mv', 'ln', 'cp', 'chmod', 'install',
  'id', 'df', 'head', 'tail', 'tr', 'cut', 'sed', 'grep', 'ls', 'find', 'date', 'sleep', 'timeout', 'mktemp',
  'gzip', 'sha256sum', 'getconf', 'ldd', 'test', 'printf', 'true', 'false', 'kill', 'ps', 'stat', 'readlink',
];

/** Create the folder (world-readable, so the test user's sessions can use it). Throws if a must-have tool is missing. */
export function makeNoNodeBin(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'fwt-nonode-'));
  chmodSync(root, 0o755);
  const dir = path.join(root, 'bin');
  mkdirSync(dir, { mode: 0o755 });
  const missing: string[] = [];
  for (const tool of NO_NODE_TOOLS) {
    const found = findTool(tool);
    if (!found) {
      missing.push(tool);
      continue;
    }
    if (!existsSync(path.join(dir, tool))) symlinkSync(found, path.join(dir, tool));
  }
  const required = ['sh', 'gzip', 'sha256sum', 'mkdir', 'mv', 'chmod', 'date', 'uname', 'id', 'df', 'tr', 'env'];
  const bad = missing.filter((t) => required.includes(t));
  if (bad.length) throw new Error(`makeNoNodeBin: missing tools ${bad.join(', ')}`);
  if (existsSync(path.join(dir, 'node'))) throw new Error('makeNoNodeBin: node must not be in the folder');
  return dir;
}
