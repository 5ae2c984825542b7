/**
 * Deploy, upgrade and uninstall the agent on one server, over the host's shared SSH connection
 * (ARCHITECTURE.md, "The agent on a server"). Every remote command is a fixed sh script; the values in
 * it (paths, user and version strings) are quoted with shq(). A sudo password goes only to sudo's stdin.
 */
import { randomBytes } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { posix } from 'node:path';
import { statSync } from 'node:fs';
import type { DeployProgress } from '../../preload/api.js';
import { renderDefaultConfig } from '../../remote-agent/config/index.js';
import { PROTOCOL_VERSION, type AgentInfo, type AgentMode } from '../../remote-agent/protocol.js';
import { readInstallManifests, type InstalledManifests, type InstallManifest } from '../remote/manifest.js';
import { FleetError } from '../core/errors.js';
import {
  bundledAgentVersion,
  defaultAgentBundle,
  defaultRuntimeDir,
  runtimeArtifact,
  sha256OfFile,
  type RuntimeArtifact,
} from './artifacts.js';
import { agentCommand, agentEnv, layoutFor, renderUnit, renderWrapper, SYSTEM_GROUP, UNIT_NAME, type Layout, type Supervisor } from '../remote/layout.js';
import { DEFAULT_NODE_CANDIDATES, freeBytesFor, parseProbeOutput, probeScript, type HostProbe } from '../remote/probe.js';
import { outputTail, Remote, RemoteCommandError, type Privilege, type RemoteConn } from '../remote/host.js';
import { shq, shScript } from '../remote/shell.js';
import { MIN_GLIBC_FOR_RUNTIME, versionAtLeast } from '../remote/version.js';

export type { InstalledManifests };

export type ProgressUpdate = Omit<DeployProgress, 'name' | 'operation' | 'at'>;

export interface DeployContext {
  /** The host's shared SSH connection (a HostConnection). */
  conn: RemoteConn;
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
}

export interface DeployOptions {
  mode: 'auto' | AgentMode;
}

const LOCK_STALE_SECONDS = 600;
const DEFAULT_VERIFY_MS = 15_000;

// ---------------------------------------------------------------------------------------------------
// Progress

type StepState = ProgressUpdate['state'];

class Progress {
  constructor(private readonly ctx: Pick<DeployContext, 'onProgress'>) {}
  emit(step: string, state: StepState, message: string): void {
    try {
      this.ctx.onProgress({ step, state, message });
    } catch {
      /* a listener's bug must not break a deploy half-way */
    }
  }
  /** Report `running`, then `done` (or the state fn returns) / `failed` with the error's message. */
  async step<T>(step: string, running: string, fn: () => Promise<{ value: T; message: string; state?: StepState }>): Promise<T> {
    this.emit(step, 'running', running);
    try {
      const r = await fn();
      this.emit(step, r.state ?? 'done', r.message);
      return r.value;
    } catch (e) {
      this.emit(step, 'failed', errMessage(e));
      throw e;
    }
  }
}

function errMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

const fail = (message: string) => new FleetError('failed', message);

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

// ---------------------------------------------------------------------------------------------------
// Probe and manifests

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

async function readManifests(conn: RemoteConn): Promise<InstalledManifests> {
  return readInstallManifests(conn, { timeoutMs: 20_000 });
}

/** The installed agent's manifest: the system install's, else the user install's; null when none. */
export async function readManifest(ctx: Pick<DeployContext, 'conn'>): Promise<InstallManifest | null> {
  const m = await readManifests(ctx.conn);
  return m.system ?? m.user;
}

// ---------------------------------------------------------------------------------------------------
// Privilege

/**
 * Get root for system mode: root login, `sudo -n`, or `sudo -S` with a password the user types.
 * Returns null when system mode is not possible (with why), for auto mode to fall back to user mode.
 */
