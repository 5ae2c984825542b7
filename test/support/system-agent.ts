/**
 * The deploy tests install and remove system agents on this machine (/opt/fleetwake and friends). Where
 * an administrator already runs one, they set it aside first (stopped, its folders moved away, its group
 * noted) and put it back afterwards, running again: the suite passes on such a machine and leaves its
 * agent as it was.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { stopScript } from '../../main/deploy/index.js';
import { waitFor } from './wait-for.js';

const FOLDERS = ['/opt/fleetwake', '/etc/fleetwake', '/var/lib/fleetwake'] as const;
const ASIDE = '.fwt-test-aside';
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

interface Manifest {
  agentPath: string;
  nodePath: string;
  socketPath: string;
  supervisor: 'systemd-system' | 'detached' | string;
}

/** Sets an existing system agent aside; the returned function puts it back and starts it. */
export function setAsideSystemAgent(): () => Promise<void> {
  const manifestFile = '/opt/fleetwake/install.json';
  if (!existsSync(manifestFile)) return async () => undefined;
  const m = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
  const group = spawnSync('getent', ['group', 'fleetwake'], { encoding: 'utf8' }).stdout.trim();
  if (m.supervisor === 'systemd-system') spawnSync('systemctl', ['stop', 'fleetwake-agent'], { stdio: 'ignore' });
  spawnSync('sh', ['-c', stopScript(m.agentPath)], { stdio: 'ignore' });
  for (const f of FOLDERS) if (existsSync(f)) renameSync(f, f + ASIDE);

  return async () => {
    for (const f of FOLDERS) {
      if (!existsSync(f + ASIDE)) continue;
      rmSync(f, { recursive: true, force: true });
      renameSync(f + ASIDE, f);
    }
    if (group) {
      const [name, , gid, members] = group.split(':');
      if (spawnSync('getent', ['group', 'fleetwake']).status !== 0) spawnSync('groupadd', ['-g', gid!, name!], { stdio: 'ignore' });
      spawnSync('gpasswd', ['-M', members ?? '', 'fleetwake'], { stdio: 'ignore' });
    }
    if (m.supervisor === 'systemd-system') {
      spawnSync('systemctl', ['start', 'fleetwake-agent'], { stdio: 'ignore' });
    } else {
      spawn(m.nodePath, [m.agentPath, 'run', '--mode', 'system', '--detach'], { env: { PATH: SYSTEM_PATH }, stdio: 'ignore', detached: true }).unref();
    }
    await waitFor(`the system agent set aside to answer again on ${m.socketPath}`, () => existsSync(m.socketPath), { timeoutMs: 20_000 });
  };
}
