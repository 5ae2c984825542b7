import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { InstallManifest } from '../../main/remote/manifest.js';
import { openAgentClient } from '../../main/agent/client.js';
import { readManifest as readOwnManifest } from '../../main/remote/manifest.js';
import {
  bundledAgentVersion,
  deployAgent,
  pinnedArtifacts,
  readManifest,
  readManifests,
  stopScript,
  uninstallAgent,
  upgradeAgent,
  type ArtifactPins,
  type DeployContext,
  type ProgressUpdate,
  type RuntimePin,
} from '../../main/deploy/index.js';
import type { RemoteConn } from '../../main/remote/host.js';
import { shq } from '../../main/remote/shell.js';
import type { HostConnection } from '../../main/ssh/connection.js';
import { PROTOCOL_VERSION, type AgentInfo } from '../../remote-agent/protocol.js';
import { setAsideSystemAgent } from '../support/system-agent.js';
import { makeTestFleet, type TestFleet } from '../support/fleet.js';
import { generateKey, type GeneratedKey } from '../support/keys.js';
import { makeNoNodeBin } from '../support/no-node-path.js';
import { requireTools, SUDO_TESTBED_TOOLS } from '../support/require-tools.js';
import { startSshd, type SshdHandle } from '../support/sshd.js';
import { authorizeKey, ensureUser, grantPasswordlessSudo, type TestUser } from '../support/users.js';
import { waitFor } from '../support/wait-for.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');

// Real OpenSSH sshd hosts on loopback; the agent really runs (detached: no systemd here) and is torn down.
let work: string;
let bundle: string;
let bundleVersion: string;
let runtimeDir: string;
let runtimeMeta: RuntimePin;
let pins: ArtifactPins;
let userKey: GeneratedKey;
let rootKey: GeneratedKey;
let userHost: SshdHandle; // fwtdeploy, fwtdeploy2: key-only, no sudo
let rootHost: SshdHandle; // root with a key (PermitRootLogin prohibit-password)
let noNodeHost: SshdHandle; // fwtnonode, PATH without node
let sudoHost: SshdHandle; // fwtsudo: passwordless sudo, its own `node` wrapper first on PATH
let revokeSudo: (() => Promise<void>) | undefined;
/** Where fwtsudo's `node` wrapper logs each run as root (it must never have one). */
let rootRunLog: string;
let users: Record<string, TestUser>;
let rootAuthorizedBefore: string | null = null;
const fleets: TestFleet[] = [];

/** An administrator's system agent on this machine, set aside while these tests install their own. */
let restoreSystemAgent: (() => Promise<void>) | undefined;

beforeAll(async () => {
  requireTools(SUDO_TESTBED_TOOLS);
  restoreSystemAgent = setAsideSystemAgent();
  work = mkdtempSync(path.join(tmpdir(), 'fwt-deploy-'));
  chmodSync(work, 0o755);

  // The agent bundle from the current source and the shipped x64 runtime, as `npm run build` leaves
  // them in resources/ with their pins compiled into the app's code (test/support/agent-bundle.ts, once
  // per run). Deploys here check against those pins, as the app's do.
  bundle = inject('agentBundle');
  bundleVersion = bundledAgentVersion(bundle);
  runtimeDir = path.join(root, 'resources', 'runtime');
  pins = await pinnedArtifacts();
  expect(pins.agent?.version).toBe(bundleVersion);
  runtimeMeta = pins.runtimes.x64!;

  [userKey, rootKey] = await Promise.all([
    generateKey(path.join(work, 'keys'), { type: 'ed25519', name: 'deploy' }),
    generateKey(path.join(work, 'keys'), { type: 'ed25519', name: 'root', comment: 'fleetwake-deploy-test-root' }),
  ]);
  users = {};
  for (const name of ['fwtdeploy', 'fwtdeploy2', 'fwtnonode', 'fwtsudo']) {
    users[name] = await ensureUser(name);
    await authorizeKey(name, userKey.publicKey);
  }
  // Start from clean homes: an earlier, killed run may have left an install behind.
  for (const u of Object.values(users)) await cleanHome(u);

  // root: authorize the test key for this run only (removed again in afterAll).
  await mkdir('/root/.ssh', { recursive: true, mode: 0o700 });
  rootAuthorizedBefore = existsSync('/root/.ssh/authorized_keys') ? await readFile('/root/.ssh/authorized_keys', 'utf8') : null;
  await appendFile('/root/.ssh/authorized_keys', `${rootAuthorizedBefore && !rootAuthorizedBefore.endsWith('\n') ? '\n' : ''}${rootKey.publicKey}\n`, { mode: 0o600 });

  // fwtsudo: passwordless sudo, and a `node` of its own first on PATH (as nvm, conda or ~/bin put one).
  // The wrapper is the user's to replace: whatever runs it as root hands that user root.
  const sudoer = users.fwtsudo!;
  revokeSudo = await grantPasswordlessSudo('fwtsudo');
  const userBin = path.join(sudoer.home, 'bin');
  rmSync(userBin, { recursive: true, force: true });
  await mkdir(userBin, { recursive: true });
  rootRunLog = path.join(sudoer.home, 'node-ran-as-root.log');
  rmSync(rootRunLog, { force: true });
  const wrapper = path.join(userBin, 'node');
  writeFileSync(wrapper, `#!/bin/sh\nif [ "$(id -u)" = 0 ]; then echo "ran as root: $*" >> ${shq(rootRunLog)}; fi\nexec ${shq(process.execPath)} "$@"\n`, { mode: 0o755 });
  for (const p of [userBin, wrapper]) await run('chown', [`${sudoer.uid}:${sudoer.gid}`, p]);
  // A previous killed run may have left this user in the group a system deploy adds it to.
  await run('sh', ['-c', 'if getent group fleetwake >/dev/null; then gpasswd -d fwtsudo fleetwake; fi; true']);

  const noNodeBin = makeNoNodeBin();
  [userHost, rootHost, noNodeHost, sudoHost] = await Promise.all([
    startSshd({ allowUsers: ['fwtdeploy', 'fwtdeploy2'], passwordAuthentication: false }),
    // The testbed writes `PermitRootLogin no` globally and sshd keeps the first value of a keyword, so
    // root login is allowed in a Match block, which overrides it.
    startSshd({ allowUsers: ['root'], passwordAuthentication: false, extraConfig: ['Match User root', '  PermitRootLogin prohibit-password'] }),
    // sshd's SetEnv applies to every session: this host's PATH has no node.
    startSshd({ allowUsers: ['fwtnonode'], passwordAuthentication: false, extraConfig: [`SetEnv PATH=${noNodeBin}`] }),
    startSshd({ allowUsers: ['fwtsudo'], passwordAuthentication: false, extraConfig: [`SetEnv PATH=${userBin}:/usr/local/bin:/usr/bin:/bin`] }),
  ]);
}, 240_000);

