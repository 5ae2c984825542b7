/**
 * The install, upgrade and rollback steps on one install's files. Each replaced file keeps its previous
 * version beside it (`<file>.prev`, see Remote.place), so a failed upgrade can put it back (rollback).
 */
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { checksumMismatch, sha256CheckScript } from './checksum.js';
import { outputTail, type Remote } from './host.js';
import { renderUnit, renderWrapper, SYSTEM_GROUP, type Layout, type Supervisor } from './layout.js';
import type { InstallManifest } from './manifest.js';
import type { HostProbe } from './probe.js';
import { errMessage, fail, type Progress } from './progress.js';
import { shq } from './shell.js';
import { startAgent, stopAgent, verifyAgent } from './agent-process.js';

/** What an install has on the server now (sha256 of the agent and runtime, config and unit present). */
export interface RemoteState {
  agentSha: string | null;
  runtimeSha: string | null;
  configExists: boolean;
  unitExists: boolean;
}

export async function remoteState(remote: Remote, l: Layout): Promise<RemoteState> {
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

/**
 * Upload the shipped Node runtime, unpack it on the host and check it against `sha256` (the pinned
 * hash of the binary), then rename it into place; with `keepPrev` the current one stays as `node.prev`.
 * Returns true when a previous runtime was kept; ChecksumMismatchError when the unpacked copy differs.
 */
export async function uploadRuntime(remote: Remote, l: Layout, art: { gzPath: string; sha256: string }, keepPrev: boolean): Promise<boolean> {
  const rdir = l.runtimeDir;
  await remote.privOk(`mkdir -p ${shq(rdir)} && chmod 0755 ${shq(rdir)}`, `create ${rdir}`);
  // The .gz goes where the SSH user can write: next to the target, or the staging dir under sudo.
  const gzRemote = remote.needsStaging
    ? posix.join(await remote.stagingDir(), 'node.gz')
    : posix.join(rdir, `.node.gz.tmp-${randomBytes(4).toString('hex')}`);
  await remote.putFile(art.gzPath, gzRemote);
  const tmp = posix.join(rdir, `.node.tmp-${randomBytes(4).toString('hex')}`);
  const node = shq(l.runtimeNode);
  // Unpacked on the host (no download there) into a file only the install's user can write, checked
  // there against the pin before it first runs, then renamed into place; the old one stays as node.prev.
  const r = await remote.priv(
    `gz=${shq(gzRemote)}; tmp=${shq(tmp)}
cleanup() { rm -f "$gz" "$tmp"; }
gzip -dc "$gz" > "$tmp" || { echo "gzip -dc failed" >&2; cleanup; exit 1; }
${sha256CheckScript('"$tmp"', art.sha256, 'cleanup')}
chmod 0755 "$tmp" || { cleanup; exit 1; }
v=$("$tmp" -v 2>&1) || { echo "the runtime does not run on this host: $v" >&2; cleanup; exit 4; }
${keepPrev ? `if [ -f ${node} ]; then ln -f ${node} ${shq(`${l.runtimeNode}.prev`)} && echo KEPT; fi` : ':'}
mv -f "$tmp" ${node} || { cleanup; exit 1; }
rm -f "$gz"
echo "ok $v"`,
    180_000,
  );
  const mismatch = checksumMismatch(r, l.runtimeNode, art.sha256);
  if (mismatch) throw mismatch;
  if (r.code !== 0) throw fail(`The Node runtime could not be installed: ${outputTail(r)}`);
  return r.stdout.includes('KEPT');
}

/**
 * Put back the runtime (kept as `node.prev`) that this run replaced before a later step failed, while
 * the agent still runs as before. Reported as a rollback step; its own failure is reported there
 * without hiding the error that caused it.
 */
export async function restoreRuntime(remote: Remote, l: Layout, progress: Progress): Promise<void> {
  progress.emit('rollback', 'running', 'Putting the previous Node runtime back');
  try {
    await remote.privOk(`mv -f ${shq(`${l.runtimeNode}.prev`)} ${shq(l.runtimeNode)}`, 'put the previous Node runtime back');
    progress.emit('rollback', 'done', `Put the previous Node runtime back at ${l.runtimeNode}`);
  } catch (e) {
    progress.emit('rollback', 'failed', errMessage(e));
  }
}

/** Group, folders, wrapper and supervisor unit of an install; returns what was set up, in words. */
export async function installSupport(remote: Remote, l: Layout, probe: HostProbe, nodePath: string, supervisor: Supervisor): Promise<string> {
  const notes: string[] = [];
  if (l.mode === 'system') {
    const addUser = probe.uid !== 0 ? `\nusermod -aG ${SYSTEM_GROUP} ${shq(probe.user)} || exit 1` : '';
    await remote.privOk(
      `groupadd -f ${SYSTEM_GROUP} || exit 1${addUser}\ninstall -d -m 0750 ${shq(l.stateDir)} && install -d -m 0755 ${shq(posix.dirname(l.wrapper))}`,
      `create the ${SYSTEM_GROUP} group and folders`,
    );
    notes.push(`group ${SYSTEM_GROUP}${probe.uid !== 0 ? ` (with ${probe.user})` : ''}`);
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

/**
 * Put the previous version back after a failed upgrade: stop, move the kept `.prev` files over the new
 * ones, re-render unit and wrapper for the old node, start and verify. Always throws: why it rolled back,
 * or why the rollback failed too.
 */
export async function rollback(
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
