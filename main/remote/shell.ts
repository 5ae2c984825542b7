/**
 * Building remote shell commands safely: the one shell quoter of the app. Every value that ends up in a
 * command string (paths, user names, versions) goes through `shellQuote` or `shq`; the command
 * skeletons themselves are fixed strings.
 */

/**
 * Single-quote `s` for a POSIX shell: the result is one word whose value is exactly `s`.
 * Inside single quotes nothing is special except `'` itself, which is written as `'\''`.
 * NUL cannot be passed through a shell at all, so it is refused.
 */
export function shellQuote(s: string): string {
  if (s.includes('\0')) throw new Error('shq: a shell word cannot contain NUL');
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** shellQuote, except that a word of only safe characters stays bare (easier to read in scripts and logs). */
export function shq(s: string): string {
  if (s !== '' && /^[A-Za-z0-9_./:=@%+,-]+$/.test(s)) return s;
  return shellQuote(s);
}

/** `sh -c '<script>'`: scripts run in POSIX sh whatever the user's login shell is (fish, zsh, ...). */
export function shScript(script: string): string {
  return `sh -c ${shq(script)}`;
}

/** `NAME=value` assignments (values quoted) for an `env`-style prefix. Names must be plain identifiers. */
export function envPrefix(vars: Record<string, string>): string {
  return Object.entries(vars)
    .map(([k, v]) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`envPrefix: bad variable name ${JSON.stringify(k)}`);
      return `${k}=${shellQuote(v)}`;
    })
    .join(' ');
}

/**
 * Quote one argument for a systemd unit's ExecStart=/Environment= line: double quotes, with `\`, `"`
 * escaped, `%` doubled (specifier) and `$` doubled (variable expansion).
 */
export function systemdQuote(s: string): string {
  if (/[\0\n\r]/.test(s)) throw new Error('systemdQuote: value contains a newline or NUL');
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%').replace(/\$/g, '$$$$')}"`;
}