afterAll(async () => {
  for (const t of fleets) await t.fleet.close().catch(() => undefined);
  // Never leave a daemon behind, whatever failed: stop every agent run from the paths this file uses.
  const agentPaths = [
    '/opt/fleetwake/fleetwake-agent.cjs',
    ...Object.values(users ?? {}).map((u) => `${u.home}/.local/share/fleetwake/fleetwake-agent.cjs`),
  ];
  for (const p of agentPaths) await run('sh', ['-c', stopScript(p)]).catch(() => undefined);
  for (const u of Object.values(users ?? {})) await cleanHome(u).catch(() => undefined);
  if (!process.env.FLEETWAKE_KEEP_TESTBED) {
    for (const p of ['/opt/fleetwake', '/etc/fleetwake', '/var/lib/fleetwake', '/run/fleetwake']) rmSync(p, { recursive: true, force: true });
  }
  // Restore root's authorized_keys exactly as it was.
  if (rootAuthorizedBefore === null) rmSync('/root/.ssh/authorized_keys', { force: true });
  else await writeFile('/root/.ssh/authorized_keys', rootAuthorizedBefore, { mode: 0o600 });
  await revokeSudo?.();
  await run('sh', ['-c', 'if getent group fleetwake >/dev/null; then gpasswd -d fwtsudo fleetwake; fi; true']).catch(() => undefined);
  await Promise.all([userHost, rootHost, noNodeHost, sudoHost].map((h) => h?.destroy()));
  if (work) rmSync(work, { recursive: true, force: true });
  await restoreSystemAgent?.();
}, 60_000);

async function cleanHome(u: TestUser): Promise<void> {
  for (const rel of ['.local/share/fleetwake', '.config/fleetwake']) rmSync(path.join(u.home, rel), { recursive: true, force: true });
}

async function connect(name: string, sshd: SshdHandle, user: string, key: GeneratedKey): Promise<HostConnection> {
  const t = makeTestFleet({ keepConnected: false });
  fleets.push(t);
  await t.fleet.addHost({ name, host: sshd.host, port: sshd.port, user, identityFile: key.privatePath });
  const conn = t.fleet.connection(name);
  await conn.ready().catch(() => undefined);
  const s = (await t.fleet.getStatuses()).find((x) => x.name === name)!;
  expect(s.state).toBe('host-key-unknown');
  await t.fleet.trustHostKey(name, s.fingerprint!);
  await conn.ready();
  return conn;
}

function context(conn: HostConnection, hostName: string, extra: Partial<DeployContext> = {}): DeployContext & { log: ProgressUpdate[] } {
  const log: ProgressUpdate[] = [];
  return {
    conn,
    hostName,
    onProgress: (p) => {
      log.push(p);
      if (process.env.FWT_DEPLOY_LOG) console.log(`[${hostName}] ${p.step} ${p.state}: ${p.message}`);
    },
    // As a user without sudo rights would: sudo is installed (the sudo tests need it), so the app asks.
    askSudoPassword: async () => null,
    agentBundle: bundle,
    runtimeDir,
    log,
    ...extra,
  };
}

