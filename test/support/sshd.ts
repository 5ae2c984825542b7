/**
 * A REAL OpenSSH sshd per test "host": own temp dir, own config, own fresh host key, own port.
 *
 * Why real sshd and not ssh2's server: the app talks to Debian's OpenSSH in the field, and its quirks
 * (PAM, locked accounts, streamlocal forwarding, TCP_NODELAY timing, how a dying server looks to the
 * client) are what the tests must see.
 *
 * Process model (OpenSSH 9.2, `-D`): the listener is our direct child; each connection is a forked
 * child that calls setsid(), so a process-group kill would miss it. We therefore walk the process tree
 * (ppid links in /proc) from the listener to stop, freeze or thaw the whole server.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fingerprintOf, type KeyType } from './keys.js';
import { freePort } from './ports.js';
import { findTool } from './require-tools.js';

const run = promisify(execFile);

export const SSHD_PATH = '/usr/sbin/sshd';
const START_TIMEOUT_MS = 10_000;

export interface SshdOptions {
  /** Users allowed to log in (`AllowUsers`); omitted = any user. */
  allowUsers?: string[];
  /** Address to bind (default 127.0.0.1); an address inside `netns` for namespace hosts. */
  listenAddress?: string;
  /** Fixed port; default a fresh loopback port from freePort(). */
  port?: number;
  /** Run as `ip netns exec NAME sshd ...`. The address must be reachable from this process (veth). */
  netns?: string;
  /** Host key type (default ed25519). */
  hostKeyType?: KeyType;
  /** `UsePAM` (default false). Needed for keyboard-interactive to actually work. */
  usePam?: boolean;
  /** `PasswordAuthentication` (default true). */
  passwordAuthentication?: boolean;
  /** `KbdInteractiveAuthentication` (default: same as usePam; without PAM it always fails anyway). */
  kbdInteractive?: boolean;
  /** Add `Subsystem sftp internal-sftp` (default true). */
  sftp?: boolean;
  /** Extra sshd_config lines appended verbatim (they come before nothing, so no Match blocks above). */
  extraConfig?: string[];
}

