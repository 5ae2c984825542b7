/** Root for a system install: root login, `sudo -n`, or `sudo -S` with a password the user types. */
import { outputTail, type Privilege, type Remote } from './host.js';
import type { HostProbe } from './probe.js';

/**
 * Get root for system mode: root login, `sudo -n`, or `sudo -S` with a password the user types.
 * Returns null when system mode is not possible (with why), for auto mode to fall back to user mode.
 */
export async function acquirePrivilege(
  ctx: { askSudoPassword: () => Promise<string | null> },
  remote: Remote,
  probe: HostProbe,
): Promise<{ priv: Privilege; password: string | null; how: string } | { why: string }> {
  switch (probe.sudo) {
    case 'root':
      return { priv: 'self', password: null, how: 'logged in as root' };
    case 'nopasswd':
      return { priv: 'sudo-n', password: null, how: 'passwordless sudo' };
    case 'none':
      return { why: `${probe.user} is not root and the host has no sudo` };
    case 'password': {
      const password = await ctx.askSudoPassword();
      if (password === null) return { why: 'the sudo password was not given' };
      remote.setPrivilege('sudo-S', password);
      const r = await remote.priv('true', 30_000);
      if (r.code !== 0) {
        remote.setPrivilege('self');
        // sudo's own words ("incorrect password attempts", "not in the sudoers file"); never the password.
        return { why: `sudo refused: ${outputTail(r, 3) || `exit code ${r.code}`}` };
      }
      return { priv: 'sudo-S', password, how: 'sudo' };
    }
  }
}