/** agent.info through the exec'd `rpc` bridge, exactly as the app's fallback path does it. */
async function infoViaBridge(conn: HostConnection, m: InstallManifest): Promise<AgentInfo> {
  const req = JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'agent.info', params: {} });
  const r = await conn.exec(
    `printf '%s\\n' ${shq(req)} | env FLEETWAKE_AGENT_SOCKET=${shq(m.socketPath)} FLEETWAKE_AGENT_CONFIG=${shq(m.configFile)} FLEETWAKE_AGENT_STATE=${shq(m.stateDir)} ${shq(m.nodePath)} ${shq(m.agentPath)} rpc`,
    { timeoutMs: 15_000 },
  );
  const line = r.stdout.split('\n').find((l) => l.includes('"id":7'));
  if (!line) throw new Error(`no agent.info answer (exit ${r.code}): ${r.stdout}${r.stderr}`);
  const msg = JSON.parse(line) as { result?: AgentInfo; error?: unknown };
  if (!msg.result) throw new Error(`agent.info failed: ${line}`);
  return msg.result;
}

/** Everything under the given paths that still exists, per `find` on the host. */
async function leftovers(conn: HostConnection, paths: string[]): Promise<string> {
  const r = await conn.exec(`find ${paths.map(shq).join(' ')} 2>/dev/null; true`, { timeoutMs: 15_000 });
  return r.stdout.trim();
}

