/** Removing the agent from a server. */
import { posix } from 'node:path';
import { stopAgent, systemctl } from '../remote/agent-process.js';
import { Remote } from '../remote/host.js';
import { layoutFor, SYSTEM_GROUP, UNIT_NAME, type Layout, type Supervisor } from '../remote/layout.js';
import type { InstallManifest } from '../remote/manifest.js';
import { takeLock } from '../remote/lock.js';
import { acquirePrivilege } from '../remote/privilege.js';
import { fail, Progress } from '../remote/progress.js';
import { shq } from '../remote/shell.js';
import { probeHost, readManifests, type DeployContext } from './deploy.js';
import { supervisorFor } from './plan.js';

function purgeScript(l: Layout, purge: boolean): string {
  const lines = [
    `rm -f ${shq(l.socketPath)}`,
    // Only our own socket folders (never $XDG_RUNTIME_DIR itself).
    `rmdir ${shq(posix.dirname(l.socketPath))} 2>/dev/null`,
  ];
  const stateInside = l.stateDir.startsWith(`${l.installDir}/`);
  if (stateInside && !purge) {
    // Keep the state folder (history) inside the install folder; remove everything else there.
    lines.push(
      `for f in ${shq(l.installDir)}/* ${shq(l.installDir)}/.[!.]* ${shq(l.installDir)}/..?*; do [ -e "$f" ] || [ -L "$f" ] || continue; [ "$f" = ${shq(l.stateDir)} ] && continue; rm -rf "$f"; done`,
    );
  } else {
    lines.push(`rm -rf ${shq(l.installDir)}`);
  }
  if (purge) {
    lines.push(`rm -rf ${shq(l.stateDir)}`, `rm -f ${shq(l.configFile)}`, `rmdir ${shq(posix.dirname(l.configFile))} 2>/dev/null`);
    if (l.mode === 'system') lines.push(`if command -v groupdel >/dev/null 2>&1 && getent group ${SYSTEM_GROUP} >/dev/null 2>&1; then groupdel ${SYSTEM_GROUP}; fi`);
  }
  lines.push('exit 0');
  return lines.join('\n');
}

/**
 * Stop the agent and remove it: unit, install folder, socket. `purge` also removes the state folder,
 * the config (and in system mode the fleetwake group).
 */
export async function uninstallAgent(ctx: DeployContext, opts: { purge: boolean } = { purge: false }): Promise<void> {
  const progress = new Progress(ctx);
  const remote = new Remote(ctx.conn);
  try {
    const probe = await probeHost(ctx);
    const existing = await readManifests(ctx.conn);
    const targets: { l: Layout; supervisor: Supervisor }[] = [];
    const fromManifest = (m: InstallManifest) => {
      const base = layoutFor(m.mode, probe.home);
      // The manifest is the truth about where things went.
      return { l: { ...base, installDir: m.installDir, agentPath: m.agentPath, configFile: m.configFile, stateDir: m.stateDir, socketPath: m.socketPath }, supervisor: m.supervisor };
    };
    if (existing.system) targets.push(fromManifest(existing.system));
    if (existing.user) targets.push(fromManifest(existing.user));
    if (!targets.length) {
      // No manifest (a deploy that failed half-way): clean the default places that exist.
      const r = await remote.sh(
        `for d in ${shq(layoutFor('system', probe.home).installDir)} ${shq(layoutFor('user', probe.home).installDir)}; do [ -e "$d" ] && echo "$d"; done; exit 0`,
      );
      for (const mode of ['system', 'user'] as const) {
        const l = layoutFor(mode, probe.home);
        if (r.stdout.split('\n').includes(l.installDir)) targets.push({ l, supervisor: supervisorFor(mode, probe) });
      }
    }
    if (!targets.length) {
      progress.emit('stop', 'skipped', `No agent is installed on ${ctx.hostName}`);
      return;
    }
    for (const { l, supervisor } of targets) {
      remote.setPrivilege('self');
      if (l.mode === 'system') {
        const got = await progress.step('mode', 'Getting root for the system agent', async () => {
          // A user removing its own agent leaves an administrator's system agent alone: root that needs a
          // password is not asked for just to remove theirs as well.
          const ownToo = targets.some((t) => t.l.mode === 'user');
          const g = await acquirePrivilege(ownToo ? { askSudoPassword: async () => null } : ctx, remote, probe);
          if (!('why' in g)) return { value: g, message: `Root access: ${g.how}` };
          if (ownToo) {
            return { value: null, message: `Leaving the system agent in ${l.installDir}: removing it needs root or sudo (${g.why})`, state: 'skipped' as const };
          }
          throw fail(`Removing the system agent needs root or sudo: ${g.why}.`);
        });
        if (!got) continue;
        remote.setPrivilege(got.priv, got.password);
      }
      await takeLock(remote, l, progress);
      await progress.step('stop', 'Stopping the agent', async () => {
        if (supervisor !== 'detached') {
          await remote.priv(`${systemctl(l)} disable --now ${UNIT_NAME} 2>&1`, 60_000);
        }
        const out = await stopAgent(remote, l, 'detached');
        return { value: undefined, message: out === 'stopped: none' ? 'The agent was not running' : `Stopped (pid${out.replace(/^stopped:/, '')})` };
      });
      await progress.step('remove', `Removing ${l.installDir}${opts.purge ? ', state and config' : ''}`, async () => {
        if (supervisor !== 'detached' || l.mode === 'system') {
          await remote.priv(
            `if [ -e ${shq(l.unitPath)} ]; then rm -f ${shq(l.unitPath)}; ${systemctl(l)} daemon-reload 2>/dev/null; fi; exit 0`,
            60_000,
          );
        }
        await remote.privOk(purgeScript(l, opts.purge), `remove ${l.installDir}`, 60_000);
        return {
          value: undefined,
          message: opts.purge ? `Removed the agent, its state and config (${l.mode} mode)` : `Removed the agent (${l.mode} mode); kept ${l.stateDir} and ${l.configFile}`,
        };
      });
    }
  } finally {
    await remote.close();
  }
}
