/**
 * Whether a host's node may run as root. A system agent's daemon, unit, wrapper and the sudo status/rpc
 * calls all run the node deploy records; one the SSH user can replace (nvm, conda, ~/bin first on PATH)
 * would hand that user root. So system mode takes a node only when the file, with every symlink
 * resolved, and every folder above it are owned by root and not writable by group or others, as root
 * sees them (the check runs through the privileged exec, not as the SSH user).
 */
import type { Remote } from './host.js';
import { shq } from './shell.js';

export interface NodeTrust {
  /** The path the probe found (PATH's node, or an absolute candidate). */
  path: string;
  /** Its real path (symlinks resolved), which is what an install records; null when it has none. */
  resolved: string | null;
  /** Why root must not run it, or null when it may. */
  problem: string | null;
}

/**
 * Per path: `@@node<TAB>path<TAB>real path`, `@@file<TAB>yes|no`, then `uid mode path` for the real
 * file and each folder above it up to /, then `@@end`. Folder walking uses only sh and stat (no dirname):
 * hosts with a minimal PATH run it too.
 */
export function nodeTrustScript(paths: string[]): string {
  const words = paths.map(shq).join(' ');
  return [
    'LC_ALL=C; export LC_ALL',
    `for p in ${words}; do`,
    '  r=$(readlink -f -- "$p" 2>/dev/null) || r=',
    '  printf "@@node\\t%s\\t%s\\n" "$p" "$r"',
    '  case "$r" in /*) ;; *) continue;; esac',
    '  if [ -f "$r" ]; then echo "@@file	yes"; else echo "@@file	no"; fi',
    '  d=$r',
    '  while :; do',
    '    stat -c "%u %a %n" -- "$d" 2>/dev/null || printf "? ? %s\\n" "$d"',
    '    [ "$d" = / ] && break',
    '    d=${d%/*}; [ -z "$d" ] && d=/',
    '  done',
    'done',
    'echo @@end',
  ].join('\n');
}

function problemOf(line: string): string | null {
  const m = /^(\S+) (\S+) (.*)$/.exec(line);
  if (!m) return `could not be checked (${JSON.stringify(line)})`;
  const [, uid, modeText, path] = m;
  if (!/^\d+$/.test(uid!) || !/^[0-7]+$/.test(modeText!)) return `${path} could not be checked`;
  if (uid !== '0') return `${path} is owned by uid ${uid}, not root`;
  const mode = Number.parseInt(modeText!, 8);
  if (mode & 0o020) return `${path} is writable by its group (mode ${modeText})`;
  if (mode & 0o002) return `${path} is writable by others (mode ${modeText})`;
  return null;
}

/** Parse the script's output; a cut-short answer (no `@@end`) trusts nothing. */
export function parseNodeTrust(out: string): NodeTrust[] {
  const lines = out.split('\n').map((l) => l.replace(/\r$/, ''));
  if (!lines.includes('@@end')) return [];
  const found: NodeTrust[] = [];
  let cur: (NodeTrust & { reachedRoot: boolean }) | null = null;
  const finish = () => {
    if (!cur) return;
    // Every folder up to / must have been looked at.
    if (cur.resolved && cur.problem === null && !cur.reachedRoot) cur.problem = `the folders above ${cur.resolved} could not be checked`;
    found.push({ path: cur.path, resolved: cur.resolved, problem: cur.problem });
    cur = null;
  };
  for (const line of lines) {
    if (line.startsWith('@@node\t')) {
      finish();
      const [, path = '', resolved = ''] = line.split('\t');
      cur = resolved.startsWith('/')
        ? { path, resolved, problem: null, reachedRoot: false }
        : { path, resolved: null, problem: 'its real path could not be resolved', reachedRoot: false };
    } else if (line === '@@end') {
      finish();
      break;
    } else if (cur && line.startsWith('@@file\t')) {
      if (line !== '@@file\tyes' && cur.problem === null) cur.problem = `${cur.resolved} is not a regular file`;
    } else if (cur && line) {
      cur.reachedRoot = line.endsWith(' /');
      cur.problem ??= problemOf(line);
    }
  }
  return found;
}

/** Check `paths` as root (the remote's privilege). */
export async function checkNodeTrust(remote: Remote, paths: string[]): Promise<NodeTrust[]> {
  if (!paths.length) return [];
  const r = await remote.privOk(nodeTrustScript(paths), 'check who owns the host node', 30_000);
  return parseNodeTrust(r.stdout);
}