async function acquirePrivilege(
  ctx: DeployContext,
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

// ---------------------------------------------------------------------------------------------------
// Lock

interface HeldLock {
  release(): Promise<void>;
}

async function takeLock(remote: Remote, l: Layout, progress: Progress): Promise<HeldLock> {
  const token = randomBytes(8).toString('hex');
  const who = `${safeUser()}@${hostname()} pid ${process.pid}`.replace(/[\n\r]/g, ' ');
  const d = shq(l.lockDir);
  // mkdir is atomic: exactly one of several racing deploys creates the dir. The owner file says when
  // and who; a lock older than LOCK_STALE_SECONDS is left over from a crashed deploy and taken over.
  const script = `
now=$(date +%s)
mkdir -p ${shq(l.installDir)} || exit 2
take() { mkdir ${d} 2>/dev/null && printf '%s\\n%s\\n%s\\n' "$now" ${shq(who)} ${shq(token)} > ${d}/owner && echo ACQUIRED; }
take && exit 0
t=; by=
if [ -r ${d}/owner ]; then { read -r t; read -r by; } < ${d}/owner; fi
case "$t" in ''|*[!0-9]*) t=$(date -r ${d} +%s 2>/dev/null || echo "$now");; esac
if [ $((now - t)) -gt ${LOCK_STALE_SECONDS} ]; then rm -rf ${d}; take && { echo "STALE $t $by"; exit 0; }; fi
printf 'HELD %s %s\\n' "$t" "$by"
`;
  return progress.step('lock', 'Taking the deploy lock', async () => {
    const r = await remote.privOk(script, `take the deploy lock in ${l.installDir}`);
    const out = r.stdout.trim();
    if (!out.includes('ACQUIRED')) {
      const m = /HELD (\d+) ?(.*)$/m.exec(out);
      const since = m ? new Date(Number(m[1]) * 1000).toISOString() : 'an unknown time';
      throw new FleetError(
        'conflict',
        `another deploy is running since ${since}${m?.[2] ? ` (${m[2]})` : ''} on this host. Wait for it to finish; a lock older than ${LOCK_STALE_SECONDS / 60} min is taken over.`,
      );
    }
    const stale = /STALE (\d+)/.exec(out);
    const release = async () => {
      // Only our own lock: after a takeover the dir may belong to someone else.
      await remote
        .priv(`tok=; if [ -r ${d}/owner ]; then { read -r _; read -r _; read -r tok; } < ${d}/owner; fi; [ "$tok" = ${shq(token)} ] && rm -rf ${d}; exit 0`)
        .catch(() => undefined);
    };
    return {
      value: { release },
      message: stale ? `Took over a stale lock from ${new Date(Number(stale[1]) * 1000).toISOString()}` : `Locked ${l.lockDir}`,
    };
  });
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

// ---------------------------------------------------------------------------------------------------
// Remote state of an install

interface RemoteState {
  agentSha: string | null;
  runtimeSha: string | null;
  configExists: boolean;
  unitExists: boolean;
}

async function remoteState(remote: Remote, l: Layout): Promise<RemoteState> {
  const sum = (p: string) => `if [ -f ${shq(p)} ]; then set -- $(sha256sum ${shq(p)}); echo "$1"; else echo -; fi`;
  const r = await remote.privOk(
    [
      `echo "agent $(${sum(l.agentPath)})"`,
      `echo "runtime $(${sum(l.runtimeNode)})"`,
      `if [ -e ${shq(l.configFile)} ]; then echo config yes; else echo config no; fi`,
      `if [ -e ${shq(l.unitPath)} ]; then echo unit yes; else echo unit no; fi`,
    ].join('\n'),
    'read the installed files',
  );
  const get = (k: string) => new RegExp(`^${k} (\\S+)$`, 'm').exec(r.stdout)?.[1] ?? '-';
  const hex = (v: string) => (/^[0-9a-f]{64}$/.test(v) ? v : null);
  return { agentSha: hex(get('agent')), runtimeSha: hex(get('runtime')), configExists: get('config') === 'yes', unitExists: get('unit') === 'yes' };
}

// ---------------------------------------------------------------------------------------------------
// Running the agent

const NL_SETUP = `NL=$(printf '\\n_'); NL=\${NL%_}`;

/**
 * Stop every daemon running this install's agent file: processes whose argv has exactly the agent path
 * and `run` (the daemon is `node <agent> run --foreground ...`). Found through /proc, so a stale pid
 * file or a hung daemon that no longer answers RPC is handled too; nothing is matched by name.
 */
export function stopScript(agentPath: string): string {
  return `${NL_SETUP}
agent=${shq(agentPath)}
me=$$
pids=
for d in /proc/[0-9]*; do
  p=\${d#/proc/}
  [ "$p" = "$me" ] && continue
  c=$(tr '\\000' '\\n' < "$d/cmdline" 2>/dev/null) || continue
  case "$NL$c$NL" in *"$NL$agent$NL"*) ;; *) continue;; esac
  case "$NL$c$NL" in *"\${NL}run$NL"*) pids="$pids $p";; esac
done
[ -z "$pids" ] && { echo "stopped: none"; exit 0; }
for p in $pids; do kill "$p" 2>/dev/null; done
i=0
while [ $i -lt 50 ]; do
  alive=
  for p in $pids; do
    if [ -r /proc/$p/stat ]; then read -r l < /proc/$p/stat; r=\${l##*) }; case "$r" in Z*|X*) ;; *) alive="$alive $p";; esac; fi
  done
  [ -z "$alive" ] && break
  sleep 0.1; i=$((i+1))
done
for p in $alive; do kill -9 "$p" 2>/dev/null; done
echo "stopped:$pids"
`;
}

/** The agent of install `l` run by `nodePath`, with the install's env (through env(1): it follows `$T`). */
function run(l: Layout, nodePath: string, args: string[]): string {
  return agentCommand({ nodePath, agentPath: l.agentPath }, args, { env: agentEnv(l), viaEnv: true });
}

function systemctl(l: Layout): string {
  return l.mode === 'system' ? 'systemctl' : 'systemctl --user';
}

async function stopAgent(remote: Remote, l: Layout, supervisor: Supervisor): Promise<string> {
  if (supervisor !== 'detached') {
    await remote.priv(`${systemctl(l)} stop ${UNIT_NAME} 2>&1`, 60_000);
  }
  const r = await remote.privOk(stopScript(l.agentPath), 'stop the agent', 30_000);
  return r.stdout.trim();
}

async function startAgent(remote: Remote, l: Layout, nodePath: string, supervisor: Supervisor, restart: boolean): Promise<string> {
  const socketDir = posix.dirname(l.socketPath);
  const dirs =
    l.mode === 'system'
      ? `install -d -m 0750 -o root -g ${SYSTEM_GROUP} ${shq(socketDir)} && install -d -m 0750 ${shq(l.stateDir)}`
      : `mkdir -p ${shq(socketDir)} ${shq(l.stateDir)} && chmod 0700 ${shq(socketDir)} ${shq(l.stateDir)}`;
  if (supervisor !== 'detached') {
    const sc = systemctl(l);
    const r = await remote.priv(
      `${dirs} || exit 1\n${sc} daemon-reload && ${sc} enable ${UNIT_NAME} && ${sc} ${restart ? 'restart' : 'start'} ${UNIT_NAME} 2>&1 || { rc=$?; ${sc} status --no-pager -n 20 ${UNIT_NAME} 2>&1; exit $rc; }`,
      90_000,
    );
    if (r.code !== 0) throw fail(`systemd could not start the agent: ${outputTail(r)}`);
    return `Started by ${l.mode === 'system' ? 'systemd' : 'systemd --user'} (${UNIT_NAME})`;
  }
  if (restart) await stopAgent(remote, l, supervisor);
  const r = await remote.priv(
    `${dirs} || exit 1
${run(l, nodePath, ['run', '--mode', l.mode, '--detach'])} > ${shq(l.startLog)} 2>&1 < /dev/null
rc=$?
cat ${shq(l.startLog)}
exit $rc`,
    40_000,
  );
  // 4 = another agent already serves the socket: running is what we want.
  if (r.code !== 0 && r.code !== 4) throw fail(`The agent did not start: ${outputTail(r)}`);
  return r.code === 4 ? 'Agent was already running' : `Started detached: ${r.stdout.trim().split('\n').pop() ?? ''}`;
}

async function isRunning(remote: Remote, l: Layout, nodePath: string): Promise<boolean> {
  const r = await remote.priv(`${run(l, nodePath, ['status'])} >/dev/null 2>&1`, 20_000);
  return r.code === 0;
}

const INFO_REQUEST = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'agent.info', params: {} });