function steps(log: ProgressUpdate[]): string[] {
  return log.map((p) => `${p.step}:${p.state}`);
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** Pins for an agent bundle of a test's own (the build pins only the one it made). */
function pinsForAgent(file: string, version: string): ArtifactPins {
  const data = readFileSync(file);
  return { ...pins, agent: { version, sha256: sha256(data), size: data.length } };
}

/**
 * `conn`, except that just before the first command that names an uploaded file (`upload`'s first
 * group) runs, `tamper` changes that file on the host: a file altered after its transfer, before the
 * installer's next look at it.
 */
function tamperingConn(conn: HostConnection, upload: RegExp, tamper: (file: string) => string): { conn: RemoteConn & { relogin(): Promise<unknown> }; tampered: string[] } {
  const tampered: string[] = [];
  return {
    tampered,
    conn: {
      ready: () => conn.ready(),
      relogin: () => conn.relogin(),
      exec: async (...args: Parameters<HostConnection['exec']>) => {
        const file = tampered.length === 0 ? upload.exec(args[0])?.[1] : undefined;
        if (file) {
          const r = await conn.exec(tamper(file), { timeoutMs: 15_000 });
          if (r.code !== 0) throw new Error(`tampering with ${file} failed: ${r.stderr}`);
          tampered.push(file);
        }
        return conn.exec(...args);
      },
    },
  };
}

describe('user mode (key-only user, no sudo)', () => {
  let conn: HostConnection;
  let first: InstallManifest;
  const home = () => users.fwtdeploy!.home;

  it('deploys, the daemon answers agent.info through the rpc bridge; a second deploy is harmless', async () => {
    conn = await connect('gpu-user', userHost, 'fwtdeploy', userKey);
    const ctx = context(conn, 'gpu-user');
    first = await deployAgent(ctx, { mode: 'auto' });
    expect(first).toMatchObject({
      version: bundleVersion,
      protocolVersion: PROTOCOL_VERSION,
      mode: 'user',
      installDir: `${home()}/.local/share/fleetwake`,
      agentPath: `${home()}/.local/share/fleetwake/fleetwake-agent.cjs`,
      nodePath: '/usr/bin/node',
      uploadedRuntime: false,
      configFile: `${home()}/.config/fleetwake/agent.yaml`,
      stateDir: `${home()}/.local/share/fleetwake/state`,
      socketPath: `${home()}/.local/share/fleetwake/run/agent.sock`,
      supervisor: 'detached',
    });
    for (const s of ['probe', 'mode', 'lock', 'runtime', 'upload', 'config', 'install', 'start', 'verify', 'manifest']) {
      expect(steps(ctx.log)).toContain(`${s}:done`);
    }
    expect(ctx.log.some((p) => p.step === 'runtime' && /Host has node v\d+/.test(p.message))).toBe(true);
    expect(ctx.log.some((p) => p.step === 'upload' && /Uploading agent \(\d+ KB\)/.test(p.message))).toBe(true);
    expect(ctx.log.some((p) => p.state === 'failed')).toBe(false);
    expect(await readManifest({ conn })).toEqual(first);

    const info = await infoViaBridge(conn, first);
    expect(info.version).toBe(bundleVersion);
    expect(info.mode).toBe('user');
    // Files are the user's, the lock is gone.
    const st = await conn.exec(
      `stat -c '%U %a %n' ${shq(first.agentPath)} ${shq(first.configFile)} ${shq(`${first.installDir}/install.json`)}; ls -A ${shq(first.installDir)}`,
    );
    expect(st.stdout).toContain(`fwtdeploy 755 ${first.agentPath}`);
    expect(st.stdout).toContain(`fwtdeploy 600 ${first.configFile}`);
    expect(st.stdout).not.toContain('.deploy.lock');
    expect(st.stdout).not.toMatch(/\.tmp-/);

    // Twice: nothing re-uploaded or restarted, same daemon, manifest unchanged, admin's config kept.
    writeFileSync(path.join(home(), '.config/fleetwake/agent.yaml'), '# admin was here\nmetrics:\n  interval_seconds: 7\n');
    const ctx2 = context(conn, 'gpu-user');
    const again = await deployAgent(ctx2, { mode: 'auto' });
    expect(again).toEqual(first);
    expect(ctx2.log.some((p) => p.message === `Already installed, version ${bundleVersion}`)).toBe(true);
    expect(steps(ctx2.log)).toEqual(expect.arrayContaining(['upload:skipped', 'config:skipped', 'start:skipped', 'verify:done']));
    expect((await infoViaBridge(conn, first)).pid).toBe(info.pid);
    expect(readFileSync(path.join(home(), '.config/fleetwake/agent.yaml'), 'utf8')).toContain('admin was here');
  });

  it('a deliberately broken upgrade is rolled back and the old version answers', async () => {
    const broken = path.join(work, 'broken-agent.cjs');
    writeFileSync(
      broken,
      `#!/usr/bin/env node
if (process.argv[2] === 'version') { console.log('9.9.9+broken000000'); process.exit(0); }
console.error('broken agent: refusing to ' + process.argv[2]);
process.exit(1);
`,
    );
    // Not what the build pinned: refused before anything is uploaded.
    const unpinned = context(conn, 'gpu-user', { agentBundle: broken });
    await expect(upgradeAgent(unpinned)).rejects.toThrow(`The agent bundle ${broken} is not the file this Fleetwake build pinned`);
    expect(steps(unpinned.log)).toEqual(['probe:failed']);

    const ctx = context(conn, 'gpu-user', { agentBundle: broken, verifyTimeoutMs: 4_000, pins: pinsForAgent(broken, '9.9.9+broken000000') });
    const err = await upgradeAgent(ctx).then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(new RegExp(`rolled back to ${bundleVersion.replace(/[+.]/g, '\\$&')}`));
    expect(err?.message).toContain('broken agent: refusing to run');
    expect(steps(ctx.log)).toEqual(expect.arrayContaining(['upload:done', 'rollback:running', 'rollback:done']));
    const m = await readManifest({ conn });
    expect(m).toEqual(first);
    const info = await infoViaBridge(conn, m!);
    expect(info.version).toBe(bundleVersion);
    const sum = await conn.exec(`sha256sum ${shq(first.agentPath)}`);
    expect(sum.stdout.split(' ')[0]).toBe(readFileSync(bundle.replace(/\.cjs$/, '.sha256'), 'utf8').split(' ')[0]);
  });

  it('uninstall --purge leaves nothing behind and stops the daemon', async () => {
    const before = await infoViaBridge(conn, first);
    const ctx = context(conn, 'gpu-user');
    await uninstallAgent(ctx, { purge: true });
    expect(steps(ctx.log)).toEqual(expect.arrayContaining(['stop:done', 'remove:done']));
    expect(await leftovers(conn, [first.installDir, first.stateDir, first.configFile, path.dirname(first.configFile), first.socketPath])).toBe('');
    // Its own install is gone (a system agent an administrator installed may stay).
    expect((await readManifests(conn)).user).toBeNull();
    expect(existsSync(`/proc/${before.pid}/cmdline`) && readFileSync(`/proc/${before.pid}/cmdline`, 'utf8').includes(first.agentPath)).toBe(false);
    // And the staging/temp files of the runs: none in $HOME.
    const r = await conn.exec('ls -A "$HOME"');
    expect(r.stdout).not.toMatch(/fleetwake-deploy/);
  });
});

describe('concurrent deploys', () => {
  it('the second one fails with the lock message; a stale lock is taken over', async () => {
    const a = await connect('gpu-c1', userHost, 'fwtdeploy2', userKey);
    const b = await connect('gpu-c2', userHost, 'fwtdeploy2', userKey);
    const results = await Promise.allSettled([deployAgent(context(a, 'gpu-c1'), { mode: 'user' }), deployAgent(context(b, 'gpu-c2'), { mode: 'user' })]);
    const ok = results.filter((r) => r.status === 'fulfilled');
    const bad = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok).toHaveLength(1);
    expect(bad).toHaveLength(1);
    expect(String(bad[0]!.reason.message)).toMatch(/another deploy is running since \d{4}-\d\d-\d\dT/);
    expect(bad[0]!.reason.code).toBe('conflict');

    // A lock left by a crashed deploy 11 minutes ago does not block forever.
    const m = (ok[0] as PromiseFulfilledResult<InstallManifest>).value;
    const old = Math.floor(Date.now() / 1000) - 11 * 60;
    await a.exec(`mkdir ${shq(`${m.installDir}/.deploy.lock`)} && printf '%s\\n%s\\n%s\\n' ${old} 'crashed@laptop' 'tok' > ${shq(`${m.installDir}/.deploy.lock/owner`)}`);
    const ctx = context(a, 'gpu-c1');
    await deployAgent(ctx, { mode: 'user' });
    expect(ctx.log.some((p) => p.step === 'lock' && /Took over a stale lock/.test(p.message))).toBe(true);

    await uninstallAgent(context(a, 'gpu-c1'), { purge: true });
    expect(await leftovers(a, [m.installDir, m.configFile, path.dirname(m.configFile)])).toBe('');
  });
});

