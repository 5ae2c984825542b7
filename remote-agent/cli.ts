/**
 * fleetwake-agent's command line (the server side). main.ts is the entry; this module parses the
 * arguments and hands each command to its group in cli/.
 */
import { PROTOCOL_VERSION } from './protocol.js';
import { VERSION } from './version.js';
import { bridge } from './cli/bridge.js';
import { EXIT, write, type CliIo, type Parsed } from './cli/common.js';
import { gpuCheck, metrics, status } from './cli/query.js';
import { runDetached, runForeground } from './cli/run.js';
import { suspendCommand } from './cli/suspend.js';

export { EXIT, pidAlive, type CliIo } from './cli/common.js';
export { formatSample } from './cli/query.js';
export { realDeps } from './cli/run.js';
export { formatIdleStatus } from './cli/suspend.js';

export const HELP = `fleetwake-agent ${VERSION} (protocol ${PROTOCOL_VERSION})

Usage: fleetwake-agent <command> [options]

Commands:
  run [--foreground] [--detach]   run the daemon (foreground unless --detach; --detach starts it in the
                                  background, logging to STATE/agent.log, and returns once it answers)
  status [--json]                 is the daemon running: pid, version, mode, socket, config error
  metrics [--json]                the latest sample from the daemon (sampled here once if it is not running)
  gpu-check                       probe nvidia-smi and print what it returned, or why it could not
  suspend status [--json]         the idle state, every gate with its reason, when the box will suspend
  suspend enable|disable [--json] switch suspend-when-idle on or off (kept in the state folder)
  suspend now [--json]            suspend now (same steps as an idle suspend; dry_run is honoured)
  rpc                             JSON-RPC bridge: stdin/stdout <-> the daemon's socket
  version                         print the version
  help                            this text

Options:
  --mode system|user              which install to use (default: detected; system needs root and
                                  /etc/fleetwake/agent.yaml)

Environment (tests, odd setups): FLEETWAKE_AGENT_CONFIG, FLEETWAKE_AGENT_STATE, FLEETWAKE_AGENT_SOCKET

Exit codes:
  0  ok (status: running; gpu-check: GPU data readable)
  1  failure (gpu-check: no GPU data; rpc: agent unreachable, one JSON-RPC error line printed; other errors)
  2  usage error
  3  status, suspend: the agent is not running
  4  run: another fleetwake-agent is already running on the socket
`;

const FLAGS_BY_COMMAND: Record<string, string[]> = {
  run: ['--mode', '--foreground', '--detach'],
  status: ['--mode', '--json'],
  metrics: ['--mode', '--json'],
  'gpu-check': ['--mode', '--json'],
  rpc: ['--mode'],
  suspend: ['--mode', '--json'],
  version: ['--json'],
  help: [],
};

const SUSPEND_ACTIONS = ['status', 'enable', 'disable', 'now'];

export function parseArgs(argv: string[]): Parsed | string {
  const out: Parsed = { command: '', sub: '', mode: undefined, json: false, foreground: false, detach: false, help: false };
  const rest = [...argv];
  while (rest.length > 0) {
    const a = rest.shift()!;
    if (a === '--help' || a === '-h') out.help = true;
    else if (a === '--json') out.json = true;
    else if (a === '--foreground') out.foreground = true;
    else if (a === '--detach') out.detach = true;
    else if (a === '--mode' || a.startsWith('--mode=')) {
      const v = a === '--mode' ? rest.shift() : a.slice('--mode='.length);
      if (v !== 'system' && v !== 'user') return `--mode must be system or user (got ${v ?? 'nothing'})`;
      out.mode = v;
    } else if (a.startsWith('-')) return `unknown option ${a}`;
    else if (!out.command) out.command = a;
    else if (out.command === 'suspend' && !out.sub) out.sub = a;
    else return `unexpected argument ${a}`;
  }
  if (!out.command) out.command = out.help ? 'help' : '';
  if (!out.command) return 'no command given';
  const allowed = FLAGS_BY_COMMAND[out.command];
  if (!allowed) return `unknown command ${out.command}`;
  for (const [flag, set] of [['--json', out.json], ['--foreground', out.foreground], ['--detach', out.detach], ['--mode', out.mode !== undefined]] as const) {
    if (set && !allowed.includes(flag)) return `${flag} does not apply to ${out.command}`;
  }
  if (out.foreground && out.detach) return '--foreground and --detach exclude each other';
  if (out.command === 'suspend' && !out.help && !SUSPEND_ACTIONS.includes(out.sub)) {
    return `suspend needs one of ${SUSPEND_ACTIONS.join('|')}${out.sub ? ` (got ${out.sub})` : ''}`;
  }
  return out;
}


export async function main(argv: string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env }): Promise<number> {
  const parsed = parseArgs(argv);
  if (typeof parsed === 'string') {
    write(io.stderr, `fleetwake-agent: ${parsed}\nRun 'fleetwake-agent help' for usage.`);
    return EXIT.USAGE;
  }
  if (parsed.help || parsed.command === 'help') {
    write(io.stdout, HELP);
    return EXIT.OK;
  }
  switch (parsed.command) {
    case 'version':
      write(io.stdout, parsed.json ? JSON.stringify({ version: VERSION, protocolVersion: PROTOCOL_VERSION }) : VERSION);
      return EXIT.OK;
    case 'run':
      return parsed.detach ? runDetached(parsed, io) : runForeground(parsed, io);
    case 'status':
      return status(parsed, io);
    case 'metrics':
      return metrics(parsed, io);
    case 'gpu-check':
      return gpuCheck(parsed, io);
    case 'rpc':
      return bridge(parsed, io);
    case 'suspend':
      return suspendCommand(parsed, io);
    default:
      return EXIT.USAGE;
  }
}
