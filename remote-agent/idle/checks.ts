/**
 * The outside idle checks (the I/O half of the engine's gates): sleep inhibitors (`inhibitors.ts`),
 * interactive sessions, Ollama (`ollama.ts`), the admin's custom check; commands run through `exec.ts`. Each returns a CheckResult; one that cannot run says 'unavailable'
 * and why. Parsers are exported and tested on captured output; commands run with execFile (no shell).
 *
 * inhibit   `systemd-inhibit --list --no-pager`, asked again only when logind's inhibitor folder changed (or a
 *           suspend is near; see InhibitorCheck): inhibitors whose WHAT includes "sleep" and MODE is
 *           "block" keep the box awake (delay-mode ones only delay a suspend, they do not forbid it).
 *           No systemd-inhibit, or no logind/D-Bus ("Failed to connect to bus") → unavailable.
 * sessions  utmp read directly (idle/utmp.ts, the logins `who` lists, no process; `who` only when the file
 *           exists but is unreadable): logins that have a terminal (pts/N, ttyN, :N, console). sshd writes utmp only
 *           for sessions that get a pty; Fleetwake's own SSH use (exec channels, direct-streamlocal to the
 *           agent socket, the `rpc` bridge) never asks for a pty, so it never shows here (checked against
 *           Debian 12's OpenSSH: `ssh -T host cmd` adds no utmp entry, `ssh -tt` and a login shell do). An
 *           empty answer with no utmp file at all (containers, utmp-less distros) is 'unavailable', not clear. loginctl was NOT
 *           chosen because pam_systemd registers a logind session for every SSH connection, ours included.
 * ollama    GET {url}/api/ps. Ollama reports what is loaded, not what is running. "In use" here means: a
 *           model appeared since the previous look (loaded for a request), or its expires_at moved later
 *           (Ollama restarts the keep-alive timer when a request ends). A model merely resident with an
 *           unchanged expires_at is not use. Limits: a model kept with keep_alive -1 never changes
 *           expires_at, and a long single generation shows as use only when it ends (the GPU gates see it
 *           while it runs).
 * custom    idle.custom_check argv from agent.yaml: exit 0 = busy, other exit = clear; not runnable, killed
 *           by its timeout or a signal = unavailable.
 */
import { existsSync } from 'node:fs';
import type { CheckResult, ExternalGate } from './engine.js';
import { describeFailure, firstLine, realExec, type Exec } from './exec.js';
import { InhibitorCheck } from './inhibitors.js';
import { OllamaCheck, type HttpGet } from './ollama.js';
import { readUtmpLogins, type UtmpRead } from './utmp.js';


// ---------------------------------------------------------------- sessions

export interface Session {
  user: string;
  line: string;
  from: string | null;
}

const TTY_RE = /^(pts\/\d+|tty[A-Za-z]*\d+|:\d+(\.\d+)?|console)$/;

/** `who` text → logins that have a terminal. */
export function parseWho(text: string): Session[] {
  const out: Session[] = [];
  for (const raw of text.split('\n')) {
    const f = raw.trim().split(/\s+/);
    if (f.length < 2 || f[0] === '') continue;
    const [user, line] = f as [string, string];
    if (!TTY_RE.test(line)) continue;
    const m = /\(([^)]*)\)\s*$/.exec(raw);
    out.push({ user, line, from: m?.[1] || null });
  }
  return out;
}

export const UTMP_PATHS = ['/run/utmp', '/var/run/utmp'];

function defaultUtmpExists(): boolean {
  return UTMP_PATHS.some((p) => existsSync(p));
}

export async function checkSessions(exec: Exec, env?: NodeJS.ProcessEnv, utmpExists: () => boolean = defaultUtmpExists): Promise<CheckResult> {
  const timeoutMs = 3000;
  const r = await exec('who', [], { timeoutMs, env });
  if (r.code !== 0) return { status: 'unavailable', reason: describeFailure('who', r, timeoutMs) };
  const sessions = parseWho(r.stdout);
  if (sessions.length === 0) {
    // An empty answer without a utmp database means "cannot tell", not "nobody is logged in".
    if (!utmpExists()) return { status: 'unavailable', reason: NO_UTMP };
    return { status: 'clear', reason: 'no interactive logins (who)' };
  }
  return sessionsBusy(sessions);
}

const NO_UTMP = `no utmp database (${UTMP_PATHS[0]}): logins cannot be counted`;

function sessionsBusy(sessions: Session[]): CheckResult {
  const list = sessions.slice(0, 3).map((s) => `${s.user} on ${s.line}${s.from ? ` from ${s.from}` : ''}`).join(', ');
  return { status: 'busy', reason: `${sessions.length} interactive login${sessions.length === 1 ? '' : 's'}: ${list}${sessions.length > 3 ? ', ...' : ''}` };
}

