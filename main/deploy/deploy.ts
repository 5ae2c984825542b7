/**
 * Deploy, upgrade and uninstall the agent on one server, over the host's shared SSH connection
 * (ARCHITECTURE.md, "The agent on a server"). Every remote command is a fixed sh script; the values in
 * it (paths, user and version strings) are quoted with shq(). A sudo password goes only to sudo's stdin.
 */
import { posix } from 'node:path';
import { renderDefaultConfig } from '../../remote-agent/config/index.js';
import type { AgentInfo, AgentMode } from '../../remote-agent/protocol.js';
import { FleetError } from '../core/errors.js';
import { isAgentRunning, queryInfo, startAgent, verifyAgent } from '../remote/agent-process.js';
import { ChecksumMismatchError } from '../remote/checksum.js';
import { outputTail, Remote, type RemoteConn } from '../remote/host.js';
import { installSupport, remoteState, restoreRuntime, rollback, uploadRuntime } from '../remote/install.js';
import { readInstallManifests, type InstalledManifests, type InstallManifest } from '../remote/manifest.js';
import { SYSTEM_GROUP, type Layout } from '../remote/layout.js';
import { takeLock, type HeldLock } from '../remote/lock.js';
import { DEFAULT_NODE_CANDIDATES, parseProbeOutput, probeScript, type HostProbe } from '../remote/probe.js';
import { checkNodeTrust } from '../remote/node-trust.js';
import { errMessage, fail, formatBytes, Progress, type ProgressUpdate } from '../remote/progress.js';
import { MIN_NODE_VERSION, versionAtLeast } from '../remote/version.js';
import { shq, shScript } from '../remote/shell.js';
import { defaultAgentBundle } from './artifacts.js';
import { checkLocalArtifact, noPinMessage, pinnedArtifacts, type ArtifactPins } from './pins.js';
import { choosePlan, chooseRuntime } from './plan.js';

export type { InstalledManifests };

export { formatBytes, type ProgressUpdate };

export interface DeployContext {
  /** The host's shared SSH connection (a HostConnection); deploy may make it log in again (HostConnection.relogin). */
  conn: RemoteConn & { relogin(): Promise<unknown> };
  hostName: string;
  onProgress: (p: ProgressUpdate) => void;
  /** The core turns this into a 'sudo-password' prompt; null = cancelled. */
  askSudoPassword: () => Promise<string | null>;
  /** Default resources/agent/fleetwake-agent.cjs. */
  agentBundle?: string;
  /** Default resources/runtime. */
  runtimeDir?: string;
  /**
   * Absolute node paths tried besides PATH (default /usr/bin/node, /usr/local/bin/node). Tests that
   * simulate a host without node pass [] because the test machine's own /usr/bin/node cannot be removed.
   */
  nodeCandidates?: string[];
  /** How long the started agent has to answer agent.info (default 15 s). */
  verifyTimeoutMs?: number;
  /**
   * The hashes the agent bundle and runtime must have (default: the ones compiled into this build,
   * pinnedArtifacts()). Only tests and benchmarks that deploy bundles of their own set it; the app's
   * fronts never do, so a file changed after the build is never installed.
   */
  pins?: ArtifactPins;
}

export interface DeployOptions {
  mode: 'auto' | AgentMode;
}

const DEFAULT_VERIFY_MS = 15_000;

async function runProbe(conn: RemoteConn, nodeCandidates: string[]): Promise<HostProbe> {
  const r = await conn.exec(shScript(probeScript(nodeCandidates)), { timeoutMs: 30_000, stdin: '' });
  if (r.code !== 0 && !r.stdout.includes('@@end')) {
    throw fail(`The host probe failed: ${outputTail(r) || `exit code ${r.code}`}`);
  }
  return parseProbeOutput(r.stdout);
}

function describeProbe(p: HostProbe): string {
  const parts = [
    p.distro?.prettyName || p.os,
    p.machine,
    p.glibc ? `glibc ${p.glibc}` : 'no glibc',
    p.systemd ? 'systemd' : 'no systemd',
    p.uid === 0 ? 'root' : `user ${p.user}${p.sudo === 'nopasswd' ? ', passwordless sudo' : p.sudo === 'password' ? ', sudo with password' : ', no sudo'}`,
    p.node ? `node ${p.node.version}` : 'no node >= 18',
  ];
  if (p.nvidiaSmi) parts.push('nvidia-smi');
  if (p.docker) parts.push('docker');
  return parts.join(', ');
}

