/** Helpers for the store's per-host records: updates replace only the entries that changed. */

export function without<T>(rec: Record<string, T>, key: string): Record<string, T> {
  const { [key]: _gone, ...rest } = rec;
  return rest;
}

export function sameOn<T>(a: T, b: T, keys: readonly (keyof T)[]): boolean {
  return keys.every((k) => a[k] === b[k]);
}

/**
 * `rec` with `entries` put in, except where `keep(prev, next)` holds. Null when nothing changed, so
 * the caller can leave the store (and every subscriber) alone.
 */
export function mergeEntries<T>(
  rec: Record<string, T>,
  entries: Iterable<readonly [string, T]>,
  keep: (prev: T, next: T) => boolean,
): Record<string, T> | null {
  let out: Record<string, T> | null = null;
  for (const [name, next] of entries) {
    const prev = (out ?? rec)[name];
    if (prev !== undefined && keep(prev, next)) continue;
    out ??= { ...rec };
    out[name] = next;
  }
  return out;
}
