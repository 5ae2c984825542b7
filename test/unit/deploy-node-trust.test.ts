/**
 * Security review, item "root runs a user-writable node": in system mode the root daemon, its unit, its
 * wrapper and the sudo status/rpc calls run the node deploy picks. A node the SSH user can replace (nvm,
 * conda, ~/bin first on PATH) would give that user root, so system mode takes a host node only when the
 * file (symlinks resolved) and every folder above it are root-owned and not group/other writable, as
 * root sees them; otherwise it uploads the shipped runtime. The daemon gets a fixed PATH.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chooseRuntime } from '../../main/deploy/plan.js';
import type { ArtifactPins } from '../../main/deploy/pins.js';
import type { DeployContext } from '../../main/deploy/deploy.js';
import { agentEnv, layoutFor, renderUnit, renderWrapper, SYSTEM_PATH } from '../../main/remote/layout.js';
import { nodeTrustScript, parseNodeTrust, type NodeTrust } from '../../main/remote/node-trust.js';
import { parseProbeOutput } from '../../main/remote/probe.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function probeWith(nodes: string[], uid = 1001) {
  return parseProbeOutput(
    `@@uname\nLinux\nx86_64\n@@glibc\nglibc 2.36\n@@systemd\nno\n@@id\n${uid}\nalice\n@@home\n/home/alice\n@@sudo\nnopasswd\n@@node\n${nodes.join('\n')}\n@@end\n`,
  );
}

/** A runtime folder with a (fake) shipped x64 runtime, so the upload branch can be chosen. */
function runtimeDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'fwt-rt-'));
  dirs.push(d);
  writeFileSync(path.join(d, 'node-linux-x64.gz'), 'gz');
  return d;
}

/** As a build pins it (the pin, not a sidecar file, is what deploy trusts). */
const pins: ArtifactPins = {
  agent: null,
  runtimes: { x64: { version: '22.23.3', sha256: 'a'.repeat(64), size: 1000, gzSha256: 'b'.repeat(64), gzSize: 2 } },
};

const ctx = (): DeployContext => ({
  conn: { exec: async () => ({ code: 0, signal: null, stdout: '', stderr: '' }), ready: async () => undefined as never, relogin: async () => undefined },
  hostName: 'h',
  onProgress: () => undefined,
  askSudoPassword: async () => null,
  runtimeDir: runtimeDir(),
  pins,
});

const ok = (p: string, resolved = p): NodeTrust => ({ path: p, resolved, problem: null });
const bad = (p: string, problem: string): NodeTrust => ({ path: p, resolved: p, problem });

describe('which node runs a system agent', () => {
  it('system mode skips the user-writable PATH node for a root-owned one, by its resolved path', () => {
    const probe = probeWith(['/home/alice/bin/node\tv20.19.0', '/usr/bin/node\tv20.19.0']);
    const l = layoutFor('system', probe.home);
    const trust = [bad('/home/alice/bin/node', '/home/alice/bin is owned by uid 1001, not root'), ok('/usr/bin/node', '/usr/lib/node/bin/node')];
    const c = chooseRuntime(ctx(), probe, l, trust);
    expect(c).toMatchObject({ nodePath: '/usr/lib/node/bin/node', uploaded: false, artifact: null });
    expect(c.refused).toContain('/home/alice/bin/node: /home/alice/bin is owned by uid 1001, not root');
  });

  it('system mode uploads the shipped runtime when no host node is root-owned, and says why', () => {
    const probe = probeWith(['/home/alice/.nvm/versions/node/v20.19.0/bin/node\tv20.19.0']);
    const l = layoutFor('system', probe.home);
    const c = chooseRuntime(ctx(), probe, l, [bad('/home/alice/.nvm/versions/node/v20.19.0/bin/node', '/home/alice/.nvm is owned by uid 1001, not root')]);
    expect(c).toMatchObject({ nodePath: '/opt/fleetwake/runtime/node', uploaded: true });
    expect(c.artifact?.version).toBe('22.23.3');
    expect(c.refused).toMatch(/\.nvm\/versions\/node\/v20\.19\.0\/bin\/node: \/home\/alice\/\.nvm is owned by uid 1001/);
  });

  it('system mode without a root check trusts no host node', () => {
    const probe = probeWith(['/usr/bin/node\tv20.19.0']);
    const c = chooseRuntime(ctx(), probe, layoutFor('system', probe.home), []);
    expect(c.uploaded).toBe(true);
  });

  it('user mode keeps the user node', () => {
    const probe = probeWith(['/home/alice/bin/node\tv20.19.0', '/usr/bin/node\tv20.19.0']);
    const c = chooseRuntime(ctx(), probe, layoutFor('user', probe.home), []);
    expect(c).toMatchObject({ nodePath: '/home/alice/bin/node', uploaded: false, artifact: null });
  });
});

