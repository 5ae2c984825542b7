/**
 * The outside idle checks (the I/O half of the engine's gates): sleep inhibitors, interactive sessions,
 * Ollama, the admin's custom check. Each returns a CheckResult; one that cannot run says 'unavailable'
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
import { execFile } from 'node:child_process';
import { existsSync, watch } from 'node:fs';
import { connect } from 'node:net';
import type { CheckResult, ExternalGate } from './engine.js';
import { readUtmpLogins, type UtmpRead } from './utmp.js';

export interface ExecResult {
  /** Exit code, or null when it did not exit normally (error, signal, timeout). */
  code: number | null;
  stdout: string;
  stderr: string;
  /** errno code of a spawn failure (ENOENT, EACCES), 'ETIMEDOUT' on timeout, or the signal name. */
  failure: string | null;
}

export type Exec = (file: string, args: string[], opts: { timeoutMs: number; env?: NodeJS.ProcessEnv }) => Promise<ExecResult>;

const MAX_OUTPUT = 1024 * 1024;

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

const firstLine = (s: string) => s.trim().split('\n')[0]?.trim().slice(0, 200) ?? '';

function describeFailure(cmd: string, r: ExecResult, timeoutMs: number): string {
  if (r.failure === 'ENOENT') return `${cmd} not found`;
  if (r.failure === 'EACCES') return `${cmd} is not executable`;
  if (r.failure === 'ETIMEDOUT') return `${cmd} did not answer within ${timeoutMs / 1000} s`;
  if (r.failure) return `${cmd} failed (${r.failure})`;
  const msg = firstLine(r.stderr) || firstLine(r.stdout);
  return `${cmd} exited ${r.code}${msg ? `: ${msg}` : ''}`;
}

// ---------------------------------------------------------------- inhibitors

export interface Inhibitor {
  who: string;
  uid: string;
  user: string;
  pid: string;
  comm: string;
  what: string;
  why: string;
  mode: string;
}

/** `systemd-inhibit --list --no-pager` text → inhibitors, by the header's column positions (WHO and WHY may contain spaces). */
export function parseInhibitors(text: string): Inhibitor[] {
  const lines = text.split('\n');
  const hi = lines.findIndex((l) => /^\s*WHO\s+UID\s+USER\s+PID\s+COMM\s+WHAT\s+WHY\s+MODE\s*$/.test(l));
  if (hi === -1) return [];
  const header = lines[hi]!;
  const names = ['WHO', 'UID', 'USER', 'PID', 'COMM', 'WHAT', 'WHY', 'MODE'] as const;
  const starts = names.map((n) => header.search(new RegExp(`\\b${n}\\b`)));
  const out: Inhibitor[] = [];
  for (const line of lines.slice(hi + 1)) {
    if (line.trim() === '' || /^\s*\d+ inhibitors? listed\.?\s*$/.test(line)) continue;
    const cols = names.map((_, i) => line.slice(starts[i]!, i + 1 < names.length ? starts[i + 1]! : undefined).trim());
    // A cell wider than its header shifts the rest; the last two tokens are reliable either way.
    const tokens = line.trim().split(/\s+/);
    const mode = tokens[tokens.length - 1] ?? '';
    out.push({ who: cols[0]!, uid: cols[1]!, user: cols[2]!, pid: cols[3]!, comm: cols[4]!, what: cols[5]!, why: cols[6]!, mode: cols[7] || mode });
  }
  return out;
}

export async function checkInhibitors(exec: Exec, env?: NodeJS.ProcessEnv): Promise<CheckResult> {
  const timeoutMs = 3000;
  const r = await exec('systemd-inhibit', ['--list', '--no-pager'], { timeoutMs, env });
  if (r.code !== 0) {
    const bus = /connect to bus|no such file or directory|system has not been booted with systemd/i.test(r.stderr);
    return { status: 'unavailable', reason: bus ? `no systemd-logind to ask for sleep inhibitors (${firstLine(r.stderr)})` : describeFailure('systemd-inhibit', r, timeoutMs) };
  }
  const blocking = parseInhibitors(r.stdout).filter((i) => i.what.split(':').includes('sleep') && i.mode === 'block');
  if (blocking.length === 0) return { status: 'clear', reason: 'no sleep inhibitors in block mode' };
  const list = blocking.slice(0, 3).map((i) => `${i.who || i.comm} (pid ${i.pid}${i.why ? `: ${i.why}` : ''})`).join(', ');
  return { status: 'busy', reason: `${blocking.length} sleep inhibitor${blocking.length === 1 ? '' : 's'}: ${list}${blocking.length > 3 ? ', ...' : ''}` };
}