describe('system mode as root', () => {
  it('installs under /opt/fleetwake etc., detached without systemd, and uninstalls cleanly', async () => {
    const conn = await connect('gpu-root', rootHost, 'root', rootKey);
    const ctx = context(conn, 'gpu-root');
    const m = await deployAgent(ctx, { mode: 'auto' });
    expect(m).toMatchObject({
      version: bundleVersion,
      mode: 'system',
      installDir: '/opt/fleetwake',
      agentPath: '/opt/fleetwake/fleetwake-agent.cjs',
      configFile: '/etc/fleetwake/agent.yaml',
      stateDir: '/var/lib/fleetwake',
      socketPath: '/run/fleetwake/agent.sock',
      supervisor: 'detached',
      uploadedRuntime: false,
    });
    expect(ctx.log.some((p) => p.step === 'mode' && /System mode \(logged in as root\)/.test(p.message))).toBe(true);
    const info = await infoViaBridge(conn, m);
    expect(info.mode).toBe('system');
    expect(info.version).toBe(bundleVersion);
    const st = await conn.exec(`stat -c '%U:%G %a %n' /opt/fleetwake/install.json /etc/fleetwake/agent.yaml /run/fleetwake /run/fleetwake/agent.sock; getent group fleetwake`);
    expect(st.stdout).toContain('root:root 644 /opt/fleetwake/install.json');
    expect(st.stdout).toContain('root:root 644 /etc/fleetwake/agent.yaml');
    expect(st.stdout).toContain('root:fleetwake 750 /run/fleetwake\n');
    expect(st.stdout).toContain('root:fleetwake 660 /run/fleetwake/agent.sock');
    expect(st.stdout).toMatch(/^fleetwake:/m);

    // Another pinned build whose upload is changed on the host before root checks it: refused, and the
    // running agent, its file and install.json stay as they were.
    const variant = path.join(work, 'variant-agent.cjs');
    writeFileSync(variant, `${readFileSync(bundle, 'utf8')}\n// another build\n`);
    const variantPins = pinsForAgent(variant, bundleVersion);
    const t = tamperingConn(conn, /sha256sum < (\/opt\/fleetwake\/\.fleetwake-agent\.cjs\.tmp-[0-9a-f]{8})\b/, (f) => `printf '\\n;process.exit(0)\\n' >> ${shq(f)}`);
    const tctx = context(conn, 'gpu-root', { conn: t.conn, agentBundle: variant, pins: variantPins });
    const err = await upgradeAgent(tctx).then(
      () => null,
      (e: Error) => e,
    );
    expect(t.tampered).toHaveLength(1);
    expect(err?.message).toMatch(
      new RegExp(
        `^Refused to install the agent ${bundleVersion.replace(/[+.]/g, '\\$&')} on gpu-root: the copy uploaded for /opt/fleetwake/fleetwake-agent\\.cjs has sha256 [0-9a-f]{64} on the host, ` +
          `not the ${variantPins.agent!.sha256} this Fleetwake build pinned\\. The copy was deleted and the installed agent \\S+ was left as it was\\.`,
      ),
    );
    expect(steps(tctx.log)).toContain('upload:failed');
    expect(steps(tctx.log)).not.toContain('start:running');
    expect((await infoViaBridge(conn, m)).pid).toBe(info.pid);
    expect(await readManifest({ conn })).toEqual(m);
    const after = await conn.exec(`sha256sum /opt/fleetwake/fleetwake-agent.cjs; ls -A /opt/fleetwake`);
    expect(after.stdout.split(' ')[0]).toBe(pins.agent!.sha256);
    expect(after.stdout).not.toMatch(/\.tmp-|\.prev/);

    await uninstallAgent(context(conn, 'gpu-root'), { purge: true });
    expect(await leftovers(conn, ['/opt/fleetwake', '/etc/fleetwake', '/var/lib/fleetwake', '/run/fleetwake', '/etc/systemd/system/fleetwake-agent.service'])).toBe('');
    expect((await conn.exec('getent group fleetwake')).code).not.toBe(0);
  });
});

