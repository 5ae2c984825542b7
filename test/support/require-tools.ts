/**
 * Fail-fast check for the system tools the real-OpenSSH test bed needs.
 *
 * Tests call `requireTools([...])` in `beforeAll`: a missing tool must FAIL the suite with a message that
 * says exactly what to install, never skip it silently (a skipped integration suite looks green in CI).
 */
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

interface ToolInfo {
  /** Debian package that ships the tool, for the install hint. */
  pkg: string;
  /** True when the tool only does its job as root (binding sshd privsep, editing /etc/passwd, netns). */
  needsRoot: boolean;
}

/** Known tools, keyed by basename. Unknown tools are still checked, just without a package hint. */
const TOOLS: Record<string, ToolInfo> = {
  sshd: { pkg: 'openssh-server', needsRoot: true },
  ssh: { pkg: 'openssh-client', needsRoot: false },
  'ssh-keygen': { pkg: 'openssh-client', needsRoot: false },
  'ssh-keyscan': { pkg: 'openssh-client', needsRoot: false },
  useradd: { pkg: 'passwd', needsRoot: true },
  usermod: { pkg: 'passwd', needsRoot: true },
  chpasswd: { pkg: 'passwd', needsRoot: true },
  gpasswd: { pkg: 'passwd', needsRoot: true },
  ip: { pkg: 'iproute2', needsRoot: true },
  pgrep: { pkg: 'procps', needsRoot: false },
  sudo: { pkg: 'sudo', needsRoot: false },
};

/** The tools every test-bed user needs (sshd + client + user management). */
export const TESTBED_TOOLS = ['/usr/sbin/sshd', 'ssh-keygen', 'ssh', 'useradd', 'usermod', 'chpasswd'];

/** The test bed plus sudo, for tests of deploys by a user with sudo rights. */
export const SUDO_TESTBED_TOOLS = [...TESTBED_TOOLS, 'sudo', 'gpasswd'];

/**
 * Directories searched besides $PATH: sbin dirs are often missing from a non-login PATH, yet the tools
 * there are what we need.
 */
const EXTRA_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Absolute path of an executable (absolute name or looked up in $PATH + sbin dirs), or null. */
export function findTool(tool: string): string | null {
  if (tool.includes('/')) return isExecutable(tool) ? tool : null;
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), ...EXTRA_DIRS];
  for (const dir of dirs) {
    const candidate = path.join(dir, tool);
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

/**
 * Throws one Error listing every missing tool with the exact `apt-get install` line, and saying so when
 * a requested tool needs root and we are not root. Returns tool name -> resolved absolute path.
 */
export function requireTools(tools: string[] = TESTBED_TOOLS): Record<string, string> {
  const found: Record<string, string> = {};
  const missing: string[] = [];
  const pkgs = new Set<string>();
  let needsRoot = false;
  for (const tool of tools) {
    const info = TOOLS[path.basename(tool)];
    if (info?.needsRoot) needsRoot = true;
    const resolved = findTool(tool);
    if (resolved) {
      found[tool] = resolved;
    } else {
      missing.push(tool);
      if (info) pkgs.add(info.pkg);
    }
  }
  const problems: string[] = [];
  if (missing.length > 0) {
    const hint = pkgs.size > 0 ? ` Install with: apt-get install -y ${[...pkgs].sort().join(' ')}` : '';
    problems.push(`missing tools: ${missing.join(', ')}.${hint}`);
  }
  const uid = process.geteuid?.() ?? -1;
  if (needsRoot && uid !== 0) {
    problems.push(
      `these tests must run as root (they start sshd and create test users); current uid is ${uid}.`,
    );
  }
  if (problems.length > 0) {
    throw new Error(`Fleetwake test bed cannot run: ${problems.join(' Also, ')}`);
  }
  return found;
}