describe('the root check of a node', () => {
  it('parses owners and modes of the file and every folder above it', () => {
    const out = [
      '@@node\t/usr/bin/node\t/usr/bin/node',
      '@@file\tyes',
      '0 755 /usr/bin/node',
      '0 755 /usr/bin',
      '0 755 /usr',
      '0 755 /',
      '@@node\t/home/alice/bin/node\t/home/alice/bin/node',
      '@@file\tyes',
      '1001 755 /home/alice/bin/node',
      '1001 755 /home/alice/bin',
      '1001 750 /home/alice',
      '0 755 /home',
      '0 755 /',
      '@@node\t/usr/local/bin/node\t/usr/local/lib/node/bin/node',
      '@@file\tyes',
      '0 755 /usr/local/lib/node/bin/node',
      '0 775 /usr/local/lib/node/bin',
      '0 755 /usr/local/lib/node',
      '0 2775 /usr/local/lib',
      '0 755 /usr/local',
      '0 755 /usr',
      '0 755 /',
      '@@node\t/opt/n/node\t/opt/n/node',
      '@@file\tyes',
      '0 757 /opt/n/node',
      '0 755 /opt/n',
      '0 755 /opt',
      '0 755 /',
      '@@node\t/gone/node\t',
      '@@end',
    ].join('\n');
    const t = parseNodeTrust(out);
    expect(t.map((x) => [x.path, x.problem])).toEqual([
      ['/usr/bin/node', null],
      ['/home/alice/bin/node', '/home/alice/bin/node is owned by uid 1001, not root'],
      ['/usr/local/bin/node', '/usr/local/lib/node/bin is writable by its group (mode 775)'],
      ['/opt/n/node', '/opt/n/node is writable by others (mode 757)'],
      ['/gone/node', 'its real path could not be resolved'],
    ]);
    expect(t[2]!.resolved).toBe('/usr/local/lib/node/bin/node');
  });

  it('a cut-short answer trusts nothing', () => {
    const t = parseNodeTrust('@@node\t/usr/bin/node\t/usr/bin/node\n@@file\tyes\n0 755 /usr/bin/node\n');
    expect(t).toEqual([]);
  });

  // Making a folder of another user needs root (the test machine runs the suites as root).
  it.skipIf(process.getuid?.() !== 0)('the real script, run here as root, trusts /usr/bin/node and refuses a node in a folder of another user or through a user-owned symlink target', () => {
    const base = mkdtempSync(path.join(tmpdir(), 'fwt-trust-'));
    dirs.push(base);
    chmodSync(base, 0o755);
    const userDir = path.join(base, 'home-bin');
    mkdirSync(userDir);
    chownSync(userDir, 4321, 4321);
    const userNode = path.join(userDir, 'node');
    writeFileSync(userNode, '#!/bin/sh\n');
    chmodSync(userNode, 0o755);
    // A root-owned link that points into the user's folder: the target is what runs.
    const link = path.join(base, 'node-link');
    symlinkSync(userNode, link);
    const real = execFileSync('readlink', ['-f', '/usr/bin/node'], { encoding: 'utf8' }).trim();
    const out = execFileSync('sh', ['-c', nodeTrustScript(['/usr/bin/node', userNode, link, "/no such/it's node"])], { encoding: 'utf8' });
    const t = parseNodeTrust(out);
    expect(t.find((x) => x.path === '/usr/bin/node')).toEqual({ path: '/usr/bin/node', resolved: real, problem: null });
    // /tmp itself is world-writable (sticky), so the first problem found may be the folder or /tmp.
    expect(t.find((x) => x.path === userNode)?.problem).toMatch(/owned by uid 4321|writable by others/);
    expect(t.find((x) => x.path === link)).toMatchObject({ resolved: userNode, problem: expect.stringMatching(/owned by uid 4321|writable by others/) });
    expect(t.find((x) => x.path === "/no such/it's node")?.problem).toBe('its real path could not be resolved');
  });
});

describe('the system daemon gets a fixed PATH', () => {
  it('unit, wrapper and every agent call of a system install carry it; user mode keeps the session PATH', () => {
    const sys = layoutFor('system', '/root');
    expect(SYSTEM_PATH).toBe('/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
    expect(agentEnv(sys).PATH).toBe(SYSTEM_PATH);
    expect(renderUnit(sys, '/usr/bin/node')).toContain(`Environment="PATH=${SYSTEM_PATH}"`);
    const w = renderWrapper(sys, '/bin/sh');
    // The wrapper sets PATH whatever the caller's is (an admin's sudo may keep a user's PATH).
    const out = execFileSync('sh', ['-c', `${w.split('\n').slice(2).join('\n').replace(/exec .*$/m, 'echo "$PATH"')}`], {
      encoding: 'utf8',
      env: { PATH: `/home/alice/bin:${process.env.PATH}` },
    });
    expect(out.trim()).toBe(SYSTEM_PATH);
    expect(agentEnv(layoutFor('user', '/home/alice')).PATH).toBeUndefined();
    expect(renderUnit(layoutFor('user', '/home/alice'), '/usr/bin/node')).not.toContain('PATH=');
  });
});