/** Probe a host (OS, arch, glibc, systemd, sudo, node, GPU tools, disk, /tmp). */
export async function probeHost(ctx: Pick<DeployContext, 'conn' | 'onProgress' | 'nodeCandidates'>): Promise<HostProbe> {
  return new Progress(ctx).step('probe', 'Looking at the host', async () => {
    const p = await runProbe(ctx.conn, ctx.nodeCandidates ?? DEFAULT_NODE_CANDIDATES);
    return { value: p, message: describeProbe(p) };
  });
}

/** Both install.json files (deploy's view: a damaged one counts as none). */
export async function readManifests(conn: RemoteConn): Promise<InstalledManifests> {
  return readInstallManifests(conn, { timeoutMs: 20_000 });
}

/** The manifest of the install this user's client uses (its own, else the system one; remote/manifest.ts); null when none. */
export async function readManifest(ctx: Pick<DeployContext, 'conn'>): Promise<InstallManifest | null> {
  const m = await readManifests(ctx.conn);
  return m.user ?? m.system;
}

/**
 * The error for an uploaded copy the host hashed differently from the pin (it was deleted, nothing
 * replaced); any other error as it is.
 */
function refusedOnHost(e: unknown, what: string, hostName: string, left: string): unknown {
  if (!(e instanceof ChecksumMismatchError)) return e;
  return fail(
    `Refused to install ${what} on ${hostName}: ${e.message}. The copy was deleted and ${left}. ` +
      'The file changed in transit or on the host after the upload: deploy again, and if it happens again, check the host for whatever changes it.',
  );
}

