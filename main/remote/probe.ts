/**
 * What deploy needs to know about a server, gathered in ONE exec of a fixed POSIX sh script whose
 * output is split into `@@name` sections and parsed here (pure, unit-tested).
 */
import { shq } from './shell.js';
import { MIN_NODE_VERSION, parseVersion, versionAtLeast } from './version.js';

export type SudoState = 'root' | 'nopasswd' | 'password' | 'none';
export type RuntimeArch = 'x64' | 'arm64';

export interface NodeCandidate {
  path: string;
  /** `node -v` output, or null when it did not run. */
  version: string | null;
}

export interface HostProbe {
  /** `uname -s`, e.g. 'Linux'. */
  os: string;
  /** `uname -m`, e.g. 'x86_64', 'aarch64'. */
  machine: string;
  /** The shipped runtime that fits this machine, or null (unsupported arch / not Linux). */
  runtimeArch: RuntimeArch | null;
  distro: { id: string; versionId: string; prettyName: string } | null;
  /** e.g. '2.36'; null when there is no glibc (musl) or it could not be read. */
  glibc: string | null;
  /** PID 1 is systemd (/run/systemd/system exists). */
  systemd: boolean;
  /** `systemctl --user` answers (running/degraded) in this session. */
  userSystemd: boolean;
  user: string;
  uid: number;
  home: string;
  xdgRuntimeDir: string | null;
  sudo: SudoState;
  /** Every node found: PATH first, then the absolute candidates. */
  nodes: NodeCandidate[];
  /** The first node >= 18, which deploy uses; null when none. */
  node: NodeCandidate | null;
  nvidiaSmi: string | null;
  docker: string | null;
  /** Free bytes per probed directory (/, /opt, /var/lib, /etc, $HOME, /tmp), where df answered. */
  freeBytes: Record<string, number>;
  tmpNoexec: boolean;
}

/**
 * Absolute places a node is looked for besides PATH: a non-login SSH session often has a short PATH
 * that misses /usr/local/bin.
 */
export const DEFAULT_NODE_CANDIDATES = ['/usr/bin/node', '/usr/local/bin/node'];

export const PROBE_DIRS = ['/', '/opt', '/var/lib', '/etc'];

/** The probe script. `nodeCandidates` are quoted; everything else is fixed text. */
export function probeScript(nodeCandidates: string[] = DEFAULT_NODE_CANDIDATES): string {
  const cands = nodeCandidates.map(shq).join(' ');
  return [
    'LC_ALL=C; export LC_ALL',
    'echo @@uname; uname -s; uname -m',
    'echo @@os-release; cat /etc/os-release 2>/dev/null',
    'echo @@glibc; getconf GNU_LIBC_VERSION 2>/dev/null || { ldd --version 2>&1 | head -n 1; }',
    'echo @@systemd; if [ -d /run/systemd/system ]; then echo yes; else echo no; fi',
    'echo @@user-systemd; if [ -n "${XDG_RUNTIME_DIR:-}" ] && command -v systemctl >/dev/null 2>&1; then systemctl --user is-system-running 2>/dev/null; fi',
    'echo @@id; id -u; id -un',
    'echo @@home; printf "%s\\n" "$HOME"',
    'echo @@xdg; printf "%s\\n" "${XDG_RUNTIME_DIR:-}"',
    'echo @@sudo; if [ "$(id -u)" = 0 ]; then echo root; elif ! command -v sudo >/dev/null 2>&1; then echo none; elif sudo -n true </dev/null >/dev/null 2>&1; then echo nopasswd; else echo password; fi',
    // PATH's node, then the absolute candidates; each line "path<TAB>version".
    'echo @@node; p=$(command -v node 2>/dev/null); case "$p" in /*) printf "%s\\t%s\\n" "$p" "$("$p" -v 2>/dev/null </dev/null)";; esac',
    ...(cands ? [`for p in ${cands}; do if [ -x "$p" ]; then printf "%s\\t%s\\n" "$p" "$("$p" -v 2>/dev/null </dev/null)"; fi; done`] : []),
    'echo @@nvidia-smi; command -v nvidia-smi 2>/dev/null',
    'echo @@docker; command -v docker 2>/dev/null',
    // "dir<TAB>df's last line" per directory; df -P keeps one line per filesystem.
    `echo @@df; for d in ${PROBE_DIRS.join(' ')} "$HOME" /tmp; do l=$(df -Pk "$d" 2>/dev/null | tail -n 1) && printf "%s\\t%s\\n" "$d" "$l"; done`,
    // Mount options of / and /tmp, straight from /proc/mounts (no awk needed).
    'echo @@mounts; while read -r dev mnt fs opts rest; do case "$mnt" in /|/tmp) printf "%s\\t%s\\n" "$mnt" "$opts";; esac; done < /proc/mounts 2>/dev/null',
    'echo @@end',
  ].join('\n');
}

