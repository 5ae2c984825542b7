/**
 * Checking on the server, with its own sha256sum, that an uploaded file is the one the app pinned,
 * before it replaces anything. Run with the install's privilege on the copy that will be renamed into
 * place, so nothing can swap the file between the check and its use.
 */

/** Exit status of sha256CheckScript when the file's hash is not the expected one. */
export const SHA256_MISMATCH = 3;

/**
 * sh lines that fall through only when the file hashes to `expected`. Otherwise they run `onFail`
 * (cleanup) and exit: SHA256_MISMATCH with `@@sha256 <hash>` on stdout, or 1 when the hash cannot be
 * computed (no sha256sum on the host). `fileWord` is one shell word: a shq()'d path or "$var".
 */
export function sha256CheckScript(fileWord: string, expected: string, onFail = ':'): string {
  if (!/^[0-9a-f]{64}$/.test(expected)) throw new Error(`sha256CheckScript: not a sha256: ${JSON.stringify(expected)}`);
  return `if ! command -v sha256sum >/dev/null 2>&1; then ${onFail}; echo "this host has no sha256sum (GNU coreutils), which Fleetwake needs to check the files it installs; install coreutils and deploy again" >&2; exit 1; fi
fw_sum=$(sha256sum < ${fileWord}) || { ${onFail}; echo "sha256sum could not read the uploaded file" >&2; exit 1; }
fw_sum=\${fw_sum%% *}
if [ "$fw_sum" != ${expected} ]; then ${onFail}; echo "@@sha256 $fw_sum"; exit ${SHA256_MISMATCH}; fi`;
}

/** The uploaded copy of `path` on the host does not hash to the pinned sha256; it was deleted. */
export class ChecksumMismatchError extends Error {
  constructor(
    readonly path: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`the copy uploaded for ${path} has sha256 ${actual} on the host, not the ${expected} this Fleetwake build pinned`);
    this.name = 'ChecksumMismatchError';
  }
}

/** The mismatch a check script reported, or null when it did not report one. */
export function checksumMismatch(r: { code: number | null; stdout: string }, path: string, expected: string): ChecksumMismatchError | null {
  const m = /^@@sha256 (\S*)$/m.exec(r.stdout);
  return r.code === SHA256_MISMATCH && m ? new ChecksumMismatchError(path, expected, m[1] || '(none)') : null;
}
