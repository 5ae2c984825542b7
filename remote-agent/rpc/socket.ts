/**
 * The agent's unix socket: the listening side (stale-socket handling, permissions) and a tiny client
 * (`status`, `metrics`, the stdio bridge's diagnosis, a second daemon's "already running" check).
 */
import { chmodSync, chownSync, lstatSync, mkdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { userInfo } from 'node:os';
import { dirname } from 'node:path';
import type { Duplex } from 'node:stream';
import { limitConnections, type ConnectionLimits } from './connection-limits.js';
import type { AgentMode } from '../protocol.js';
import { AGENT_PATHS, RPC_ERRORS } from '../protocol.js';

/** The group whose members may use the system agent's socket. */
const SYSTEM_GROUP = 'fleetwake';

export class AgentAlreadyRunningError extends Error {
  constructor(
    readonly pid: number | null,
    readonly socketPath: string,
  ) {
    super(`another fleetwake-agent is running, pid ${pid ?? 'unknown'} (socket ${socketPath})`);
    this.name = 'AgentAlreadyRunningError';
  }
}

/** A failed call: `code` is the errno (ENOENT, EACCES, ECONNREFUSED, ETIMEDOUT...) or 'RPC' with rpcCode. */
export class AgentClientError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly rpcCode?: number,
  ) {
    super(message);
    this.name = 'AgentClientError';
  }
}

export type SocketProbe =
  | { state: 'missing' }
  | { state: 'stale' }
  | { state: 'live' }
  | { state: 'not-a-socket' }
  | { state: 'error'; code: string; message: string };

/** What is at a socket path: nothing, a dead socket file, a live listener, or something else. */
export function probeSocket(socketPath: string, timeoutMs = 1000): Promise<SocketProbe> {
  try {
    if (!lstatSync(socketPath).isSocket()) return Promise.resolve({ state: 'not-a-socket' });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
    if (code === 'ENOENT') return Promise.resolve({ state: 'missing' });
    return Promise.resolve({ state: 'error', code, message: (err as Error).message });
  }
  return new Promise((resolve) => {
    const sock = net.connect({ path: socketPath });
    const timer = setTimeout(() => {
      sock.destroy();
      // Accepting but not answering the connect in time: treat as live, never delete it.
      resolve({ state: 'live' });
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ state: 'live' });
    });
    sock.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const code = err.code ?? 'EUNKNOWN';
      if (code === 'ECONNREFUSED') resolve({ state: 'stale' });
      else if (code === 'ENOENT') resolve({ state: 'missing' });
      else resolve({ state: 'error', code, message: err.message });
    });
  });
}

/** One JSON-RPC call over the socket (a fresh connection). */
export function rpcCall<R = unknown>(socketPath: string, method: string, params: unknown = {}, timeoutMs = 5000): Promise<R> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ path: socketPath });
    let buf = '';
    let done = false;
    const finish = (err: Error | null, value?: R) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(value as R);
    };
    const timer = setTimeout(() => finish(new AgentClientError('ETIMEDOUT', `no answer from ${socketPath} within ${timeoutMs} ms`)), timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) + '\n'));
    sock.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > 64 * 1024 * 1024) return finish(new AgentClientError('EPROTO', 'answer too large'));
      let nl: number;
      while ((nl = buf.indexOf('\n')) !== -1) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let msg: { id?: unknown; result?: R; error?: { code: number; message: string } };
        try {
          msg = JSON.parse(line);
        } catch {
          return finish(new AgentClientError('EPROTO', 'agent sent invalid JSON'));
        }
        if (msg.id !== 1) continue; // a notification
        if (msg.error) return finish(new AgentClientError('RPC', msg.error.message, msg.error.code));
        return finish(null, msg.result as R);
      }
    });
    sock.on('error', (err: NodeJS.ErrnoException) => finish(new AgentClientError(err.code ?? 'EUNKNOWN', describeConnectError(err.code, socketPath))));
    sock.on('close', () => finish(new AgentClientError('ECONNRESET', `agent closed the connection on ${socketPath}`)));
  });
}

/** What decides why a user may not open a socket, and what to tell them. */
export interface SocketAccess {
  /** The user this process runs as. */
  user: string;
  /** The socket is a system agent's: the default system path, or its folder belongs to group fleetwake. */
  systemSocket: boolean;
  /** /etc/group lists the user in group fleetwake (a login that started before that still lacks it). */
  listedInGroup: boolean;
}

export function socketAccess(socketPath: string, groupFile = '/etc/group'): SocketAccess {
  let user = process.env.USER || process.env.LOGNAME || '';
  try {
    user = userInfo().username;
  } catch {
    /* no passwd entry: keep the environment's name */
  }
  const group = groupEntry(SYSTEM_GROUP, groupFile);
  let dirGid: number | null = null;
  try {
    dirGid = statSync(dirname(socketPath)).gid;
  } catch {
    /* not there, or no access to its parent */
  }
  return {
    user: user || `uid ${process.getuid?.() ?? '?'}`,
    systemSocket: socketPath === AGENT_PATHS.system.socket || (group !== null && dirGid === group.gid),
    listedInGroup: group !== null && group.members.includes(user),
  };
}

/**
 * EACCES on the system agent's socket means the user is not (yet, in this login) in its group: say
 * which, and the two ways out. Any other socket is another user's.
 */
function permissionDenied(socketPath: string, a: SocketAccess): string {
  if (!a.systemSocket) return `permission denied on ${socketPath}`;
  if (a.listedInGroup) {
    return `permission denied: ${a.user} is in group ${SYSTEM_GROUP}, but this login started before that; log in again to reach the system agent's socket ${socketPath}`;
  }
  return `permission denied: the system agent's socket ${socketPath} is only for group ${SYSTEM_GROUP}; run \`sudo usermod -aG ${SYSTEM_GROUP} ${a.user}\` and log in again, or deploy a user-mode agent`;
}

