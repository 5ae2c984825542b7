/**
 * Waiting on a condition, never on a fixed sleep: the one polling helper every test uses.
 *
 * `probe` may return a value (returned once truthy), throw (kept as the last error and retried), or
 * return a Promise of either. On timeout the error names what was awaited and the last thing seen.
 */
export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
}

export async function waitFor<T>(
  what: string,
  probe: () => T | null | undefined | false | Promise<T | null | undefined | false>,
  { timeoutMs = 15_000, intervalMs = 25 }: WaitOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
      last = undefined;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const why = last instanceof Error ? `: ${last.message}` : last === undefined ? '' : `: ${String(last)}`;
      const err = new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
      if (last instanceof Error) (err as Error & { cause?: unknown }).cause = last;
      throw err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
