/**
 * Sleep history: STATE/sleep-history.jsonl, one SleepPeriod per line, oldest first, at most MAX_PERIODS
 * (older ones dropped). Small, so every change rewrites the file atomically (writeFileAtomic).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../atomic-file.js';
import type { SleepPeriod } from '../protocol.js';

export const SLEEP_HISTORY_FILE = 'sleep-history.jsonl';
export const MAX_PERIODS = 500;

function isPeriod(v: unknown): v is SleepPeriod {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return (
    typeof o.suspendedAt === 'number' &&
    (o.resumedAt === null || typeof o.resumedAt === 'number') &&
    (o.reason === 'idle' || o.reason === 'manual' || o.reason === 'external') &&
    (o.wolArmed === null || typeof o.wolArmed === 'boolean') &&
    typeof o.wolMessage === 'string'
  );
}

export class SleepHistory {
  readonly path: string;
  private periods: SleepPeriod[] = [];

  constructor(stateDir: string, private readonly max = MAX_PERIODS) {
    this.path = join(stateDir, SLEEP_HISTORY_FILE);
  }

  /** Reads the file; bad lines are skipped. Returns how many were skipped. */
  load(): number {
    let text = '';
    try {
      text = readFileSync(this.path, 'utf8');
    } catch {
      this.periods = [];
      return 0;
    }
    let bad = 0;
    const out: SleepPeriod[] = [];
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        const v = JSON.parse(line) as unknown;
        if (isPeriod(v)) out.push(v);
        else bad++;
      } catch {
        bad++;
      }
    }
    this.periods = out.slice(-this.max);
    return bad;
  }

  /** Newest first. */
  list(limit = this.max): SleepPeriod[] {
    return this.periods.slice(-limit).reverse().map((p) => ({ ...p }));
  }

  open(): SleepPeriod | null {
    const last = this.periods[this.periods.length - 1];
    return last && last.resumedAt === null ? { ...last } : null;
  }

  append(p: SleepPeriod): void {
    this.periods.push({ ...p });
    if (this.periods.length > this.max) this.periods.splice(0, this.periods.length - this.max);
    this.write();
  }

  /** Closes the newest open period at `at`; returns it, or null when none was open. */
  close(at: number): SleepPeriod | null {
    const last = this.periods[this.periods.length - 1];
    if (!last || last.resumedAt !== null) return null;
    last.resumedAt = Math.max(at, last.suspendedAt);
    this.write();
    return { ...last };
  }

  private write(): void {
    writeFileAtomic(this.path, this.periods.map((p) => `${JSON.stringify(p)}\n`).join(''));
  }
}