async function install(deployCtx: DeployContext, requested: 'auto' | AgentMode, operation: 'deploy' | 'upgrade'): Promise<InstallManifest> {
  const pins = deployCtx.pins ?? (await pinnedArtifacts());
  const ctx: DeployContext = { ...deployCtx, pins };
  const progress = new Progress(ctx);
  const bundle = ctx.agentBundle ?? defaultAgentBundle();
  const verifyMs = ctx.verifyTimeoutMs ?? DEFAULT_VERIFY_MS;
  // Checked before anything touches the host; what the host then receives is checked there too.
  const agentPin = pins.agent;
  try {
    if (!agentPin) throw fail(noPinMessage('the agent bundle'));
    await checkLocalArtifact(bundle, agentPin.sha256, 'The agent bundle');
  } catch (e) {
    progress.emit('probe', 'failed', errMessage(e));
    throw fail(errMessage(e));
  }
  const { version, sha256: bundleSha, size: bundleSize } = agentPin;

  const remote = new Remote(ctx.conn);
  let lock: HeldLock | undefined;
  let result: InstallManifest;
  let checkAccess: (() => Promise<void>) | undefined;
  try {
    const probe = await probeHost(ctx);
    if (probe.os !== 'Linux') throw fail(`Fleetwake's agent runs on Linux; this host is ${probe.os || 'unknown'}.`);
    if (!probe.home.startsWith('/')) throw fail(`The host reports no home folder for ${probe.user} ($HOME is "${probe.home}").`);
    const existing = await readManifests(ctx.conn);
    if (operation === 'upgrade' && !existing.system && !existing.user) {
      throw new FleetError('not-found', `No agent is installed on ${ctx.hostName}; deploy it first.`);
    }
    const plan = await choosePlan(ctx, remote, probe, requested, existing, progress);
    const l = plan.layout;
    const old = plan.mode === 'system' ? existing.system : existing.user;
    lock = await takeLock(remote, l, progress);

    const before = await remoteState(remote, l);
    const sameAgent = before.agentSha === bundleSha;
    if (old && old.version === version && sameAgent) {
      progress.emit('check', 'done', `Already installed, version ${version}`);
    } else if (old) {
      progress.emit('check', 'done', `Installed: version ${old.version}; installing ${version}`);
    }

    // Runtime
    const runtime = await progress.step('runtime', 'Choosing the Node runtime', async () => {
      const candidates = probe.nodes.filter((n) => versionAtLeast(n.version, MIN_NODE_VERSION)).map((n) => n.path);
      const trust = l.mode === 'system' ? await checkNodeTrust(remote, candidates) : [];
      const choice = chooseRuntime(ctx, probe, l, trust);
      const notRoot = choice.refused ? ` Not run as root: ${choice.refused}.` : '';
      if (!choice.artifact) {
        const used = probe.nodes.find((n) => n.path === choice.nodePath || trust.some((t) => t.path === n.path && t.resolved === choice.nodePath));
        const owned = l.mode === 'system' ? ', root-owned' : '';
        return { value: { ...choice, kept: false }, message: `Host has node ${used?.version ?? ''} — using it (${choice.nodePath}${owned}).${notRoot}` };
      }
      const art = choice.artifact;
      if (before.runtimeSha === art.sha256) {
        return { value: { ...choice, kept: false }, message: `Node ${art.version} runtime already on the host (sha256 checked).${notRoot}`, state: 'skipped' as const };
      }
      await checkLocalArtifact(art.gzPath, art.gzSha256, `The Node runtime for linux-${art.arch}`);
      const why = choice.refused ? 'Host has no node >= 18 that only root can change' : 'Host has no node >= 18';
      progress.emit('runtime', 'running', `${why} — uploading Node ${art.version} for ${art.arch} (${formatBytes(art.gzSize)})`);
      const kept = await uploadRuntime(remote, l, art, true).catch((e: unknown) => {
        throw refusedOnHost(e, `the Node runtime ${art.version}`, ctx.hostName, `${l.runtimeNode} was left as it was`);
      });
      return { value: { ...choice, kept }, message: `Uploaded Node ${art.version} to ${choice.nodePath}; sha256 matches the pinned one (checked on the host).${notRoot}` };
    });

    if (plan.mode === 'system' && probe.uid !== 0) checkAccess = () => checkUserReachesAgent(ctx, probe.user, l, runtime.nodePath, progress);

    // Agent file
    let agentKept: boolean;
    try {
      agentKept = await progress.step('upload', sameAgent ? 'Checking the agent file' : `Uploading agent (${formatBytes(bundleSize)})`, async () => {
        if (sameAgent) return { value: false, message: `Agent ${version} already in place`, state: 'skipped' as const };
        const kept = await remote.place({ file: bundle }, l.agentPath, 0o755, true, bundleSha).catch((e: unknown) => {
          throw refusedOnHost(e, `the agent ${version}`, ctx.hostName, old ? `the installed agent ${old.version} was left as it was` : 'no agent was installed');
        });
        return { value: kept, message: `Uploaded agent ${version} (${formatBytes(bundleSize)}) to ${l.agentPath}; sha256 matches the pinned one (checked on the host)` };
      });
    } catch (e) {
      // The running agent was never stopped; a runtime this run replaced goes back under it.
      if (runtime.kept) await restoreRuntime(remote, l, progress);
      throw e;
    }

    // Config: written only when there is none; an admin's file is never overwritten.
    await progress.step('config', 'Checking the agent config', async () => {
      if (before.configExists) return { value: undefined, message: `Keeping the existing ${l.configFile}`, state: 'skipped' as const };
      await remote.privOk(`mkdir -p ${shq(posix.dirname(l.configFile))}`, `create ${posix.dirname(l.configFile)}`);
      await remote.place({ data: renderDefaultConfig() }, l.configFile, l.mode === 'system' ? 0o644 : 0o600);
      return { value: undefined, message: `Wrote the default config ${l.configFile}` };
    });

    await progress.step('install', 'Setting up folders and supervisor', async () => ({
      value: undefined,
      message: await installSupport(remote, l, probe, runtime.nodePath, plan.supervisor),
    }));

    // Restart when anything the running agent uses changed.
    const changed = !sameAgent || runtime.kept || (old !== null && (old.nodePath !== runtime.nodePath || old.supervisor !== plan.supervisor));
    // Start (or restart), then verify; when this run replaced a previous agent and anything fails,
    // put the previous one back.
    let info: AgentInfo;
    try {
      await progress.step('start', 'Starting the agent', async () => {
        const running = await isAgentRunning(remote, l, runtime.nodePath);
        if (running && !changed) return { value: undefined, message: 'Agent already running', state: 'skipped' as const };
        const msg = await startAgent(remote, l, runtime.nodePath, plan.supervisor, running);
        return { value: undefined, message: running ? `Restarted: ${msg}` : msg };
      });
      info = await progress.step('verify', `Checking that the agent answers (up to ${Math.round(verifyMs / 1000)} s)`, async () => {
        const i = await verifyAgent(remote, l, runtime.nodePath, version, verifyMs);
        return { value: i, message: `Agent ${i.version} answers (pid ${i.pid}, protocol ${i.protocolVersion}, ${i.mode} mode)` };
      });
    } catch (e) {
      const why = errMessage(e);
      if (old && (agentKept || runtime.kept)) {
        const untrusted = l.mode === 'system' ? await rootMustNotRun(remote, l, old.nodePath) : null;
        if (untrusted) {
          progress.emit('rollback', 'failed', `Not rolling back to ${old.version}: ${untrusted}`);
          throw fail(
            `The agent ${version} did not come up on ${ctx.hostName}: ${why}. It was not rolled back to ${old.version}: that install ran ${untrusted}, and root must not run it. ` +
              'Deploy again: Fleetwake then runs the agent on a root-owned node or on the Node runtime it uploads.',
          );
        }
        await rollback(remote, l, plan.supervisor, old, { agent: agentKept, runtime: runtime.kept }, verifyMs, progress, why);
      }
      throw fail(`The agent ${version} did not come up on ${ctx.hostName}: ${why}`);
    }

    // install.json last: it is what says "installed".
    const manifest: InstallManifest = {
      version: info.version,
      protocolVersion: info.protocolVersion,
      mode: plan.mode,
      installDir: l.installDir,
      agentPath: l.agentPath,
      nodePath: runtime.nodePath,
      uploadedRuntime: runtime.uploaded,
      socketPath: l.socketPath,
      configFile: l.configFile,
      stateDir: l.stateDir,
      supervisor: plan.supervisor,
      installedAt: new Date().toISOString(),
    };
    const unchanged = old && JSON.stringify({ ...old, installedAt: '' }) === JSON.stringify({ ...manifest, installedAt: '' });
    if (unchanged) {
      result = old;
    } else {
      await progress.step('manifest', 'Writing install.json', async () => {
        await remote.place({ data: `${JSON.stringify(manifest, null, 2)}\n` }, l.manifestPath, 0o644);
        return { value: undefined, message: `Installed agent ${manifest.version} (${plan.mode} mode) — ${l.manifestPath}` };
      });
      result = manifest;
    }
  } finally {
    await lock?.release();
    await remote.close();
  }
  // After the SFTP session is closed: a fresh login replaces the session it ran on.
  await checkAccess?.();
  return result;
}