/** One attempt: `status`, then agent.info through the `rpc` stdio bridge. */
async function queryInfo(remote: Remote, l: Layout, nodePath: string): Promise<{ info: AgentInfo | null; output: string }> {
  const r = await remote.priv(
    `if command -v timeout >/dev/null 2>&1; then T='timeout 10'; else T=; fi
${run(l, nodePath, ['status'])} 2>&1; echo "@@status $?"
printf '%s\\n' ${shq(INFO_REQUEST)} | $T ${run(l, nodePath, ['rpc'])} 2>&1; echo "@@rpc $?"`,
    25_000,
  );
  for (const line of r.stdout.split('\n')) {
    const t = line.trim();
    if (!t.startsWith('{')) continue;
    try {
      const msg = JSON.parse(t) as { id?: unknown; result?: AgentInfo };
      if (msg.id === 1 && msg.result && typeof msg.result.version === 'string') return { info: msg.result, output: r.stdout };
    } catch {
      /* not the response line */
    }
  }
  return { info: null, output: `${r.stdout}${r.stderr}`.trim() };
}

async function logTails(remote: Remote, l: Layout): Promise<string> {
  const r = await remote.priv(
    `for f in ${shq(l.startLog)} ${shq(posix.join(l.stateDir, 'agent.log'))}; do if [ -s "$f" ]; then echo "--- $f"; tail -n 15 "$f"; fi; done`,
    20_000,
  );
  return r.stdout.trim();
}