/**
 * The inhibitor check without a process per sample. systemd-logind keeps one state file per inhibitor in
 * /run/systemd/inhibit/ (created with the first inhibitor, written on take, removed on release), so an
 * inotify watch on that folder (or on /run/systemd until it appears) tells when the list may have changed.
 * The file format is logind's private business and is not parsed: a change only says "ask again", and
 * `systemd-inhibit --list` stays the one source of truth. It is asked again when the folder changed, when
 * the last answer is older than `maxAgeMs`, when the last run failed in a way that may pass (a timeout),
 * and always when the caller asks for a fresh answer (the idle feature does, when a suspend is near).
 */
export class InhibitorCheck {
  private last: { result: CheckResult; at: number } | null = null;
  private dirty = true;
  private watcher: { close(): void } | null = null;
  private parentWatcher: { close(): void } | null = null;
  /** systemd-inhibit runs so far (for tests and the footprint bench). */
  runs = 0;

  constructor(
    private readonly exec: Exec,
    private readonly env?: NodeJS.ProcessEnv,
    private readonly opts: { dir?: string; parent?: string; maxAgeMs?: number; now?: () => number; watch?: WatchFn } = {},
  ) {}

  async run(fresh = false): Promise<CheckResult> {
    this.ensureWatch();
    const now = (this.opts.now ?? Date.now)();
    const last = this.last;
    if (!fresh && !this.dirty && last && now - last.at < (this.opts.maxAgeMs ?? INHIBIT_MAX_AGE_MS) && cacheable(last.result)) return last.result;
    // Cleared before asking, so a change during the run is seen next time.
    this.dirty = false;
    this.runs++;
    const result = await checkInhibitors(this.exec, this.env);
    this.last = { result, at: now };
    return result;
  }

  close(): void {
    this.watcher?.close();
    this.parentWatcher?.close();
    this.watcher = this.parentWatcher = null;
  }

  private ensureWatch(): void {
    if (this.watcher) return;
    const watch = this.opts.watch ?? realWatch;
    const dir = this.opts.dir ?? '/run/systemd/inhibit';
    this.watcher = watch(dir, () => (this.dirty = true), () => {
      this.watcher = null;
      this.dirty = true;
    });
    if (this.watcher) {
      // Whatever happened before the watch began is unknown.
      this.dirty = true;
      this.parentWatcher?.close();
      this.parentWatcher = null;
    } else if (!this.parentWatcher) {
      this.parentWatcher = watch(this.opts.parent ?? '/run/systemd', () => (this.dirty = true), () => {
        this.parentWatcher = null;
        this.dirty = true;
      });
    }
  }
}

/** Re-asked at least this often even when nothing changed (a missed event costs at most this long). */
export const INHIBIT_MAX_AGE_MS = 5 * 60_000;

/** A clear/busy answer, or "no logind": the same until something changes. A timeout or odd failure is asked again. */
function cacheable(r: CheckResult): boolean {
  return r.status !== 'unavailable' || r.reason.startsWith('no systemd-logind') || r.reason === 'systemd-inhibit not found';
}

/** Watches a folder (not persistent: it never keeps the agent alive); null when it cannot be watched. */
export type WatchFn = (dir: string, onChange: () => void, onError: () => void) => { close(): void } | null;

const realWatch: WatchFn = (dir, onChange, onError) => {
  try {
    const w = watch(dir, { persistent: false }, onChange);
    w.on('error', () => {
      w.close();
      onError();
    });
    return w;
  } catch {
    return null;
  }
};

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

// ---------------------------------------------------------------- ollama

export interface OllamaModel {
  name: string;
  expiresAt: string | null;
  sizeVram: number | null;
}

export function parseOllamaPs(body: unknown): OllamaModel[] | null {
  if (typeof body !== 'object' || body === null || !Array.isArray((body as { models?: unknown }).models)) return null;
  const out: OllamaModel[] = [];
  for (const m of (body as { models: unknown[] }).models) {
    if (typeof m !== 'object' || m === null) continue;
    const o = m as Record<string, unknown>;
    const name = typeof o.name === 'string' ? o.name : typeof o.model === 'string' ? o.model : '?';
    out.push({ name, expiresAt: typeof o.expires_at === 'string' ? o.expires_at : null, sizeVram: typeof o.size_vram === 'number' ? o.size_vram : null });
  }
  return out;
}

export type HttpGet = (url: string, timeoutMs: number) => Promise<{ status: number; body: string }>;

