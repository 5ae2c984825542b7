/** Where an install lives on a server, and the small files deploy renders for it. */
import { posix } from 'node:path';
import type { InstallManifest } from './manifest.js';
import { AGENT_PATHS, type AgentMode } from '../../remote-agent/protocol.js';
import { envPrefix, shellQuote, shq, systemdQuote } from './shell.js';

export type Supervisor = InstallManifest['supervisor'];

export interface Layout {
  mode: AgentMode;
  home: string;
  installDir: string;
  agentPath: string;
  runtimeDir: string;
  /** Where an uploaded runtime goes. */
  runtimeNode: string;
  /** `<installDir>/bin/fleetwake-agent`: a wrapper with the right node and env, for admins. */
  wrapper: string;
  manifestPath: string;
  lockDir: string;
  /** Output of `run --detach` (the daemon itself logs to <stateDir>/agent.log). */
  startLog: string;
  configFile: string;
  stateDir: string;
  socketPath: string;
  unitPath: string;
  /** stateDir/agent.pid (remote-agent/paths.ts). */
  pidFile: string;
}

export const UNIT_NAME = 'fleetwake-agent.service';
export const AGENT_FILE = 'fleetwake-agent.cjs';
export const SYSTEM_GROUP = 'fleetwake';

/**
 * The PATH of everything a system install runs as root (daemon, unit, wrapper, status/rpc calls): the
 * agent runs what it finds there (nvidia-smi, systemctl, docker), so never a folder from the deploying
 * user's session.
 */
export const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function expand(p: string, home: string): string {
  return p === '~' ? home : p.startsWith('~/') ? posix.join(home, p.slice(2)) : p;
}

/**
 * Paths for `mode`. User mode puts the socket under $XDG_RUNTIME_DIR only when systemd --user
 * supervises the agent: a detached agent outlives the login session, and logind removes
 * /run/user/<uid> (and the socket in it) when the user's last session ends.
 */
export function layoutFor(mode: AgentMode, home: string, opts: { xdgRuntimeDir?: string | null; supervisor?: Supervisor } = {}): Layout {
  const P = mode === 'system' ? AGENT_PATHS.system : AGENT_PATHS.user;
  const installDir = expand(P.installDir, home);
  const stateDir = expand(P.stateDir, home);
  let socketPath = expand(P.socket, home);
  if (mode === 'user' && opts.supervisor === 'systemd-user' && opts.xdgRuntimeDir?.startsWith('/')) {
    socketPath = posix.join(opts.xdgRuntimeDir, 'fleetwake', 'agent.sock');
  }
  return {
    mode,
    home,
    installDir,
    agentPath: posix.join(installDir, AGENT_FILE),
    runtimeDir: posix.join(installDir, 'runtime'),
    runtimeNode: posix.join(installDir, 'runtime', 'node'),
    wrapper: posix.join(installDir, 'bin', 'fleetwake-agent'),
    manifestPath: posix.join(installDir, 'install.json'),
    lockDir: posix.join(installDir, '.deploy.lock'),
    startLog: posix.join(installDir, 'start.log'),
    configFile: expand(P.configFile, home),
    stateDir,
    socketPath,
    unitPath: expand(P.unit, home),
    pidFile: posix.join(stateDir, 'agent.pid'),
  };
}

/**
 * The env every agent invocation gets, so daemon, status and rpc agree on paths whatever the session;
 * a system install also gets SYSTEM_PATH.
 */
export function agentEnv(l: Pick<Layout, 'mode' | 'configFile' | 'stateDir' | 'socketPath'>): Record<string, string> {
  const files = { FLEETWAKE_AGENT_CONFIG: l.configFile, FLEETWAKE_AGENT_STATE: l.stateDir, FLEETWAKE_AGENT_SOCKET: l.socketPath };
  return l.mode === 'system' ? { ...files, PATH: SYSTEM_PATH } : files;
}

/**
 * The one builder of an agent command line: `'<node>' '<agent>' 'arg'...`, every word quoted, after
 * `VAR='value'` assignments when `env` is given. `viaEnv` runs it through env(1), which also works
 * after a prefix such as `timeout 10`.
 */
export function agentCommand(
  files: Pick<InstallManifest, 'nodePath' | 'agentPath'>,
  args: string[],
  opts: { env?: Record<string, string>; viaEnv?: boolean } = {},
): string {
  const words = [files.nodePath, files.agentPath, ...args].map(shellQuote).join(' ');
  const vars = opts.env ? `${envPrefix(opts.env)} ` : '';
  return `${opts.viaEnv ? 'env ' : ''}${vars}${words}`;
}

export function renderWrapper(l: Layout, nodePath: string): string {
  // The paths may be overridden by the caller (an admin trying another config); PATH may not: a sudo
  // that keeps the user's PATH would otherwise let the agent run that user's programs as root.
  const exports = Object.entries(agentEnv(l))
    .map(([k, v]) => (k === 'PATH' ? `PATH=${shq(v)}; export PATH` : `${k}=\${${k}:-${shq(v)}}; export ${k}`))
    .join('\n');
  return `#!/bin/sh
# Written by Fleetwake deploy: runs the agent with the node and paths of this install.
${exports}
exec ${shq(nodePath)} ${shq(l.agentPath)} "$@"
`;
}

export function renderUnit(l: Layout, nodePath: string): string {
  const env = Object.entries(agentEnv(l))
    .map(([k, v]) => `Environment=${systemdQuote(`${k}=${v}`)}`)
    .join('\n');
  const system = l.mode === 'system';
  const socketDir = posix.dirname(l.socketPath);
  return `# Written by Fleetwake deploy.
[Unit]
Description=Fleetwake agent (metrics, idle and wake control)
${system ? 'After=network-online.target\nWants=network-online.target\n' : ''}
[Service]
Type=simple
${env}
${system ? `ExecStartPre=/usr/bin/install -d -m 0750 -o root -g ${SYSTEM_GROUP} ${systemdQuote(socketDir)}\n` : ''}ExecStart=${systemdQuote(nodePath)} ${systemdQuote(l.agentPath)} run --mode ${l.mode}
ExecReload=/bin/kill -HUP $MAINPID
Restart=always
RestartSec=2

[Install]
WantedBy=${system ? 'multi-user.target' : 'default.target'}
`;
}