class VerifyError extends Error {}

/** Wait (bounded) until the agent answers agent.info with the expected version and protocol. */
async function verifyAgent(remote: Remote, l: Layout, nodePath: string, expectedVersion: string, timeoutMs: number): Promise<AgentInfo> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const { info, output } = await queryInfo(remote, l, nodePath);
    if (info) {
      if (info.protocolVersion !== PROTOCOL_VERSION) {
        throw new VerifyError(`the agent speaks protocol ${info.protocolVersion}, this app ${PROTOCOL_VERSION}`);
      }
      if (info.version === expectedVersion) return info;
      last = `the agent answers as version ${info.version}, expected ${expectedVersion}`;
    } else {
      last = output.replace(/@@(status|rpc) /g, '$1 exit ');
    }
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, 400));
  }
  const logs = await logTails(remote, l).catch(() => '');
  throw new VerifyError(`no good answer to agent.info within ${Math.round(timeoutMs / 1000)} s: ${last}${logs ? `\n${logs}` : ''}`);
}

// ---------------------------------------------------------------------------------------------------
// Install

interface Plan {
  mode: AgentMode;
  layout: Layout;
  supervisor: Supervisor;
}

function supervisorFor(mode: AgentMode, probe: HostProbe): Supervisor {
  if (mode === 'system') return probe.systemd ? 'systemd-system' : 'detached';
  return probe.userSystemd ? 'systemd-user' : 'detached';
}