/**
 * A system install by a user who is not root ends with that user's own access, which is what the app
 * uses afterwards: the socket is only for group fleetwake, which the user just joined, and sshd fixed
 * the groups of the running session at login. So the connection logs in again when its session lacks
 * the group, and the agent must then answer the SSH user itself (deploy's verify ran as root).
 */
async function checkUserReachesAgent(ctx: DeployContext, user: string, l: Layout, nodePath: string, progress: Progress): Promise<void> {
  await progress.step('access', `Checking that ${user} reaches the agent`, async () => {
    const groups = await ctx.conn.exec('id -Gn', { timeoutMs: 20_000, stdin: '' });
    const stale = !groups.stdout.trim().split(/\s+/).includes(SYSTEM_GROUP);
    if (stale) await ctx.conn.relogin();
    const { info, output } = await queryInfo(new Remote(ctx.conn), l, nodePath);
    if (!info) {
      throw fail(`The agent runs, but ${user} cannot reach its socket ${l.socketPath}${stale ? ' even after logging in again' : ''}: ${output || 'no answer'}`);
    }
    return {
      value: undefined,
      message: `${user} reaches the agent${stale ? ` (logged in again: the ${SYSTEM_GROUP} group applies to new logins)` : ''}`,
    };
  });
}

/** Install (or repair) the agent. Running it again is harmless: it reports "already installed" and makes sure it runs. */
export function deployAgent(ctx: DeployContext, opts: DeployOptions = { mode: 'auto' }): Promise<InstallManifest> {
  return install(ctx, opts.mode, 'deploy');
}

/** Replace the installed agent with the bundled one (in its mode); rolls back when the new one does not come up. */
export function upgradeAgent(ctx: DeployContext): Promise<InstallManifest> {
  return install(ctx, 'auto', 'upgrade');
}

/**
 * Why root must not run `nodePath` again (a rollback restarts the previous install on its node, and an
 * install recorded by an older Fleetwake may name a node the SSH user can replace), or null when it may.
 * The runtime Fleetwake uploaded lives in the install folder and is root's.
 */
async function rootMustNotRun(remote: Remote, l: Layout, nodePath: string): Promise<string | null> {
  if (nodePath === l.runtimeNode) return null;
  const [t] = await checkNodeTrust(remote, [nodePath]);
  if (!t) return `${nodePath}, which could not be checked`;
  if (t.problem) return `${nodePath} (${t.problem})`;
  return t.resolved === nodePath ? null : `${nodePath}, a link to ${t.resolved ?? 'nothing'}`;
}