/**
 * GET over a plain `net` socket for http: URLs (HTTP/1.0, Connection: close): the agent already loads
 * `net` for its socket, and node:http would add ~2.5 MB of RSS for one small local request per sample.
 * https: URLs load node:https on first use.
 */
export const realHttpGet: HttpGet = async (url, timeoutMs) => {
  const u = new URL(url);
  if (u.protocol === 'https:') return httpsGet(url, timeoutMs);
  if (u.protocol !== 'http:') throw Object.assign(new Error(`unsupported URL scheme ${u.protocol}`), { code: 'EPROTO' });
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const sock = connect({ host, port: Number(u.port || 80) });
    sock.setTimeout(timeoutMs, () => sock.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    sock.on('connect', () => {
      sock.write(`GET ${u.pathname}${u.search} HTTP/1.0\r\nHost: ${u.host}\r\nAccept: application/json\r\nConnection: close\r\n\r\n`);
    });
    sock.on('data', (d: Buffer) => {
      size += d.length;
      if (size > MAX_OUTPUT + 64 * 1024) sock.destroy(new Error('response too large'));
      else chunks.push(d);
    });
    sock.on('error', reject);
    sock.on('end', () => {
      try {
        resolve(parseHttpResponse(Buffer.concat(chunks).toString('utf8')));
      } catch (err) {
        reject(err);
      }
    });
  });
};

/** Status and body of a whole HTTP/1.x response (chunked bodies decoded). */
export function parseHttpResponse(text: string): { status: number; body: string } {
  const head = text.indexOf('\r\n\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  if (head < 0 || !status) throw Object.assign(new Error('not an HTTP response'), { code: 'EPROTO' });
  const headers = text.slice(0, head);
  let body = text.slice(head + 4);
  if (/^transfer-encoding:\s*chunked\s*$/im.test(headers)) {
    let out = '';
    let rest = body;
    for (;;) {
      const eol = rest.indexOf('\r\n');
      const n = eol < 0 ? NaN : parseInt(rest.slice(0, eol), 16);
      if (!Number.isFinite(n) || n === 0) break;
      out += rest.slice(eol + 2, eol + 2 + n);
      rest = rest.slice(eol + 2 + n + 2);
    }
    body = out;
  }
  return { status: Number(status[1]), body };
}

async function httpsGet(url: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  const https = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = https.get(url, { timeout: timeoutMs, headers: { accept: 'application/json' } }, (res) => {
      let body = '';
      let size = 0;
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        size += d.length;
        if (size > MAX_OUTPUT) req.destroy(new Error('response too large'));
        else body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
  });
}

/** Stateful: remembers each model's expires_at between looks (see the file comment). */
export class OllamaCheck {
  private seen: Map<string, string | null> | null = null;

  constructor(private readonly get: HttpGet = realHttpGet) {}

  async run(baseUrl: string, timeoutMs = 2000): Promise<CheckResult> {
    const url = `${baseUrl.replace(/\/+$/, '')}/api/ps`;
    let res: { status: number; body: string };
    try {
      res = await this.get(url, timeoutMs);
    } catch (err) {
      this.seen = null;
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      return { status: 'unavailable', reason: `Ollama not reachable at ${baseUrl} (${code})` };
    }
    if (res.status !== 200) {
      this.seen = null;
      return { status: 'unavailable', reason: `Ollama at ${baseUrl} answered HTTP ${res.status} to /api/ps` };
    }
    let models: OllamaModel[] | null;
    try {
      models = parseOllamaPs(JSON.parse(res.body));
    } catch {
      models = null;
    }
    if (!models) {
      this.seen = null;
      return { status: 'unavailable', reason: `Ollama at ${baseUrl} sent an unexpected /api/ps answer` };
    }
    const prev = this.seen;
    this.seen = new Map(models.map((m) => [m.name, m.expiresAt]));
    if (models.length === 0) return { status: 'clear', reason: 'Ollama has no model loaded' };
    const used: string[] = [];
    for (const m of models) {
      const before = prev?.get(m.name);
      if (prev === null || before === undefined) used.push(`${m.name} (just loaded)`);
      else if (m.expiresAt !== null && before !== null && Date.parse(m.expiresAt) > Date.parse(before)) used.push(`${m.name} (keep-alive extended)`);
    }
    if (used.length > 0) return { status: 'busy', reason: `Ollama model in use: ${used.join(', ')}` };
    return { status: 'clear', reason: `Ollama: ${models.map((m) => m.name).join(', ')} loaded but not used since the last look` };
  }
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
