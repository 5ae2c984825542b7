/** What every command of the agent's CLI shares: exit codes, streams, parsed arguments, paths. */
import { AgentClientError } from '../rpc/socket.js';
import { resolvePaths, type AgentPaths } from '../paths.js';
import type { AgentMode } from '../protocol.js';

export const EXIT = {
  OK: 0,
  /** A command failed (GPU check found no GPU, the bridge could not reach the agent, other errors). */
  FAILURE: 1,
  USAGE: 2,
  /** `status`: the agent is not running. */
  NOT_RUNNING: 3,
  /** `run`: another fleetwake-agent already serves the socket. */
  ALREADY_RUNNING: 4,
} as const;

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
}

export interface Parsed {
  command: string;
  /** suspend's action: status | enable | disable | now. */
  sub: string;
  mode: AgentMode | undefined;
  json: boolean;
  foreground: boolean;
  detach: boolean;
  help: boolean;
}

export function write(stream: NodeJS.WritableStream, text: string): void {
  stream.write(text.endsWith('\n') ? text : text + '\n');
}

export function clientPaths(parsed: Parsed, io: CliIo): AgentPaths {
  return resolvePaths({ mode: parsed.mode, role: 'client', env: io.env });
}

/** The errno of a failed call to the agent, and whether it means "no agent there" rather than a fault. */
export function connectFailure(err: unknown): { code: string; notRunning: boolean } {
  const code = err instanceof AgentClientError ? err.code : 'EUNKNOWN';
  return { code, notRunning: code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'ENOTDIR' };
}

/** For tests and `status`: is the pid alive? */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