/** A person-readable cause for a failed connect to the agent's socket. */
export function describeConnectError(code: string | undefined, socketPath: string, access: () => SocketAccess = () => socketAccess(socketPath)): string {
  switch (code) {
    case 'ENOENT':
      return `agent not running (no socket at ${socketPath})`;
    case 'ECONNREFUSED':
      return `agent not running (stale socket at ${socketPath})`;
    case 'EACCES':
    case 'EPERM':
      return permissionDenied(socketPath, access());
    case 'ENOTDIR':
      return `agent not running (a path component of ${socketPath} is not a directory)`;
    default:
      return `cannot connect to ${socketPath}: ${code ?? 'unknown error'}`;
  }
}

/** The JSON-RPC error line the stdio bridge prints when it cannot reach the agent. */
export function bridgeErrorLine(code: string | undefined, socketPath: string): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id: null,
    error: { code: RPC_ERRORS.UNAVAILABLE, message: describeConnectError(code, socketPath), data: { errno: code ?? null, socket: socketPath } },
  });
}

/** A group's gid and listed members from /etc/group, or null. */
export function groupEntry(name: string, groupFile = '/etc/group'): { gid: number; members: string[] } | null {
  try {
    for (const line of readFileSync(groupFile, 'utf8').split('\n')) {
      const [n, , gid, members = ''] = line.split(':');
      if (n === name && gid && /^\d+$/.test(gid)) return { gid: Number(gid), members: members.split(',').map((m) => m.trim()).filter(Boolean) };
    }
  } catch {
    /* no group file */
  }
  return null;
}

/** gid of a group from /etc/group, or null. */
export function groupId(name: string, groupFile = '/etc/group'): number | null {
  return groupEntry(name, groupFile)?.gid ?? null;
}

export interface ListenOptions {
  socketPath: string;
  mode: AgentMode;
  /**
   * Gets each accepted connection, as a stream that enforces the limits (a too-long line is never
   * passed on). Connections over maxConnections never reach it.
   */
  onConnection: (socket: Duplex) => void;
  /** Connection cap, idle timeout and request-line limit; defaults in DEFAULT_CONNECTION_LIMITS (32, 5 min, 64 KiB). */
  limits?: Partial<ConnectionLimits>;
  /** Read the pid of a running agent for the "already running" message. */
  pidOf?: () => Promise<number | null>;
  log?: { info(m: string, f?: Record<string, unknown>): void; warn(m: string, f?: Record<string, unknown>): void };
  group?: string;
}

/**
 * Listens on the socket. Removes a stale socket file only when no agent answers on it; throws
 * AgentAlreadyRunningError when one does. User mode: parent dir 0700, socket 0600. System mode: socket 0660,
 * group `fleetwake` (when that group exists), parent dir 0750 with that group (else 0755).
 */
export async function listenAgentSocket(opts: ListenOptions): Promise<net.Server> {
  const { socketPath, mode } = opts;
  const gid = mode === 'system' ? groupId(opts.group ?? SYSTEM_GROUP) : null;
  const dir = dirname(socketPath);
  mkdirSync(dir, { recursive: true, mode: mode === 'user' ? 0o700 : gid !== null ? 0o750 : 0o755 });
  if (mode === 'system' && gid !== null) {
    try {
      chownSync(dir, 0, gid);
      chmodSync(dir, 0o750);
    } catch (err) {
      opts.log?.warn('cannot set the socket folder group', { dir, error: (err as Error).message });
    }
  }

  for (let attempt = 0; ; attempt++) {
    const probe = await probeSocket(socketPath);
    if (probe.state === 'live') throw new AgentAlreadyRunningError(opts.pidOf ? await opts.pidOf().catch(() => null) : null, socketPath);
    if (probe.state === 'not-a-socket') throw new Error(`${socketPath} exists and is not a socket; remove it or choose another path`);
    if (probe.state === 'error') throw new Error(`cannot check ${socketPath}: ${probe.message}`);
    if (probe.state === 'stale') {
      opts.log?.info('removing a stale socket', { socket: socketPath });
      try {
        unlinkSync(socketPath);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    const server = net.createServer({ allowHalfOpen: true }, limitConnections(opts.onConnection, opts.limits, opts.log).handle);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        // bind() happens synchronously inside listen(): the umask covers the socket file's creation.
        const old = process.umask(mode === 'user' ? 0o177 : 0o117);
        try {
          server.listen(socketPath, () => {
            server.off('error', reject);
            resolve();
          });
        } finally {
          process.umask(old);
        }
      });
    } catch (err) {
      server.close();
      // Another daemon bound it between our probe and our bind: probe again (once) to report it.
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE' && attempt < 2) continue;
      throw err;
    }
    chmodSync(socketPath, mode === 'user' ? 0o600 : 0o660);
    if (gid !== null) {
      try {
        chownSync(socketPath, 0, gid);
      } catch (err) {
        opts.log?.warn('cannot set the socket group', { socket: socketPath, error: (err as Error).message });
      }
    }
    server.on('error', (err) => opts.log?.warn('socket server error', { error: err.message }));
    return server;
  }
}

/** Removes the socket file if it is still ours (a socket), ignoring errors. */
export function removeSocketFile(socketPath: string): void {
  try {
    if (lstatSync(socketPath).isSocket()) unlinkSync(socketPath);
  } catch {
    /* already gone */
  }
}