export interface SshdHandle {
  /** Address clients connect to (the listen address). */
  readonly host: string;
  readonly port: number;
  /** Private temp dir: sshd_config, host key, pid file, log. */
  readonly dir: string;
  /** 'SHA256:...' of the current host key, as `ssh-keygen -lf` and ssh2's sha256 base64 print it. */
  readonly hostKeyFingerprint: string;
  readonly hostKeyType: KeyType;
  /** Key algorithm name of the host key, e.g. 'ssh-ed25519' (first field of the .pub line). */
  readonly hostKeyAlgorithm: string;
  /** Base64 blob of the host public key (what ssh2's hostVerifier gets, decoded). */
  readonly hostPublicKey: string;
  readonly logPath: string;
  readonly configPath: string;
  /** Listener pid while running, else null. */
  readonly pid: number | null;
  /** Kill the listener and every per-connection child (and their commands): clients see the server go. */
  stop(): Promise<void>;
  /** Start again on the same port with the same host key. */
  start(): Promise<void>;
  /** New host key of the same type, restart, update the fingerprint fields. */
  rotateHostKey(): Promise<void>;
  /** SIGSTOP listener and all children: a hung server (TCP stays open, nothing answers). */
  freeze(): void;
  /** SIGCONT what freeze() stopped. */
  thaw(): void;
  readLog(): string;
  /** stop() and remove the temp dir. */
  destroy(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------
// Process tree helpers (synchronous so the process 'exit' hook can use them too).

/** Pids of all descendants of `root` (not including root), from /proc ppid links. */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // "pid (comm) state ppid ...": comm may contain spaces/parens, so split after the LAST ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(entry));
    children.set(ppid, list);
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const c of children.get(queue.shift()!) ?? []) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/**
 * True while `pid` exists and is not a zombie. Killed connection children are re-parented to PID 1,
 * which in a container may never reap them, so "kill(pid, 0) succeeds" does not mean "still running".
 */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/**
 * SIGKILL the listener and its whole tree. The listener is stopped first so it cannot fork a new
 * connection child between our scan and our kill; the scan happens before the kill because killed
 * parents' children are re-parented to init and would drop out of the tree.
 */
function killTree(listener: number): number[] {
  signal(listener, 'SIGSTOP');
  const tree = descendants(listener);
  signal(listener, 'SIGKILL');
  for (const pid of tree) signal(pid, 'SIGKILL');
  return [listener, ...tree];
}

// Every running sshd of this process, killed when we go so a crashed or failed run leaves no daemons.
const live = new Set<number>();
const dirs = new Set<string>();
let exitHookInstalled = false;

function cleanupAll(): void {
  for (const pid of live) killTree(pid);
  live.clear();
  if (process.env.FLEETWAKE_KEEP_TESTBED !== '1') {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', cleanupAll);
  // vitest ends its fork workers with SIGTERM, which skips 'exit'. Clean up, then re-raise so the
  // default action (or whoever else listens) still happens.
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    const onSignal = () => {
      cleanupAll();
      process.off(sig, onSignal);
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}

/**
 * Last line of defence for SIGKILL of the test process: util-linux `setpriv --pdeathsig KILL` makes the
 * kernel kill the listener when its parent dies. (Connection children then die with their clients.)
 */
const SETPRIV = findTool('setpriv');

// ---------------------------------------------------------------------------------------------------

function logTail(logPath: string, lines = 30): string {
  try {
    return readFileSync(logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Resolve once `host:port` accepts TCP and sends an SSH banner; reject with the reason otherwise. */
function readBanner(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    let buf = '';
    const done = (err?: Error) => {
      sock.destroy();
      if (err) reject(err);
      else resolve();
    };
    sock.setTimeout(1000, () => done(new Error('no banner within 1 s')));
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      if (buf.includes('SSH-2.0-')) done();
    });
    sock.on('error', done);
    sock.on('close', () => done(new Error('closed before banner')));
  });
}

function configText(o: Required<Omit<SshdOptions, 'allowUsers' | 'port' | 'netns' | 'extraConfig'>> & {
  port: number;
  dir: string;
  hostKeyPath: string;
  allowUsers?: string[];
  extraConfig: string[];
}): string {
  const yn = (b: boolean) => (b ? 'yes' : 'no');
  const lines = [
    `# Generated by test/support/sshd.ts`,
    `Port ${o.port}`,
    `ListenAddress ${o.listenAddress}`,
    `HostKey ${o.hostKeyPath}`,
    `PidFile ${path.join(o.dir, 'sshd.pid')}`,
    `LogLevel VERBOSE`,
    `UsePAM ${yn(o.usePam)}`,
    `PasswordAuthentication ${yn(o.passwordAuthentication)}`,
    `KbdInteractiveAuthentication ${yn(o.kbdInteractive)}`,
    `PubkeyAuthentication yes`,
    `PermitRootLogin no`,
    `AuthorizedKeysFile .ssh/authorized_keys`,
    // Test homes and temp dirs are not laid out with production permissions.
    `StrictModes no`,
    `AllowTcpForwarding yes`,
    `AllowStreamLocalForwarding yes`,
    `StreamLocalBindUnlink yes`,
    `X11Forwarding no`,
    `PrintMotd no`,
    `UseDNS no`,
    // Tests and benchmarks open many connections at once; the default 10:30:100 drops some.
    `MaxStartups 200`,
    `MaxSessions 100`,
  ];
  if (o.allowUsers && o.allowUsers.length > 0) lines.push(`AllowUsers ${o.allowUsers.join(' ')}`);
  if (o.sftp) lines.push('Subsystem sftp internal-sftp');
  lines.push(...o.extraConfig);
  return `${lines.join('\n')}\n`;
}

/** Start a real sshd and wait until it sends its banner. */
export async function startSshd(opts: SshdOptions = {}): Promise<SshdHandle> {
  installExitHook();
  // Privilege separation dir: sshd refuses to start without it, and nothing creates it outside systemd.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });

  const dir = mkdtempSync(path.join(os.tmpdir(), 'fwt-sshd-'));
  dirs.add(dir);
  const hostKeyType = opts.hostKeyType ?? 'ed25519';
  const listenAddress = opts.listenAddress ?? '127.0.0.1';
  const usePam = opts.usePam ?? false;
  const logPath = path.join(dir, 'sshd.log');
  const configPath = path.join(dir, 'sshd_config');
  const pidPath = path.join(dir, 'sshd.pid');
  let hostKeyPath = '';
  // A netns address cannot be probed from here; a loopback-free port is a good enough guess there too.
  let port = opts.port ?? (await freePort());
  let child: ChildProcess | null = null;
  let pid: number | null = null;
  const key = { fingerprint: '', algorithm: '', blob: '' };

  async function newHostKey(): Promise<void> {
    // Fresh name each rotation so a stale file can never be picked up.
    const p = path.join(dir, `ssh_host_${hostKeyType}_key_${randomBytes(4).toString('hex')}`);
    const bits = hostKeyType === 'rsa' ? ['-b', '2048'] : hostKeyType === 'ecdsa' ? ['-b', '256'] : [];
    await run('ssh-keygen', ['-q', '-t', hostKeyType, ...bits, '-N', '', '-C', `fwt-host@${port}`, '-f', p]);
    if (hostKeyPath) await rm(hostKeyPath, { force: true }).then(() => rm(`${hostKeyPath}.pub`, { force: true }));
    hostKeyPath = p;
    const pub = readFileSync(`${p}.pub`, 'utf8').trim().split(/\s+/);
    key.algorithm = pub[0] ?? '';
    key.blob = pub[1] ?? '';
    key.fingerprint = await fingerprintOf(`${p}.pub`);
  }

  async function writeConfig(): Promise<void> {
    await writeFile(
      configPath,
      configText({
        port,
        dir,
        hostKeyPath,
        listenAddress,
        hostKeyType,
        usePam,
        passwordAuthentication: opts.passwordAuthentication ?? true,
        kbdInteractive: opts.kbdInteractive ?? usePam,
        sftp: opts.sftp ?? true,
        allowUsers: opts.allowUsers,
        extraConfig: opts.extraConfig ?? [],
      }),
    );
    // `sshd -t` first: a config error then reads as the error, not as "did not come up in 10 s".
    try {
      await run(SSHD_PATH, ['-t', '-f', configPath]);
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`sshd -t rejected ${configPath}: ${(e.stderr || e.message).trim()}`);
    }
  }

  async function launch(): Promise<void> {
    if (pid !== null) throw new Error(`sshd on ${listenAddress}:${port} is already running`);
    await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
    rmSync(pidPath, { force: true });
    const argv = [SSHD_PATH, '-D', '-e', '-f', configPath];
    const inNs = opts.netns ? ['ip', 'netns', 'exec', opts.netns, ...argv] : argv;
    const [cmd, ...args] = SETPRIV ? [SETPRIV, '--pdeathsig', 'KILL', ...inNs] : inNs;
    // -e sends the log to stderr; per-connection children inherit it, so one file has everything.
    const fd = openSync(logPath, 'a');
    let exited: string | null = null;
    try {
      child = spawn(cmd!, args, { stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    const c = child;
    c.on('error', (e) => (exited = `spawn failed: ${e.message}`));
    c.on('exit', (code, sig) => {
      exited = `exited with ${sig ?? `code ${code}`}`;
      if (c.pid !== undefined) live.delete(c.pid);
    });
    if (c.pid !== undefined) live.add(c.pid);

    const deadline = Date.now() + START_TIMEOUT_MS;
    let last = '';
    let ready = false;
    for (;;) {
      if (exited) break;
      // Both conditions: the banner alone could come from another daemon on the same port while ours
      // is failing to bind; sshd writes its pid file only after it has bound the listen socket.
      if (existsSync(pidPath)) {
        try {
          await readBanner(listenAddress, port);
          ready = true;
          break;
        } catch (err) {
          last = (err as Error).message;
        }
      } else {
        last = 'no pid file yet';
      }
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    if (!ready || exited) {
      if (c.pid !== undefined) killTree(c.pid);
      child = null;
      const why = exited ?? `no SSH banner within ${START_TIMEOUT_MS / 1000} s (last: ${last})`;
      const err = new Error(`sshd on ${listenAddress}:${port} did not come up: ${why}\n--- ${logPath} tail ---\n${logTail(logPath)}`);
      (err as Error & { addrInUse?: boolean }).addrInUse = /Address already in use/.test(logTail(logPath, 5));
      throw err;
    }
    // Under `ip netns exec` the pid file names the real sshd; otherwise it is our child.
    const fromFile = Number(existsSync(pidPath) ? readFileSync(pidPath, 'utf8').trim() : NaN);
    pid = Number.isInteger(fromFile) && fromFile > 0 ? fromFile : c.pid!;
    live.add(pid);
  }

  async function stop(): Promise<void> {
    const c = child;
    const p = pid;
    child = null;
    pid = null;
    if (p === null) return;
    const killed = killTree(p);
    if (c && c.exitCode === null && c.signalCode === null) {
      await new Promise<void>((resolve) => c.once('exit', () => resolve()));
    }
    // SIGKILL is delivered asynchronously: wait (bounded) until every process is really gone, so the
    // port is free and callers can rely on "after stop() nothing of this server runs".
    for (let i = 0; i < 300 && killed.some(isRunning); i++) await new Promise((r) => setTimeout(r, 10));
    live.delete(p);
    rmSync(pidPath, { force: true });
  }

  try {
    await newHostKey();
    for (let attempt = 0; ; attempt++) {
      await writeConfig();
      try {
        await launch();
        break;
      } catch (err) {
        // freePort's number can be taken by someone else before sshd binds it: pick another, twice.
        if (opts.port === undefined && attempt < 2 && (err as { addrInUse?: boolean }).addrInUse) {
          port = await freePort();
          continue;
        }
        throw err;
      }
    }
  } catch (err) {
    // The error carries the log tail; the dir has nothing else worth keeping.
    dirs.delete(dir);
    if (process.env.FLEETWAKE_KEEP_TESTBED !== '1') rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  const stoppedProcs = new Set<number>();
  const handle: SshdHandle = {
    get host() {
      return listenAddress;
    },
    get port() {
      return port;
    },
    dir,
    get hostKeyFingerprint() {
      return key.fingerprint;
    },
    hostKeyType,
    get hostKeyAlgorithm() {
      return key.algorithm;
    },
    get hostPublicKey() {
      return key.blob;
    },
    logPath,
    configPath,
    get pid() {
      return pid;
    },
    stop,
    start: launch,
    async rotateHostKey() {
      const wasRunning = pid !== null;
      await stop();
      await newHostKey();
      await writeConfig();
      if (wasRunning) await launch();
    },
    freeze() {
      if (pid === null) throw new Error('freeze: sshd is not running');
      // Listener first so it forks nothing new, then every connection child and its commands.
      signal(pid, 'SIGSTOP');
      stoppedProcs.add(pid);
      for (const d of descendants(pid)) {
        signal(d, 'SIGSTOP');
        stoppedProcs.add(d);
      }
    },
    thaw() {
      for (const p of stoppedProcs) signal(p, 'SIGCONT');
      stoppedProcs.clear();
    },
    readLog() {
      try {
        return readFileSync(logPath, 'utf8');
      } catch {
        return '';
      }
    },
    async destroy() {
      await stop();
      dirs.delete(dir);
      await rm(dir, { recursive: true, force: true });
    },
  };
  return handle;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Run one command with the system OpenSSH client (fresh connection each time): the baseline the
 * benchmark compares ssh2 against, and an independent check that the bed works.
 */
export function sshExec(
  handle: Pick<SshdHandle, 'host' | 'port'>,
  user: string,
  keyPath: string,
  command: string,
  opts: { timeoutMs?: number; extraArgs?: string[] } = {},
): Promise<ExecResult> {
  const args = [
    '-F', '/dev/null', // ignore root's ~/.ssh/config: results must not depend on the machine
    '-o', 'BatchMode=yes',
    '-o', 'StrictHostKeyChecking=no',
    '-o', 'UserKnownHostsFile=/dev/null',
    '-o', 'IdentitiesOnly=yes',
    '-o', 'LogLevel=ERROR',
    '-o', 'ConnectTimeout=10',
    '-i', keyPath,
    '-p', String(handle.port),
    '-l', user,
    ...(opts.extraArgs ?? []),
    handle.host,
    command,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('ssh', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      resolve({ code: code ?? (sig ? 128 : -1), stdout, stderr });
    });
  });
}
