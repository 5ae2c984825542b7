/**
 * ssh2, loaded on first use. It is the heaviest module the core needs (~80 ms to load on a 2-core box,
 * more than all of the CLI's own code), and commands that never connect (`fleetwake hosts ls`, `--help`)
 * must not pay for it. Everything in main/ssh that needs ssh2 at run time awaits this; type imports
 * stay static.
 */
type Ssh2 = typeof import('ssh2');

let loading: Promise<Ssh2> | undefined;

export function loadSsh2(): Promise<Ssh2> {
  // ssh2 is CommonJS: its exports are the default export of the ES namespace.
  loading ??= import('ssh2').then((m) => ((m as unknown as { default?: Ssh2 }).default ?? m) as Ssh2);
  return loading;
}