describe('a host without node', () => {
  it('uploads the shipped runtime, checks its sha256, and runs the agent on it', async () => {
    const conn = await connect('gpu-nonode', noNodeHost, 'fwtnonode', userKey);
    const which = await conn.exec('command -v node; echo "PATH=$PATH"');
    expect(which.stdout).not.toMatch(/\/node$/m);
    // The probe also tries /usr/bin/node and /usr/local/bin/node by absolute path; here /usr/bin/node is
    // the test runner's own node and cannot be removed, so this test turns the absolute candidates off.
    const home = users.fwtnonode!.home;
    const installDir = `${home}/.local/share/fleetwake`;

    // A runtime swapped in resources/ together with the .json that vouches for it (all the check used
    // to compare with): refused before upload, because it is not what this build pinned.
    const swapped = path.join(work, 'runtime-swapped');
    mkdirSync(swapped);
    const fake = '#!/bin/sh\necho v22.23.3\n';
    const fakeGz = gzipSync(fake);
    writeFileSync(path.join(swapped, 'node-linux-x64.gz'), fakeGz);
    writeFileSync(
      path.join(swapped, 'node-linux-x64.json'),
      JSON.stringify({ version: '22.23.3', arch: 'x64', sha256: sha256(fake), size: fake.length, gzSha256: sha256(fakeGz), gzSize: fakeGz.length }),
    );
    const local = context(conn, 'gpu-nonode', { nodeCandidates: [], runtimeDir: swapped });
    await expect(deployAgent(local, { mode: 'auto' })).rejects.toThrow(
      `The Node runtime for linux-x64 ${path.join(swapped, 'node-linux-x64.gz')} is not the file this Fleetwake build pinned: its sha256 is ${sha256(fakeGz)}, the build pinned ${runtimeMeta.gzSha256}.`,
    );
    expect(await leftovers(conn, [`${installDir}/runtime`, `${installDir}/install.json`])).toBe('');

    // The real runtime, changed on the host after its upload (another valid gzip): refused there, deleted.
    const t = tamperingConn(conn, /gz=(\S+\/\.node\.gz\.tmp-[0-9a-f]{8});/, (f) => `printf '#!/bin/sh\\necho v22.23.3\\n' | gzip > ${shq(f)}`);
    const remote = context(conn, 'gpu-nonode', { conn: t.conn, nodeCandidates: [] });
    await expect(deployAgent(remote, { mode: 'auto' })).rejects.toThrow(
      new RegExp(
        `^Refused to install the Node runtime ${runtimeMeta.version.replace(/\./g, '\\.')} on gpu-nonode: the copy uploaded for ${installDir}/runtime/node has sha256 [0-9a-f]{64} on the host, ` +
          `not the ${runtimeMeta.sha256} this Fleetwake build pinned\\. The copy was deleted and ${installDir}/runtime/node was left as it was\\.`,
      ),
    );
    expect(t.tampered).toHaveLength(1);
    expect(await leftovers(conn, [`${installDir}/runtime`])).toBe(`${installDir}/runtime`);
    expect(await readManifest({ conn })).toBeNull();

    const ctx = context(conn, 'gpu-nonode', { nodeCandidates: [] });
    const m = await deployAgent(ctx, { mode: 'auto' });
    expect(m).toMatchObject({ mode: 'user', uploadedRuntime: true, nodePath: `${home}/.local/share/fleetwake/runtime/node`, version: bundleVersion });
    expect(ctx.log.some((p) => p.step === 'runtime' && p.message.includes(`uploading Node ${runtimeMeta.version}`))).toBe(true);
    expect(ctx.log.some((p) => p.step === 'runtime' && p.state === 'done' && /sha256 matches/.test(p.message))).toBe(true);
    const sum = await conn.exec(`sha256sum ${shq(m.nodePath)}; ${shq(m.nodePath)} -v; ls -A ${shq(path.dirname(m.nodePath))}`);
    expect(sum.stdout.split(' ')[0]).toBe(runtimeMeta.sha256);
    expect(sum.stdout).toContain(`v${runtimeMeta.version}`);
    expect(sum.stdout).not.toMatch(/\.tmp-|node\.gz/);
    const info = await infoViaBridge(conn, m);
    expect(info.nodeVersion).toContain(runtimeMeta.version);

    // Again: the runtime is recognised by its sha256 and not uploaded twice.
    const ctx2 = context(conn, 'gpu-nonode', { nodeCandidates: [] });
    await deployAgent(ctx2, { mode: 'auto' });
    expect(steps(ctx2.log)).toContain('runtime:skipped');

    await uninstallAgent(context(conn, 'gpu-nonode', { nodeCandidates: [] }), { purge: true });
    expect(await leftovers(conn, [m.installDir, m.configFile, path.dirname(m.configFile), m.stateDir])).toBe('');
  }, 180_000);
});

/** A user's groups as /etc/group lists them: what a fresh login gets. */
async function groupsOf(user: string): Promise<string[]> {
  return (await run('id', ['-nG', user])).stdout.trim().split(/\s+/);
}

