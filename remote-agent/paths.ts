/**
 * Where the agent's files live, per mode (protocol.ts AGENT_PATHS, ARCHITECTURE.md "The agent on a server").
 *
 * Mode: `system` when asked (`--mode system`), or, with no mode given, when running as root and the config
 * in use is the system one (/etc/fleetwake/agent.yaml) and it exists; else `user`.
 * Env overrides (tests, odd setups): FLEETWAKE_AGENT_CONFIG, FLEETWAKE_AGENT_STATE, FLEETWAKE_AGENT_SOCKET.
 */
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';
import { AGENT_PATHS, type AgentMode } from './protocol.js';

export interface AgentPaths {
  mode: AgentMode;
  configFile: string;
  stateDir: string;
  socket: string;
  /** stateDir/agent.pid */
  pidFile: string;
  /** stateDir/agent.log: where `run --detach` sends the daemon's stdout/stderr. */
  logFile: string;
}

export interface ResolveOptions {
  /** From --mode; undefined means detect. */
  mode?: AgentMode | undefined;
  /** 'daemon' (run) detects by uid; 'client' (status, rpc, metrics) looks for a running agent's socket. */
  role?: 'daemon' | 'client';
  env?: NodeJS.ProcessEnv;
  home?: string;
  uid?: number;
  exists?: (p: string) => boolean;
  writableDir?: (p: string) => boolean;
}

/** Longest unix socket path Linux accepts (sun_path is 108 bytes with the NUL). */
export const MAX_SOCKET_PATH_BYTES = 107;

function defaultWritableDir(p: string): boolean {
  try {
    if (!statSync(p).isDirectory()) return false;
    accessSync(p, constants.W_OK | constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function expandHome(p: string, home: string): string {
  return p === '~' ? home : p.startsWith('~/') ? join(home, p.slice(2)) : p;
}

export function userSocketPath(env: NodeJS.ProcessEnv, home: string, writableDir = defaultWritableDir): string {
  const xdg = env.XDG_RUNTIME_DIR;
  if (xdg && isAbsolute(xdg) && writableDir(xdg)) return join(xdg, 'fleetwake', 'agent.sock');
  return expandHome(AGENT_PATHS.user.socket, home);
}

export function resolveMode(opts: ResolveOptions = {}): AgentMode {
  if (opts.mode) return opts.mode;
  const env = opts.env ?? process.env;
  const exists = opts.exists ?? existsSync;
  const uid = opts.uid ?? (typeof process.getuid === 'function' ? process.getuid() : -1);
  const configFile = env.FLEETWAKE_AGENT_CONFIG || AGENT_PATHS.system.configFile;
  const systemConfigInUse = configFile === AGENT_PATHS.system.configFile && exists(configFile);
  if ((opts.role ?? 'daemon') === 'daemon') return uid === 0 && systemConfigInUse ? 'system' : 'user';
  // A client (any user) talks to the system agent when one is installed and no user agent's socket is there.
  if (env.FLEETWAKE_AGENT_SOCKET) return uid === 0 && systemConfigInUse ? 'system' : 'user';
  const home = opts.home ?? homedir();
  if (exists(userSocketPath(env, home, opts.writableDir))) return 'user';
  return systemConfigInUse || exists(AGENT_PATHS.system.socket) ? 'system' : 'user';
}

export function resolvePaths(opts: ResolveOptions = {}): AgentPaths {
  const env = opts.env ?? process.env;
  const home = opts.home ?? homedir();
  const mode = resolveMode(opts);
  const base = mode === 'system'
    ? { configFile: AGENT_PATHS.system.configFile, stateDir: AGENT_PATHS.system.stateDir, socket: AGENT_PATHS.system.socket }
    : {
        configFile: expandHome(AGENT_PATHS.user.configFile, home),
        stateDir: expandHome(AGENT_PATHS.user.stateDir, home),
        socket: userSocketPath(env, home, opts.writableDir),
      };
  const configFile = env.FLEETWAKE_AGENT_CONFIG || base.configFile;
  const stateDir = env.FLEETWAKE_AGENT_STATE || base.stateDir;
  const socket = env.FLEETWAKE_AGENT_SOCKET || base.socket;
  return { mode, configFile, stateDir, socket, pidFile: join(stateDir, 'agent.pid'), logFile: join(stateDir, 'agent.log') };
}

/** Why a socket path cannot be used, or null. */
export function socketPathProblem(socket: string): string | null {
  if (!isAbsolute(socket)) return `socket path must be absolute (got ${socket})`;
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH_BYTES) {
    return `socket path is ${Buffer.byteLength(socket)} bytes, longer than the ${MAX_SOCKET_PATH_BYTES} a unix socket allows: ${socket}`;
  }
  return null;
}

/** An executable's absolute path: `name` as is when it has a slash, else the first match on PATH; null when none. */
export function resolveOnPath(name: string, env: NodeJS.ProcessEnv = process.env, isExecutable = defaultIsExecutable): string | null {
  if (name.includes('/')) return isExecutable(name) ? name : null;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

function defaultIsExecutable(p: string): boolean {
  try {
    if (!statSync(p).isFile()) return false;
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