/**
 * The sessions check without a process: the utmp file read directly (idle/utmp.ts), the same logins `who`
 * lists. Only when the file exists but cannot be read (permissions) does it ask `who` instead.
 */
export async function checkUtmpSessions(
  exec: Exec,
  env?: NodeJS.ProcessEnv,
  read: () => UtmpRead = () => readUtmpLogins(UTMP_PATHS),
): Promise<CheckResult> {
  const r = read();
  if (!r.ok) return r.code === 'ENOENT' ? { status: 'unavailable', reason: NO_UTMP } : checkSessions(exec, env);
  const sessions = r.logins.filter((l) => TTY_RE.test(l.line)).map((l): Session => ({ user: l.user, line: l.line, from: l.host || null }));
  if (sessions.length === 0) return { status: 'clear', reason: 'no interactive logins (utmp)' };
  return sessionsBusy(sessions);
}


// ---------------------------------------------------------------- custom check

export async function checkCustom(exec: Exec, argv: string[] | null, timeoutSeconds: number, env?: NodeJS.ProcessEnv): Promise<CheckResult> {
  if (!argv || argv.length === 0) return { status: 'unavailable', reason: 'no idle.custom_check configured' };
  const timeoutMs = Math.round(timeoutSeconds * 1000);
  const name = argv[0]!;
  const r = await exec(name, argv.slice(1), { timeoutMs, env });
  if (r.code === 0) {
    const msg = firstLine(r.stdout);
    return { status: 'busy', reason: `custom check ${name} exited 0 (busy)${msg ? `: ${msg}` : ''}` };
  }
  if (r.code !== null) return { status: 'clear', reason: `custom check ${name} exited ${r.code} (not busy)` };
  // Configured, so wanted: a check that cannot run must not let the box sleep by accident.
  return { status: 'unavailable', reason: `custom check ${describeFailure(name, r, timeoutMs)}`, hold: true };
}

// ---------------------------------------------------------------- runner

export interface IdleChecks {
  /** `fresh`: ask now, whatever any cache says (a suspend is near). */
  inhibit(fresh?: boolean): Promise<CheckResult>;
  sessions(): Promise<CheckResult>;
  ollama(url: string): Promise<CheckResult>;
  custom(argv: string[] | null, timeoutSeconds: number): Promise<CheckResult>;
}

export function realChecks(opts: { exec?: Exec; httpGet?: HttpGet; env?: NodeJS.ProcessEnv } = {}): IdleChecks {
  const exec = opts.exec ?? realExec;
  const ollama = new OllamaCheck(opts.httpGet);
  const inhibit = new InhibitorCheck(exec, opts.env);
  return {
    inhibit: (fresh) => inhibit.run(fresh),
    sessions: () => checkUtmpSessions(exec, opts.env),
    ollama: (url) => ollama.run(url),
    custom: (argv, t) => checkCustom(exec, argv, t, opts.env),
  };
}

/**
 * Runs the checks without ever letting one overlap itself or hold up a tick: `start()` launches those not
 * in flight; `results()` is the latest of each (missing until the first one answers).
 */
export class CheckRunner {
  private latest: Partial<Record<ExternalGate, CheckResult>> = {};
  private inFlight = new Map<ExternalGate, Promise<void>>();

  constructor(private readonly checks: IdleChecks) {}

  start(cfg: { ollamaUrl: string; customCheck: string[] | null; customCheckTimeoutSeconds: number; fresh?: boolean }): Promise<void> {
    const jobs: [ExternalGate, () => Promise<CheckResult>][] = [
      ['inhibit', () => this.checks.inhibit(cfg.fresh === true)],
      ['sessions', () => this.checks.sessions()],
      ['ollama_busy', () => this.checks.ollama(cfg.ollamaUrl)],
      ['custom_check', () => this.checks.custom(cfg.customCheck, cfg.customCheckTimeoutSeconds)],
    ];
    for (const [gate, run] of jobs) {
      if (this.inFlight.has(gate)) continue;
      const p = Promise.resolve()
        .then(run)
        .catch((err: unknown): CheckResult => ({ status: 'unavailable', reason: `check failed: ${(err as Error).message}` }))
        .then((r) => {
          this.latest[gate] = r;
        })
        .finally(() => this.inFlight.delete(gate));
      this.inFlight.set(gate, p);
    }
    return Promise.all(this.inFlight.values()).then(() => undefined);
  }

  results(): Partial<Record<ExternalGate, CheckResult>> {
    return { ...this.latest };
  }

  /** Forget results (after a resume the old ones say nothing about now). */
  clear(): void {
    this.latest = {};
  }
}