describe('system mode by a user with passwordless sudo', () => {
  const home = () => users.fwtsudo!.home;

  it('root never runs the node first on the user\'s PATH: a root-owned node or the shipped runtime runs the agent', async () => {
    const conn = await connect('gpu-sudo', sudoHost, 'fwtsudo', userKey);
    const onPath = await conn.exec('command -v node');
    expect(onPath.stdout.trim()).toBe(`${home()}/bin/node`);
    const ctx = context(conn, 'gpu-sudo');
    const m = await deployAgent(ctx, { mode: 'system' });
    expect(m).toMatchObject({ mode: 'system', installDir: '/opt/fleetwake', socketPath: '/run/fleetwake/agent.sock' });
    expect(ctx.log.some((p) => p.step === 'mode' && /System mode \(passwordless sudo\)/.test(p.message))).toBe(true);
    // The deploy said why the user's node was not taken.
    expect(ctx.log.some((p) => p.step === 'runtime' && p.message.includes(`${home()}/bin/node`) && /owned by uid/.test(p.message))).toBe(true);

    // Install, start, status, rpc and verify ran as root: none of them ran the user's node.
    expect(existsSync(rootRunLog) ? readFileSync(rootRunLog, 'utf8') : '').toBe('');
    // The recorded node is the uploaded runtime or a root-owned file in root-owned folders, by its real path.
    expect(m.nodePath.startsWith(`${home()}/`)).toBe(false);
    const chain = await run('sh', ['-c', `p=$(readlink -f ${shq(m.nodePath)}); echo "$p"; while :; do stat -c '%u %a %n' "$p"; [ "$p" = / ] && break; p=\${p%/*}; [ -z "$p" ] && p=/; done`]);
    const [real, ...stats] = chain.stdout.trim().split('\n');
    expect(real).toBe(m.nodePath);
    for (const line of stats) {
      const [uid, mode] = line.split(' ');
      expect(uid, line).toBe('0');
      expect(Number.parseInt(mode!, 8) & 0o022, line).toBe(0);
    }
    // The wrapper and the detached daemon run with a fixed PATH, not the session's.
    const wrapper = readFileSync('/opt/fleetwake/bin/fleetwake-agent', 'utf8');
    expect(wrapper).toContain(shq(m.nodePath));
    expect(wrapper).not.toContain(`${home()}/bin`);
    // This test runs on the host itself, as root: the daemon's pid file and /proc tell what runs.
    const pid = readFileSync(path.join(m.stateDir, 'agent.pid'), 'utf8').trim();
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    expect(environ).toContain('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]).toBe(m.nodePath);

    await uninstallAgent(context(conn, 'gpu-sudo'), { purge: true });
    expect(existsSync(rootRunLog) ? readFileSync(rootRunLog, 'utf8') : '').toBe('');
    expect(await leftovers(conn, ['/opt/fleetwake', '/etc/fleetwake', '/var/lib/fleetwake', '/run/fleetwake'])).toBe('');
  }, 120_000);

  it('a failed upgrade never rolls back onto a node the user can replace (an install an older Fleetwake recorded)', async () => {
    const conn = await connect('gpu-sudo', sudoHost, 'fwtsudo', userKey);
    const m = await deployAgent(context(conn, 'gpu-sudo'), { mode: 'system' });
    try {
      // What an older Fleetwake recorded: the user's node, first on the session's PATH.
      const userNode = `${home()}/bin/node`;
      const manifest = JSON.parse(readFileSync('/opt/fleetwake/install.json', 'utf8'));
      writeFileSync('/opt/fleetwake/install.json', JSON.stringify({ ...manifest, nodePath: userNode }));
      const broken = path.join(work, 'broken-system-agent.cjs');
      writeFileSync(broken, `if (process.argv[2] === 'version') { console.log('9.9.8+broken000000'); process.exit(0); }\nprocess.exit(1);\n`);
      const ctx = context(conn, 'gpu-sudo', { agentBundle: broken, verifyTimeoutMs: 4_000, pins: pinsForAgent(broken, '9.9.8+broken000000') });
      const err = await upgradeAgent(ctx).then(
        () => null,
        (e: Error) => e,
      );
      expect(err?.message).toMatch(new RegExp(`It was not rolled back to ${m.version.replace(/[+.]/g, '\\$&')}: that install ran ${userNode.replace(/[.]/g, '\\.')} \\(.*owned by uid \\d+, not root\\), and root must not run it\\. Deploy again`));
      expect(steps(ctx.log)).toContain('rollback:failed');
      expect(existsSync(rootRunLog) ? readFileSync(rootRunLog, 'utf8') : '').toBe('');
    } finally {
      await uninstallAgent(context(conn, 'gpu-sudo'), { purge: true });
    }
    expect(existsSync(rootRunLog) ? readFileSync(rootRunLog, 'utf8') : '').toBe('');
  }, 120_000);

  it('the deploy ends with the agent answering the app over its own connection, and later connections too', async () => {
    // The group a system deploy adds the user to must be new to this user, as on a first install.
    await run('sh', ['-c', 'if getent group fleetwake >/dev/null; then gpasswd -d fwtsudo fleetwake; fi; true']);
    expect(await groupsOf('fwtsudo')).not.toContain('fleetwake');
    const t = makeTestFleet({ keepConnected: true });
    fleets.push(t);
    await t.fleet.addHost({ name: 'gpu-sudo', host: sudoHost.host, port: sudoHost.port, user: 'fwtsudo', identityFile: userKey.privatePath });
    const s = await t.waitForState('gpu-sudo', 'host-key-unknown');
    await t.fleet.trustHostKey('gpu-sudo', s.fingerprint!);
    await t.waitForState('gpu-sudo', 'online');

    const status = await t.fleet.deployAgent('gpu-sudo', { mode: 'system' });
    expect(status.state, status.message).toBe('running');
    expect(status.mode).toBe('system');
    expect(await groupsOf('fwtsudo')).toContain('fleetwake');
    // The app's RPC answers in the same run.
    const h = await t.fleet.getMetricsHistory('gpu-sudo', '1h');
    expect(h.name).toBe('gpu-sudo');
    await waitFor('a live sample', async () => t.fleet.getLatestMetrics('gpu-sudo'));
    await t.fleet.close();

    // A later app session: a fresh login reaches the agent too.
    const later = makeTestFleet({ keepConnected: true });
    fleets.push(later);
    await later.fleet.addHost({ name: 'gpu-sudo', host: sudoHost.host, port: sudoHost.port, user: 'fwtsudo', identityFile: userKey.privatePath });
    const s2 = await later.waitForState('gpu-sudo', 'host-key-unknown');
    await later.fleet.trustHostKey('gpu-sudo', s2.fingerprint!);
    await later.waitForState('gpu-sudo', 'online');
    const again = await later.fleet.checkAgent('gpu-sudo');
    expect(again.state, again.message).toBe('running');

    await later.fleet.uninstallAgent('gpu-sudo', { purge: true });
    expect(existsSync('/opt/fleetwake')).toBe(false);
  }, 120_000);
});

describe('a system agent on the box, and user-mode installs of other users (item 14)', () => {
  it('each client uses the socket its own install recorded; a user with only the system agent is told how to get access', async () => {
    // An administrator's system agent, running.
    const rootConn = await connect('gpu-admin', rootHost, 'root', rootKey);
    const sys = await deployAgent(context(rootConn, 'gpu-admin'), { mode: 'system' });
    expect((await infoViaBridge(rootConn, sys)).mode).toBe('system');
    try {
      // fwtdeploy2 (no sudo, not in group fleetwake) installs a user-mode agent of its own.
      const conn = await connect('gpu-other', userHost, 'fwtdeploy2', userKey);
      const own = await deployAgent(context(conn, 'gpu-other'), { mode: 'user' });
      expect(own.socketPath).toBe(`${users.fwtdeploy2!.home}/.local/share/fleetwake/run/agent.sock`);
      // Both install.json files are readable by this user; the client takes its own.
      const both = await readManifests(conn);
      expect(both.system?.socketPath).toBe('/run/fleetwake/agent.sock');
      expect(await readOwnManifest(conn)).toEqual(own);
      expect(await readManifest({ conn })).toEqual(own);
      const opened = await openAgentClient(conn, (await readOwnManifest(conn))!);
      expect(opened.info.mode).toBe('user');
      expect(opened.transport).toBe('streamlocal');
      opened.client.close();

      // The app of that user: running, user mode, over its own socket.
      const t = makeTestFleet({ keepConnected: false });
      fleets.push(t);
      await t.fleet.addHost({ name: 'gpu-other', host: userHost.host, port: userHost.port, user: 'fwtdeploy2', identityFile: userKey.privatePath });
      const c = t.fleet.connection('gpu-other');
      await c.ready().catch(() => undefined);
      await t.fleet.trustHostKey('gpu-other', (await t.fleet.getStatuses()).find((x) => x.name === 'gpu-other')!.fingerprint!);
      const st = await t.fleet.checkAgent('gpu-other');
      expect(st.state, st.message).toBe('running');
      expect(st.mode).toBe('user');

      // fwtdeploy has no install of its own: only the system agent, whose group it is not in. Say exactly that.
      const t2 = makeTestFleet({ keepConnected: false });
      fleets.push(t2);
      await t2.fleet.addHost({ name: 'gpu-plain', host: userHost.host, port: userHost.port, user: 'fwtdeploy', identityFile: userKey.privatePath });
      await t2.fleet.connection('gpu-plain').ready().catch(() => undefined);
      await t2.fleet.trustHostKey('gpu-plain', (await t2.fleet.getStatuses()).find((x) => x.name === 'gpu-plain')!.fingerprint!);
      const plain = await t2.fleet.checkAgent('gpu-plain');
      expect(plain.state).toBe('unreachable');
      expect(plain.message).toContain(
        "the system agent's socket /run/fleetwake/agent.sock is only for group fleetwake; run `sudo usermod -aG fleetwake fwtdeploy` and log in again, or deploy a user-mode agent",
      );

      // Removing its own agent leaves the administrator's alone.
      const un = context(conn, 'gpu-other');
      await uninstallAgent(un, { purge: true });
      expect((await readManifests(conn)).user).toBeNull();
      expect((await infoViaBridge(rootConn, sys)).mode).toBe('system');
    } finally {
      await uninstallAgent(context(rootConn, 'gpu-admin'), { purge: true });
    }
  }, 180_000);
});