async function choosePlan(
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
    // auto keeps an existing install's mode, so a redeploy never leaves two agents behind.
    const want: AgentMode = requested !== 'auto' ? requested : existing.system ? 'system' : existing.user ? 'user' : 'system';
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

interface RuntimeChoice {
  nodePath: string;
  uploaded: boolean;
  /** The artifact to upload, when the host's node will not do. */
  artifact: RuntimeArtifact | null;
}

function chooseRuntime(ctx: DeployContext, probe: HostProbe, l: Layout): RuntimeChoice {
  if (probe.node) return { nodePath: probe.node.path, uploaded: false, artifact: null };
  const found = probe.nodes.length ? ` (found ${probe.nodes.map((n) => `${n.path} ${n.version ?? '?'}`).join(', ')})` : '';
  if (!probe.runtimeArch) {
    throw fail(
      `The host has no node >= 18${found}, and Fleetwake ships Node only for Linux x86_64 and aarch64; this host is ${probe.os} ${probe.machine}. Install Node 18 or newer on it and deploy again.`,
    );
  }
  if (!probe.glibc || !versionAtLeast(probe.glibc, MIN_GLIBC_FOR_RUNTIME)) {
    throw fail(
      `The host has no node >= 18${found}, and the Node runtime Fleetwake ships needs glibc ${MIN_GLIBC_FOR_RUNTIME} or newer; this host has ${probe.glibc ? `glibc ${probe.glibc}` : 'no glibc (musl?)'}. Install Node 18 or newer on it and deploy again.`,
    );
  }
  const art = runtimeArtifact(ctx.runtimeDir ?? defaultRuntimeDir(), probe.runtimeArch);
  if (typeof art === 'string') throw fail(art);
  const free = freeBytesFor(probe, l.installDir);
  const need = art.size + art.gzSize + 16 * 1024 * 1024;
  if (free !== null && free < need) {
    throw fail(`Not enough disk space for the Node runtime in ${l.installDir}: ${formatBytes(free)} free, ${formatBytes(need)} needed.`);
  }
  return { nodePath: l.runtimeNode, uploaded: true, artifact: art };
}

async function uploadRuntime(remote: Remote, l: Layout, art: RuntimeArtifact, keepPrev: boolean): Promise<boolean> {
  const rdir = l.runtimeDir;
  await remote.privOk(`mkdir -p ${shq(rdir)} && chmod 0755 ${shq(rdir)}`, `create ${rdir}`);
  // The .gz goes where the SSH user can write: next to the target, or the staging dir under sudo.
  const gzRemote = remote.needsStaging
    ? posix.join(await remote.stagingDir(), 'node.gz')
    : posix.join(rdir, `.node.gz.tmp-${randomBytes(4).toString('hex')}`);
  await remote.putFile(art.gzPath, gzRemote);
  const tmp = posix.join(rdir, `.node.tmp-${randomBytes(4).toString('hex')}`);
  const node = shq(l.runtimeNode);
  // Unpacked on the host (no download there), checked against the sha256 the app ships, then renamed
  // into place; the old runtime stays as node.prev for a rollback.
  const r = await remote.priv(
    `gz=${shq(gzRemote)}; tmp=${shq(tmp)}
cleanup() { rm -f "$gz" "$tmp"; }
gzip -dc "$gz" > "$tmp" || { echo "gzip -dc failed" >&2; cleanup; exit 1; }
set -- $(sha256sum "$tmp"); sum=$1
if [ "$sum" != ${shq(art.sha256)} ]; then echo "sha256 mismatch: the host computed $sum, expected ${art.sha256}" >&2; cleanup; exit 3; fi
chmod 0755 "$tmp" || { cleanup; exit 1; }
v=$("$tmp" -v 2>&1) || { echo "the runtime does not run on this host: $v" >&2; cleanup; exit 4; }
${keepPrev ? `if [ -f ${node} ]; then ln -f ${node} ${shq(`${l.runtimeNode}.prev`)} && echo KEPT; fi` : ':'}
mv -f "$tmp" ${node} || { cleanup; exit 1; }
rm -f "$gz"
echo "ok $v"`,
    180_000,
  );
  if (r.code !== 0) throw fail(`The Node runtime could not be installed: ${outputTail(r)}`);
  return r.stdout.includes('KEPT');
}

async function installSupport(remote: Remote, l: Layout, probe: HostProbe, nodePath: string, supervisor: Supervisor): Promise<string> {
  const notes: string[] = [];
  if (l.mode === 'system') {
    const addUser = probe.uid !== 0 ? `\nusermod -aG ${SYSTEM_GROUP} ${shq(probe.user)} || exit 1` : '';
    await remote.privOk(
      `groupadd -f ${SYSTEM_GROUP} || exit 1${addUser}\ninstall -d -m 0750 ${shq(l.stateDir)} && install -d -m 0755 ${shq(posix.dirname(l.wrapper))}`,
      `create the ${SYSTEM_GROUP} group and folders`,
    );
    notes.push(`group ${SYSTEM_GROUP}${probe.uid !== 0 ? ` (with ${probe.user}; takes effect on the next login)` : ''}`);
  } else {
    await remote.privOk(
      `mkdir -p ${shq(l.stateDir)} ${shq(posix.dirname(l.wrapper))} && chmod 0700 ${shq(l.stateDir)}`,
      'create the agent folders',
    );
  }
  await remote.place({ data: renderWrapper(l, nodePath) }, l.wrapper, 0o755);
  notes.push(`wrapper ${l.wrapper}`);
  if (supervisor !== 'detached') {
    await remote.privOk(`mkdir -p ${shq(posix.dirname(l.unitPath))}`, 'create the unit folder');
    await remote.place({ data: renderUnit(l, nodePath) }, l.unitPath, 0o644);
    notes.push(`unit ${l.unitPath}`);
    if (supervisor === 'systemd-user') {
      // Without lingering, systemd --user (and the agent) stops when the user's last session ends.
      const r = await remote.sh('loginctl enable-linger 2>&1', 20_000);
      notes.push(r.code === 0 ? 'lingering on' : 'could not enable lingering (the agent stops at logout)');
    }
  }
  return notes.join(', ');
}

async function install(ctx: DeployContext, requested: 'auto' | AgentMode, operation: 'deploy' | 'upgrade'): Promise<InstallManifest> {
  const progress = new Progress(ctx);
  const bundle = ctx.agentBundle ?? defaultAgentBundle();
  const verifyMs = ctx.verifyTimeoutMs ?? DEFAULT_VERIFY_MS;
  let version: string;
  let bundleSha: string;
  let bundleSize: number;
  try {
    version = bundledAgentVersion(bundle);
    bundleSize = statSync(bundle).size;
    bundleSha = sha256OfFile(bundle);
  } catch (e) {
    progress.emit('probe', 'failed', errMessage(e));
    throw fail(errMessage(e));
  }

  const remote = new Remote(ctx.conn);
  let lock: HeldLock | undefined;
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
      const choice = chooseRuntime(ctx, probe, l);
      if (!choice.artifact) return { value: { ...choice, kept: false }, message: `Host has node ${probe.node!.version} — using it (${choice.nodePath})` };
      const art = choice.artifact;
      if (before.runtimeSha === art.sha256) {
        return { value: { ...choice, kept: false }, message: `Node ${art.version} runtime already on the host (sha256 checked)`, state: 'skipped' as const };
      }
      progress.emit('runtime', 'running', `Host has no node >= 18 — uploading Node ${art.version} for ${art.arch} (${formatBytes(art.gzSize)})`);
      const kept = await uploadRuntime(remote, l, art, true);
      return { value: { ...choice, kept }, message: `Uploaded Node ${art.version} to ${choice.nodePath}; sha256 matches` };
    });

    // Agent file
    const agentKept = await progress.step('upload', sameAgent ? 'Checking the agent file' : `Uploading agent (${formatBytes(bundleSize)})`, async () => {
      if (sameAgent) return { value: false, message: `Agent ${version} already in place`, state: 'skipped' as const };
      const kept = await remote.place({ file: bundle }, l.agentPath, 0o755, true);
      return { value: kept, message: `Uploaded agent ${version} (${formatBytes(bundleSize)}) to ${l.agentPath}` };
    });

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
        const running = await isRunning(remote, l, runtime.nodePath);
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
    if (unchanged) return old;
    await progress.step('manifest', 'Writing install.json', async () => {
      await remote.place({ data: `${JSON.stringify(manifest, null, 2)}\n` }, l.manifestPath, 0o644);
      return { value: undefined, message: `Installed agent ${manifest.version} (${plan.mode} mode) — ${l.manifestPath}` };
    });
    return manifest;
  } finally {
    await lock?.release();
    await remote.close();
  }
}

