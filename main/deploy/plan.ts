/** Deploy's choices for one host: mode, layout, supervisor, and which node runs the agent. */
import type { AgentMode } from '../../remote-agent/protocol.js';
import { Remote } from '../remote/host.js';
import { layoutFor, type Layout, type Supervisor } from '../remote/layout.js';
import type { InstalledManifests } from '../remote/manifest.js';
import type { NodeTrust } from '../remote/node-trust.js';
import { acquirePrivilege } from '../remote/privilege.js';
import { freeBytesFor, type HostProbe } from '../remote/probe.js';
import { fail, formatBytes, Progress } from '../remote/progress.js';
import { MIN_GLIBC_FOR_RUNTIME, MIN_NODE_VERSION, versionAtLeast } from '../remote/version.js';
import { defaultRuntimeDir, runtimeArtifact, type RuntimeArtifact } from './artifacts.js';
import type { DeployContext } from './deploy.js';

export interface Plan {
  mode: AgentMode;
  layout: Layout;
  supervisor: Supervisor;
}

export function supervisorFor(mode: AgentMode, probe: HostProbe): Supervisor {
  if (mode === 'system') return probe.systemd ? 'systemd-system' : 'detached';
  return probe.userSystemd ? 'systemd-user' : 'detached';
}

/** System or user mode (getting root for system mode), and where the install goes. */
export async function choosePlan(
  ctx: DeployContext,
  remote: Remote,
  probe: HostProbe,
  requested: 'auto' | AgentMode,
  existing: InstalledManifests,
  progress: Progress,
): Promise<Plan> {
  return progress.step('mode', 'Choosing system or user mode', async () => {
    let mode: AgentMode;
    let message: string;
    // auto redeploys the install this user's client uses (its own before an administrator's system
    // agent, remote/manifest.ts), so a redeploy never leaves two agents behind.
    const want: AgentMode = requested !== 'auto' ? requested : existing.user ? 'user' : 'system';
    if (want === 'user') {
      mode = 'user';
      message = requested === 'user' ? 'User mode (asked for)' : 'User mode (the agent is installed in user mode)';
    } else {
      const got = await acquirePrivilege(ctx, remote, probe);
      if ('why' in got) {
        if (requested === 'system') throw fail(`System mode needs root or sudo: ${got.why}.`);
        mode = 'user';
        message = `User mode: ${got.why}`;
      } else {
        remote.setPrivilege(got.priv, got.password);
        mode = 'system';
        message = `System mode (${got.how})`;
      }
    }
    const supervisor = supervisorFor(mode, probe);
    const layout = layoutFor(mode, probe.home, { xdgRuntimeDir: probe.xdgRuntimeDir, supervisor });
    return { value: { mode, layout, supervisor }, message: `${message}: ${layout.installDir}, ${supervisor === 'detached' ? 'detached daemon' : supervisor}` };
  });
}

export interface RuntimeChoice {
  nodePath: string;
  uploaded: boolean;
  /** The artifact to upload, when the host's node will not do. */
  artifact: RuntimeArtifact | null;
  /** System mode: the host nodes >= 18 that root must not run, and why ("path: reason; ..."); null when none. */
  refused: string | null;
}

/**
 * The node that runs the agent. User mode: the host's first node >= 18. System mode: the first of those
 * that `rootTrust` (checked as root, see remote/node-trust.ts) finds root-owned all the way up, by its
 * real path, so a later change of a symlink the user owns cannot swap it. Otherwise the runtime the app
 * ships (checked against arch, glibc, disk).
 */
export function chooseRuntime(ctx: DeployContext, probe: HostProbe, l: Layout, rootTrust: NodeTrust[] = []): RuntimeChoice {
  const usable = probe.nodes.filter((n) => versionAtLeast(n.version, MIN_NODE_VERSION));
  let refused: string | null = null;
  if (l.mode === 'user') {
    if (probe.node) return { nodePath: probe.node.path, uploaded: false, artifact: null, refused };
  } else {
    const reasons: string[] = [];
    for (const n of usable) {
      const t = rootTrust.find((x) => x.path === n.path);
      if (t && t.problem === null && t.resolved) return { nodePath: t.resolved, uploaded: false, artifact: null, refused: reasons.join('; ') || null };
      reasons.push(`${n.path}: ${t?.problem ?? 'not checked as root'}`);
    }
    refused = reasons.join('; ') || null;
  }
  const lacking = refused
    ? `The host has no node >= 18 that only root can change (${refused})`
    : `The host has no node >= 18${probe.nodes.length ? ` (found ${probe.nodes.map((n) => `${n.path} ${n.version ?? '?'}`).join(', ')})` : ''}`;
  if (!probe.runtimeArch) {
    throw fail(
      `${lacking}, and Fleetwake ships Node only for Linux x86_64 and aarch64; this host is ${probe.os} ${probe.machine}. Install Node 18 or newer on it${refused ? ' in root-owned folders' : ''} and deploy again.`,
    );
  }
  if (!probe.glibc || !versionAtLeast(probe.glibc, MIN_GLIBC_FOR_RUNTIME)) {
    throw fail(
      `${lacking}, and the Node runtime Fleetwake ships needs glibc ${MIN_GLIBC_FOR_RUNTIME} or newer; this host has ${probe.glibc ? `glibc ${probe.glibc}` : 'no glibc (musl?)'}. Install Node 18 or newer on it${refused ? ' in root-owned folders' : ''} and deploy again.`,
    );
  }
  const art = runtimeArtifact(ctx.runtimeDir ?? defaultRuntimeDir(), probe.runtimeArch, ctx.pins);
  if (typeof art === 'string') throw fail(art);
  const free = freeBytesFor(probe, l.installDir);
  const need = art.size + art.gzSize + 16 * 1024 * 1024;
  if (free !== null && free < need) {
    throw fail(`Not enough disk space for the Node runtime in ${l.installDir}: ${formatBytes(free)} free, ${formatBytes(need)} needed.`);
  }
  return { nodePath: l.runtimeNode, uploaded: true, artifact: art, refused };
}
