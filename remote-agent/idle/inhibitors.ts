/**
 * The sleep-inhibitor check: `systemd-inhibit --list`, asked again only when logind's inhibitor folder
 * changed, at least every INHIBIT_MAX_AGE_MS, and always fresh when a suspend is near (see checks.ts).
 */
import { watch } from 'node:fs';
import type { CheckResult } from './engine.js';
import { describeFailure, firstLine, type Exec } from './exec.js';

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
