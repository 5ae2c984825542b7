import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { freeBytesFor, parseProbeOutput, probeScript, runtimeArchOf } from '../../main/remote/probe.js';
import { layoutFor, renderUnit, renderWrapper } from '../../main/remote/layout.js';

const DEBIAN_USER = `@@uname
Linux
x86_64
@@os-release
PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
ID=debian
@@glibc
glibc 2.36
@@systemd
no
@@user-systemd
@@id
1001
alice
@@home
/home/alice
@@xdg

@@sudo
password
@@node
/home/alice/.nvm/versions/node/v16.20.2/bin/node\tv16.20.2
/usr/bin/node\tv20.19.0
/usr/local/bin/node\t
@@nvidia-smi
/usr/bin/nvidia-smi
@@docker
@@df
/\t/dev/vda 264212084 23656292 82734620 23% /
/opt\t/dev/vda 264212084 23656292 82734620 23% /
/home/alice\t/dev/vdb 1000 10 990 1% /home
/tmp\ttmpfs 1000 0 1000 0% /tmp
@@mounts
/\trw,relatime
/tmp\trw,nosuid,nodev,noexec
@@end
`;

describe('parseProbeOutput', () => {
  it('reads a Debian host with an old node on PATH and a good one in /usr/bin', () => {
    const p = parseProbeOutput(DEBIAN_USER);
    expect(p.os).toBe('Linux');
    expect(p.machine).toBe('x86_64');
    expect(p.runtimeArch).toBe('x64');
    expect(p.distro).toEqual({ id: 'debian', versionId: '12', prettyName: 'Debian GNU/Linux 12 (bookworm)' });
    expect(p.glibc).toBe('2.36');
    expect(p.systemd).toBe(false);
    expect(p.userSystemd).toBe(false);
    expect(p.uid).toBe(1001);
    expect(p.user).toBe('alice');
    expect(p.home).toBe('/home/alice');
    expect(p.xdgRuntimeDir).toBeNull();
    expect(p.sudo).toBe('password');
    expect(p.nodes).toHaveLength(3);
    expect(p.nodes[2]).toEqual({ path: '/usr/local/bin/node', version: null });
    // v16 on PATH is too old; the first node >= 18 wins.
    expect(p.node).toEqual({ path: '/usr/bin/node', version: 'v20.19.0' });
    expect(p.nvidiaSmi).toBe('/usr/bin/nvidia-smi');
    expect(p.docker).toBeNull();
    expect(p.freeBytes['/home/alice']).toBe(990 * 1024);
    expect(freeBytesFor(p, '/home/alice/.local/share/fleetwake')).toBe(990 * 1024);
    expect(freeBytesFor(p, '/opt/fleetwake')).toBe(82734620 * 1024);
    expect(freeBytesFor(p, '/srv/x')).toBe(82734620 * 1024);
    expect(p.tmpNoexec).toBe(true);
  });

  it('reads glibc from ldd when getconf is missing, and musl as no glibc', () => {
    const withLdd = DEBIAN_USER.replace('glibc 2.36', 'ldd (GNU libc) 2.17');
    expect(parseProbeOutput(withLdd).glibc).toBe('2.17');
    const deb = DEBIAN_USER.replace('glibc 2.36', 'ldd (Debian GLIBC 2.36-9+deb12u14) 2.36');
    expect(parseProbeOutput(deb).glibc).toBe('2.36');
    const musl = DEBIAN_USER.replace('glibc 2.36', 'musl libc (x86_64)');
    expect(parseProbeOutput(musl).glibc).toBeNull();
  });

  it('root on an aarch64 systemd host with no node', () => {
    const out = DEBIAN_USER.replace('x86_64', 'aarch64')
      .replace('@@systemd\nno', '@@systemd\nyes')
      .replace('1001\nalice', '0\nroot')
      .replace('@@sudo\npassword', '@@sudo\nroot')
      .replace(/@@node\n[\s\S]*?@@nvidia-smi/, '@@node\n@@nvidia-smi')
      .replace('/tmp\trw,nosuid,nodev,noexec\n', '');
    const p = parseProbeOutput(out);
    expect(p.runtimeArch).toBe('arm64');
    expect(p.systemd).toBe(true);
    expect(p.sudo).toBe('root');
    expect(p.uid).toBe(0);
    expect(p.node).toBeNull();
    expect(p.tmpNoexec).toBe(false); // falls back to / options
  });

  it('unsupported arch maps to no runtime; a cut-short output is an error', () => {
    expect(runtimeArchOf('riscv64')).toBeNull();
    expect(runtimeArchOf('armv7l')).toBeNull();
    expect(() => parseProbeOutput(DEBIAN_USER.replace('@@end\n', ''))).toThrow(/did not finish/);
  });

  it('the real script runs in sh here and parses', () => {
    const out = execFileSync('sh', ['-c', probeScript(['/usr/bin/node', "/no such/it's node"])], { encoding: 'utf8' });
    const p = parseProbeOutput(out);
    expect(p.os).toBe('Linux');
    expect(p.uid).toBe(process.getuid!());
    expect(p.node?.version).toBe(process.version);
    expect(p.freeBytes['/']).toBeGreaterThan(0);
  });
});

describe('layout and rendered files', () => {
  it('user mode paths, socket under XDG only with systemd --user', () => {
    const detached = layoutFor('user', '/home/a b', { xdgRuntimeDir: '/run/user/1000', supervisor: 'detached' });
    expect(detached.installDir).toBe('/home/a b/.local/share/fleetwake');
    expect(detached.configFile).toBe('/home/a b/.config/fleetwake/agent.yaml');
    expect(detached.socketPath).toBe('/home/a b/.local/share/fleetwake/run/agent.sock');
    const sd = layoutFor('user', '/home/a', { xdgRuntimeDir: '/run/user/1000', supervisor: 'systemd-user' });
    expect(sd.socketPath).toBe('/run/user/1000/fleetwake/agent.sock');
    const sys = layoutFor('system', '/root');
    expect(sys.agentPath).toBe('/opt/fleetwake/fleetwake-agent.cjs');
    expect(sys.socketPath).toBe('/run/fleetwake/agent.sock');
    expect(sys.unitPath).toBe('/etc/systemd/system/fleetwake-agent.service');
  });

  it('unit has Restart=always and quoted paths; wrapper runs', () => {
    const l = layoutFor('user', '/home/a b', {});
    const unit = renderUnit(l, '/home/a b/.local/share/fleetwake/runtime/node');
    expect(unit).toMatch(/^Restart=always$/m);
    expect(unit).toContain('ExecStart="/home/a b/.local/share/fleetwake/runtime/node" "/home/a b/.local/share/fleetwake/fleetwake-agent.cjs" run --mode user');
    expect(unit).toContain('WantedBy=default.target');
    const w = renderWrapper(l, '/bin/echo');
    const out = execFileSync('sh', ['-c', `${w.split('\n').slice(2).join('\n')}`, 'sh', 'hello'], { encoding: 'utf8', env: { PATH: process.env.PATH } });
    expect(out.trim()).toBe('/home/a b/.local/share/fleetwake/fleetwake-agent.cjs hello');
  });
});
