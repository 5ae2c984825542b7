/** Running the outside commands the idle checks and suspend use: argument arrays, no shell, output capped. */
import { execFile } from 'node:child_process';

export interface ExecResult {
  /** Exit code, or null when it did not exit normally (error, signal, timeout). */
  code: number | null;
  stdout: string;
  stderr: string;
  /** errno code of a spawn failure (ENOENT, EACCES), 'ETIMEDOUT' on timeout, or the signal name. */
  failure: string | null;
}

export type Exec = (file: string, args: string[], opts: { timeoutMs: number; env?: NodeJS.ProcessEnv }) => Promise<ExecResult>;

export const MAX_OUTPUT = 1024 * 1024;

export const realExec: Exec = (file, args, opts) =>
  new Promise((resolve) => {
    try {
      execFile(
        file,
        args,
        { timeout: opts.timeoutMs, killSignal: 'SIGKILL', env: opts.env ?? process.env, maxBuffer: MAX_OUTPUT, windowsHide: true },
        (err, stdout, stderr) => {
          const e = err as (NodeJS.ErrnoException & { killed?: boolean; signal?: string | null; code?: unknown }) | null;
          if (!e) return resolve({ code: 0, stdout: String(stdout), stderr: String(stderr), failure: null });
          if (typeof e.code === 'number') return resolve({ code: e.code, stdout: String(stdout), stderr: String(stderr), failure: null });
          const failure = e.killed ? 'ETIMEDOUT' : typeof e.code === 'string' ? e.code : e.signal ?? 'EUNKNOWN';
          resolve({ code: null, stdout: String(stdout ?? ''), stderr: String(stderr ?? ''), failure });
        },
      );
    } catch (err) {
      resolve({ code: null, stdout: '', stderr: '', failure: (err as NodeJS.ErrnoException).code ?? 'EUNKNOWN' });
    }
  });

export const firstLine = (s: string) => s.trim().split('\n')[0]?.trim().slice(0, 200) ?? '';

export function describeFailure(cmd: string, r: ExecResult, timeoutMs: number): string {
  if (r.failure === 'ENOENT') return `${cmd} not found`;
  if (r.failure === 'EACCES') return `${cmd} is not executable`;
  if (r.failure === 'ETIMEDOUT') return `${cmd} did not answer within ${timeoutMs / 1000} s`;
  if (r.failure) return `${cmd} failed (${r.failure})`;
  const msg = firstLine(r.stderr) || firstLine(r.stdout);
  return `${cmd} exited ${r.code}${msg ? `: ${msg}` : ''}`;
}