async function rollback(
  remote: Remote,
  l: Layout,
  supervisor: Supervisor,
  old: InstallManifest,
  replaced: { agent: boolean; runtime: boolean },
  verifyMs: number,
  progress: Progress,
  why: string,
): Promise<never> {
  progress.emit('rollback', 'running', `Rolling back to ${old.version}`);
  try {
    await stopAgent(remote, l, supervisor);
    const restore: string[] = [];
    if (replaced.agent) restore.push(`mv -f ${shq(`${l.agentPath}.prev`)} ${shq(l.agentPath)}`);
    if (replaced.runtime) restore.push(`mv -f ${shq(`${l.runtimeNode}.prev`)} ${shq(l.runtimeNode)}`);
    await remote.privOk(restore.join(' && '), 'restore the previous agent');
    if (old.supervisor !== 'detached') await remote.place({ data: renderUnit(l, old.nodePath) }, l.unitPath, 0o644);
    await remote.place({ data: renderWrapper(l, old.nodePath) }, l.wrapper, 0o755);
    await startAgent(remote, l, old.nodePath, old.supervisor, false);
    const info = await verifyAgent(remote, l, old.nodePath, old.version, verifyMs);
    progress.emit('rollback', 'done', `Rolled back: agent ${info.version} answers again`);
  } catch (e) {
    const msg = `The upgrade to the new agent failed (${why}) and the rollback to ${old.version} failed too: ${errMessage(e)}`;
    progress.emit('rollback', 'failed', msg);
    throw fail(msg);
  }
  throw fail(`The upgrade was rolled back to ${old.version}: the new agent did not come up. ${why}`);
}

/** Install (or repair) the agent. Running it again is harmless: it reports "already installed" and makes sure it runs. */
export function deployAgent(ctx: DeployContext, opts: DeployOptions = { mode: 'auto' }): Promise<InstallManifest> {
  return install(ctx, opts.mode, 'deploy');
}

/** Replace the installed agent with the bundled one (in its mode); rolls back when the new one does not come up. */
export function upgradeAgent(ctx: DeployContext): Promise<InstallManifest> {
  return install(ctx, 'auto', 'upgrade');
}

// ---------------------------------------------------------------------------------------------------
// Uninstall

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
          const g = await acquirePrivilege(ctx, remote, probe);
          if ('why' in g) throw fail(`Removing the system agent needs root or sudo: ${g.why}.`);
          return { value: g, message: `Root access: ${g.how}` };
        });
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