function sections(out: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  let cur: string[] | null = null;
  for (const raw of out.split('\n')) {
    const line = raw.replace(/\r$/, '');
    const m = /^@@([a-z-]+)$/.exec(line);
    if (m) {
      cur = [];
      map.set(m[1]!, cur);
    } else if (cur) {
      cur.push(line);
    }
  }
  for (const lines of map.values()) while (lines.length && lines[lines.length - 1] === '') lines.pop();
  return map;
}

export function runtimeArchOf(machine: string): RuntimeArch | null {
  if (machine === 'x86_64' || machine === 'amd64') return 'x64';
  if (machine === 'aarch64' || machine === 'arm64') return 'arm64';
  return null;
}

function parseOsRelease(lines: string[]): HostProbe['distro'] {
  const kv: Record<string, string> = {};
  for (const l of lines) {
    const m = /^([A-Z_]+)=(.*)$/.exec(l);
    if (m) kv[m[1]!] = m[2]!.replace(/^(["'])(.*)\1$/, '$2');
  }
  if (!kv.ID && !kv.PRETTY_NAME) return null;
  return { id: kv.ID ?? '', versionId: kv.VERSION_ID ?? '', prettyName: kv.PRETTY_NAME ?? kv.NAME ?? kv.ID ?? '' };
}

/** Parse the probe script's output. Throws when the output is not the probe's (cut short, wrong shell). */
export function parseProbeOutput(out: string): HostProbe {
  const s = sections(out);
  if (!s.has('end')) throw new Error(`the host probe did not finish (output: ${out.slice(0, 300)})`);
  const get = (k: string) => s.get(k) ?? [];
  const first = (k: string) => (get(k)[0] ?? '').trim();

  const [os = '', machine = ''] = get('uname').map((l) => l.trim());
  const glibcLine = first('glibc');
  // getconf prints "glibc 2.36"; ldd prints "ldd (Debian GLIBC 2.36-9) 2.36". musl's ldd prints "musl libc".
  const glibc = /glibc|gnu libc/i.test(glibcLine) ? (() => {
    const v = parseVersion(glibcLine.replace(/^.*\)\s*/, '') || glibcLine);
    return v ? `${v.major}.${v.minor}` : null;
  })() : null;
  const [uidLine = '', user = ''] = get('id').map((l) => l.trim());
  const uid = Number(uidLine);
  if (!Number.isInteger(uid)) throw new Error(`the host probe could not read the user id (got ${JSON.stringify(uidLine)})`);
  const sudoRaw = first('sudo');
  const sudo: SudoState = (['root', 'nopasswd', 'password', 'none'] as const).find((x) => x === sudoRaw) ?? 'none';

  const nodes: NodeCandidate[] = [];
  for (const l of get('node')) {
    const [p, v] = l.split('\t');
    if (!p || nodes.some((n) => n.path === p)) continue;
    const version = (v ?? '').trim();
    nodes.push({ path: p, version: parseVersion(version) ? version : null });
  }
  const node = nodes.find((n) => versionAtLeast(n.version, MIN_NODE_VERSION)) ?? null;

  const freeBytes: Record<string, number> = {};
  for (const l of get('df')) {
    const [dir, dfLine] = l.split('\t');
    const f = (dfLine ?? '').trim().split(/\s+/);
    // Filesystem 1024-blocks Used Available Capacity Mounted-on
    const avail = Number(f[3]);
    if (dir && f.length >= 6 && Number.isFinite(avail)) freeBytes[dir] = avail * 1024;
  }
  const mounts = new Map<string, string[]>();
  for (const l of get('mounts')) {
    const [mnt, opts] = l.split('\t');
    if (mnt) mounts.set(mnt, (opts ?? '').split(','));
  }
  const tmpOpts = mounts.get('/tmp') ?? mounts.get('/') ?? [];
  const userSd = first('user-systemd');
  const xdg = first('xdg');

  return {
    os,
    machine,
    runtimeArch: os === 'Linux' ? runtimeArchOf(machine) : null,
    distro: parseOsRelease(get('os-release')),
    glibc,
    systemd: first('systemd') === 'yes',
    userSystemd: userSd === 'running' || userSd === 'degraded',
    user,
    uid,
    home: get('home')[0] ?? '',
    xdgRuntimeDir: xdg || null,
    sudo,
    nodes,
    node,
    nvidiaSmi: first('nvidia-smi') || null,
    docker: first('docker') || null,
    freeBytes,
    tmpNoexec: tmpOpts.includes('noexec'),
  };
}

/** Free bytes of the filesystem holding `path`, from the probed directory that is its longest prefix. */
export function freeBytesFor(probe: HostProbe, path: string): number | null {
  let best: string | null = null;
  for (const dir of Object.keys(probe.freeBytes)) {
    const prefix = dir.endsWith('/') ? dir : `${dir}/`;
    if ((path === dir || path.startsWith(prefix) || dir === '/') && (!best || dir.length > best.length)) best = dir;
  }
  return best ? probe.freeBytes[best]! : null;
}
