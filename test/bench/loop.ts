/** Bounded repetition: every benchmark loop stops at a count AND at a time budget. */
import { performance } from 'node:perf_hooks';

export interface RepeatResult {
  /** Iterations that completed. */
  done: number;
  /** True when the time budget ended the loop before `count`. */
  timedOut: boolean;
}

export async function repeat(
  opts: { count: number; budgetMs: number },
  fn: (i: number) => Promise<void>,
): Promise<RepeatResult> {
  const deadline = performance.now() + opts.budgetMs;
  let done = 0;
  while (done < opts.count) {
    if (performance.now() > deadline) return { done, timedOut: true };
    await fn(done);
    done++;
  }
  return { done, timedOut: false };
}

/** Milliseconds `fn` takes (wall clock, monotonic), and its result. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const t0 = performance.now();
  const result = await fn();
  return { ms: performance.now() - t0, result };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Note for a row when a loop was cut by its budget. */
export function budgetNote(what: string, r: RepeatResult, wanted: number): string[] {
  return r.timedOut ? [`${what}: time budget reached after ${r.done} of ${wanted} repetitions.`] : [];
}
