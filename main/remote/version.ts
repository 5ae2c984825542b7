/** Version strings of node and of the agent. */

export interface SemVer {
  major: number;
  minor: number;
  patch: number;
}

/** Parse `v20.19.0`, `20.19.0`, `v18.0.0-pre`, `node v22.1.0` (first x.y[.z] found); null when none. */
export function parseVersion(text: string): SemVer | null {
  const m = /(?:^|[^0-9.])v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(` ${text.trim()}`);
  if (!m) return null;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0) };
}

/** <0, 0, >0 like a sort comparator; unparsable versions sort first. */
export function compareVersions(a: string, b: string): number {
  const pa = parseVersion(a);
  const pb = parseVersion(b);
  if (!pa || !pb) return pa ? 1 : pb ? -1 : 0;
  return pa.major - pb.major || pa.minor - pb.minor || pa.patch - pb.patch;
}

/** True when `v` parses and is >= `min`. */
export function versionAtLeast(v: string | null | undefined, min: string): boolean {
  if (!v || !parseVersion(v)) return false;
  return compareVersions(v, min) >= 0;
}

/** Node the agent needs at least (ARCHITECTURE.md). */
export const MIN_NODE_VERSION = '18.0.0';
/** The runtime we ship (node-linux-*@22) is linked against this glibc at least (FIELD-NOTES.md). */
export const MIN_GLIBC_FOR_RUNTIME = '2.28';
