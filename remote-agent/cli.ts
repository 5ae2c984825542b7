/**
 * fleetwake-agent's command line (the server side). main.ts is the entry; this module wires the real
 * metrics/history modules into the daemon and implements every command.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { createLogger, loadConfig } from './config/index.js';
import { AgentDaemon, readPidFile, type DaemonDeps } from './daemon.js';
import { MetricsHistory } from './history/store.js';
import { probeGpu, readGpus } from './metrics/gpu/nvidia-smi.js';
import { createSampler, primaryInterface } from './metrics/sampler.js';
import { resolveOnPath, resolvePaths, socketPathProblem, type AgentPaths } from './paths.js';
import { clockText } from './idle/engine.js';
import { PROTOCOL_VERSION, type AgentInfo, type AgentMode, type IdleStatus, type MetricsSample } from './protocol.js';
import { AgentAlreadyRunningError, AgentClientError, bridgeErrorLine, describeConnectError, probeSocket, rpcCall } from './rpc/socket.js';
import { VERSION } from './version.js';

export const EXIT = {
  OK: 0,
  /** A command failed (GPU check found no GPU, the bridge could not reach the agent, other errors). */
  FAILURE: 1,
  USAGE: 2,
  /** `status`: the agent is not running. */
  NOT_RUNNING: 3,
  /** `run`: another fleetwake-agent already serves the socket. */
  ALREADY_RUNNING: 4,
} as const;

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

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
}

interface Parsed {
  command: string;
  /** suspend's action: status | enable | disable | now. */
  sub: string;
  mode: AgentMode | undefined;
  json: boolean;
  foreground: boolean;
  detach: boolean;
  help: boolean;
}

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

/** The real metrics and history modules. */
export function realDeps(): DaemonDeps {
  return {
    createSampler: (o) => createSampler({ nvidiaSmiPath: o.nvidiaSmiPath, nvidiaSmiTimeoutMs: o.nvidiaSmiTimeoutMs, stateDir: o.stateDir }),
    createHistory: (o) => new MetricsHistory({ stateDir: o.stateDir }),
    probeGpu: (path, timeoutMs) => probeGpu(path, timeoutMs),
    primaryInterface: () => primaryInterface(),
    detectHost: undefined,
    hostname: undefined,
    clock: undefined,
  };
}

function write(stream: NodeJS.WritableStream, text: string): void {
  stream.write(text.endsWith('\n') ? text : text + '\n');
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

function clientPaths(parsed: Parsed, io: CliIo): AgentPaths {
  return resolvePaths({ mode: parsed.mode, role: 'client', env: io.env });
}

async function runForeground(parsed: Parsed, io: CliIo): Promise<number> {
  const paths = resolvePaths({ mode: parsed.mode, role: 'daemon', env: io.env });
  const problem = socketPathProblem(paths.socket);
  if (problem) {
    write(io.stderr, `fleetwake-agent: ${problem}`);
    return EXIT.FAILURE;
  }
  const log = createLogger({ write: (line) => io.stderr.write(line) });
  const daemon = new AgentDaemon({ paths, deps: realDeps(), log, env: io.env });
  try {
    await daemon.start();
  } catch (err) {
    if (err instanceof AgentAlreadyRunningError) {
      write(io.stderr, `fleetwake-agent: ${err.message}`);
      return EXIT.ALREADY_RUNNING;
    }
    log.error('cannot start', { error: err });
    await daemon.stop().catch(() => undefined);
    return EXIT.FAILURE;
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    const onStop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info('stopping', { signal });
      void daemon.stop().finally(() => resolve(EXIT.OK));
    };
    process.on('SIGTERM', () => onStop('SIGTERM'));
    process.on('SIGINT', () => onStop('SIGINT'));
    process.on('SIGHUP', () => {
      log.info('SIGHUP: reloading config');
      daemon.reloadConfig();
    });
  });
}

async function runDetached(parsed: Parsed, io: CliIo): Promise<number> {
  const paths = resolvePaths({ mode: parsed.mode, role: 'daemon', env: io.env });
  const problem = socketPathProblem(paths.socket);
  if (problem) {
    write(io.stderr, `fleetwake-agent: ${problem}`);
    return EXIT.FAILURE;
  }
  const probe = await probeSocket(paths.socket);
  if (probe.state === 'live') {
    write(io.stderr, `fleetwake-agent: ${new AgentAlreadyRunningError(readPidFile(paths.pidFile), paths.socket).message}`);
    return EXIT.ALREADY_RUNNING;
  }
  mkdirSync(paths.stateDir, { recursive: true, mode: paths.mode === 'user' ? 0o700 : 0o755 });
  const script = process.argv[1];
  if (!script) {
    write(io.stderr, 'fleetwake-agent: cannot find my own script path to detach');
    return EXIT.FAILURE;
  }
  const fd = openSync(paths.logFile, 'a', 0o600);
  const args = [script, 'run', '--foreground', ...(parsed.mode ? ['--mode', parsed.mode] : [])];
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', fd, fd], env: io.env });
  closeSync(fd);
  let exited: number | null = null;
  child.on('exit', (code) => {
    exited = code ?? 1;
  });
  child.unref();
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (exited !== null) break;
    try {
      const info = await rpcCall<AgentInfo>(paths.socket, 'agent.info', {}, 1000);
      write(io.stdout, `fleetwake-agent started, pid ${info.pid}, socket ${paths.socket}, log ${paths.logFile}`);
      return EXIT.OK;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  let tail = '';
  try {
    tail = readFileSync(paths.logFile, 'utf8').split('\n').slice(-10).join('\n');
  } catch {
    /* no log */
  }
  write(io.stderr, `fleetwake-agent: the daemon ${exited !== null ? `exited (code ${exited})` : 'did not answer within 15 s'}; last log lines:\n${tail}`);
  if (exited === null) child.kill('SIGTERM');
  return exited === EXIT.ALREADY_RUNNING ? EXIT.ALREADY_RUNNING : EXIT.FAILURE;
}

async function status(parsed: Parsed, io: CliIo): Promise<number> {
  const paths = clientPaths(parsed, io);
  try {
    const info = await rpcCall<AgentInfo>(paths.socket, 'agent.info', {}, 5000);
    if (parsed.json) write(io.stdout, JSON.stringify({ running: true, socket: paths.socket, ...info }));
    else {
      write(
        io.stdout,
        [
          `fleetwake-agent is running`,
          `  pid:       ${info.pid}`,
          `  version:   ${info.version} (protocol ${info.protocolVersion})`,
          `  mode:      ${info.mode}`,
          `  socket:    ${paths.socket}`,
          `  config:    ${info.configPath}`,
          `  config error: ${info.configError ?? 'none'}`,
          `  gpu:       ${info.capabilities.gpu ? 'yes' : `no (${info.capabilities.gpuReason ?? 'unknown'})`}`,
        ].join('\n'),
      );
    }
    return EXIT.OK;
  } catch (err) {
    const code = err instanceof AgentClientError ? err.code : 'EUNKNOWN';
    const notRunning = code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'ENOTDIR';
    const reason = err instanceof AgentClientError ? err.message : (err as Error).message;
    const pid = readPidFile(paths.pidFile);
    if (parsed.json) write(io.stdout, JSON.stringify({ running: false, socket: paths.socket, reason, errno: code }));
    else write(notRunning ? io.stdout : io.stderr, `fleetwake-agent is not running: ${reason}${pid && notRunning ? ` (stale pid file says ${pid})` : ''}`);
    return notRunning ? EXIT.NOT_RUNNING : EXIT.FAILURE;
  }
}

const GiB = 1024 ** 3;
const gib = (n: number | null) => (n === null ? '?' : `${(n / GiB).toFixed(1)} GiB`);
const pct = (n: number | null) => (n === null ? '-' : `${n.toFixed(0)}%`);

export function formatSample(s: MetricsSample): string {
  const lines = [
    `sampled:  ${new Date(s.sampledAt).toISOString()}`,
    `cpu:      ${pct(s.cpu.percent)}  load ${s.cpu.load.map((l) => l.toFixed(2)).join(' ')}${s.cpuPowerW !== null ? `  ${s.cpuPowerW.toFixed(0)} W` : ''}`,
    `memory:   ${gib(s.memory.usedBytes)} of ${gib(s.memory.totalBytes)}  swap ${gib(s.memory.swapUsedBytes)} of ${gib(s.memory.swapTotalBytes)}`,
    ...s.disks.map((d) => `disk:     ${d.label} ${d.path} ${gib(d.usedBytes)} of ${gib(d.totalBytes)}`),
    ...s.network.map((n) => `network:  ${n.iface} rx ${(n.rxBytesPerSec / 1024).toFixed(1)} KiB/s tx ${(n.txBytesPerSec / 1024).toFixed(1)} KiB/s`),
    `uptime:   ${Math.round(s.uptimeSeconds)} s`,
    ...s.gpus.map(
      (g) =>
        `gpu ${g.index}:    ${g.name}  util ${pct(g.utilPercent)}  mem ${gib(g.memUsedBytes)} of ${gib(g.memTotalBytes)}` +
        `${g.tempC !== null ? `  ${g.tempC} C` : ''}${g.powerW !== null ? `  ${g.powerW.toFixed(0)} W` : ''}`,
    ),
  ];
  if (s.gpuError) lines.push(`gpu:      ${s.gpuError}`);
  return lines.join('\n');
}

async function metrics(parsed: Parsed, io: CliIo): Promise<number> {
  const paths = clientPaths(parsed, io);
  let sample: MetricsSample | null = null;
  let source = 'agent';
  try {
    sample = await rpcCall<MetricsSample | null>(paths.socket, 'metrics.latest', {}, 5000);
  } catch (err) {
    const code = err instanceof AgentClientError ? err.code : '';
    if (code !== 'ENOENT' && code !== 'ECONNREFUSED' && code !== 'ENOTDIR') {
      write(io.stderr, `fleetwake-agent: ${(err as Error).message}`);
      return EXIT.FAILURE;
    }
  }
  if (!sample) {
    source = 'local';
    const { config } = loadConfig(paths.configFile);
    const nvidiaSmiPath = resolveOnPath(config.gpu.nvidiaSmi, io.env) ?? config.gpu.nvidiaSmi;
    try {
      sample = await createSampler({ nvidiaSmiPath, nvidiaSmiTimeoutMs: config.gpu.timeoutSeconds * 1000, stateDir: paths.stateDir }).sample();
    } catch (err) {
      write(io.stderr, `fleetwake-agent: sampling failed: ${(err as Error).message}`);
      return EXIT.FAILURE;
    }
  }
  if (!sample) return EXIT.FAILURE;
  if (parsed.json) write(io.stdout, JSON.stringify(sample));
  else write(io.stdout, `${source === 'local' ? '(agent not running: sampled once here)\n' : ''}${formatSample(sample)}`);
  return EXIT.OK;
}

async function gpuCheck(parsed: Parsed, io: CliIo): Promise<number> {
  const paths = clientPaths(parsed, io);
  const { config, error } = loadConfig(paths.configFile);
  if (error) write(io.stderr, `warning: ${error} (using defaults)`);
  const name = config.gpu.nvidiaSmi;
  const path = resolveOnPath(name, io.env);
  const timeoutMs = config.gpu.timeoutSeconds * 1000;
  if (!path) {
    const reason = `nvidia-smi not found (${name.includes('/') ? name : `${name} is not on PATH`}); no NVIDIA driver installed?`;
    write(io.stdout, parsed.json ? JSON.stringify({ gpu: false, reason, nvidiaSmi: name }) : `no GPU data: ${reason}`);
    return EXIT.FAILURE;
  }
  const probe = await probeGpu(path, timeoutMs);
  const read = probe.gpu ? await readGpus(path, timeoutMs) : null;
  if (parsed.json) {
    write(io.stdout, JSON.stringify({ gpu: probe.gpu, reason: probe.reason, nvidiaSmi: path, gpus: read?.gpus ?? [], processes: read?.processes ?? [], error: read?.error ?? null }));
  } else if (!probe.gpu) {
    write(io.stdout, `nvidia-smi: ${path}\nno GPU data: ${probe.reason ?? 'unknown reason'}`);
  } else {
    const lines = [`nvidia-smi: ${path}`];
    for (const g of read!.gpus) {
      lines.push(`gpu ${g.index}: ${g.name} (${g.uuid}) util ${pct(g.utilPercent)} mem ${gib(g.memUsedBytes)} of ${gib(g.memTotalBytes)} temp ${g.tempC ?? '?'} C power ${g.powerW ?? '?'} W of ${g.powerLimitW ?? '?'} W`);
    }
    for (const p of read!.processes) lines.push(`process ${p.pid} ${p.processName} on ${p.gpuUuid}: ${gib(p.usedMemoryBytes)}`);
    if (read!.error) lines.push(`warning: ${read!.error}`);
    write(io.stdout, lines.join('\n'));
  }
  return probe.gpu ? EXIT.OK : EXIT.FAILURE;
}

const GATE_MARK = (g: IdleStatus['gates'][number]) => (g.status === 'unavailable' ? '?' : g.blocking ? 'x' : 'ok');

export function formatIdleStatus(s: IdleStatus, now = Date.now()): string {
  const at = (t: number) => new Date(t).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  const lines = [
    `state:    ${s.state}${s.idleSince !== null ? ` since ${at(s.idleSince)}` : ''}`,
    `suspend:  ${s.settings.enableSuspend ? 'enabled' : 'disabled'}${s.dryRun ? ' (dry run: the command is not run)' : ''}; command: ${s.suspendCommand.join(' ')}`,
    `next:     ${s.suspendAt === null ? 'no suspend planned' : `suspends at ${at(s.suspendAt)} (in ${clockText(Math.max(0, (s.suspendAt - now) / 1000))}) if nothing changes`}`,
    `settings: cpu < ${s.settings.cpuIdleThreshold}%, gpu < ${s.settings.gpuIdleThreshold}%, network < ${s.settings.networkThresholdBytesPerSec} B/s, ` +
      `window ${s.settings.windowSeconds} s, timeout ${s.settings.idleTimeoutSeconds} s, min ${s.settings.minSamples} samples (${s.samples} now)`,
    'gates:',
    ...s.gates.map((g) => `  ${GATE_MARK(g).padEnd(3)}${g.gate.padEnd(15)}${g.reason}`),
  ];
  return lines.join('\n');
}

async function suspendCommand(parsed: Parsed, io: CliIo): Promise<number> {
  const paths = clientPaths(parsed, io);
  try {
    if (parsed.sub === 'now') {
      const r = await rpcCall<{ at: number; dryRun: boolean }>(paths.socket, 'suspend.now', {}, 10_000);
      if (parsed.json) write(io.stdout, JSON.stringify(r));
      else write(io.stdout, r.dryRun ? 'dry run: the suspend is recorded and announced, the command is not run' : 'suspending now');
      return EXIT.OK;
    }
    const status =
      parsed.sub === 'status'
        ? await rpcCall<IdleStatus>(paths.socket, 'idle.status', {}, 10_000)
        : await rpcCall<IdleStatus>(paths.socket, 'idle.configure', { settings: { enableSuspend: parsed.sub === 'enable' } }, 10_000);
    if (parsed.json) write(io.stdout, JSON.stringify(status));
    else write(io.stdout, `${parsed.sub === 'status' ? '' : `suspend when idle ${parsed.sub}d\n`}${formatIdleStatus(status)}`);
    return EXIT.OK;
  } catch (err) {
    const code = err instanceof AgentClientError ? err.code : 'EUNKNOWN';
    const notRunning = code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'ENOTDIR';
    const reason = (err as Error).message;
    if (parsed.json) write(io.stdout, JSON.stringify({ ok: false, running: !notRunning, reason, errno: code }));
    write(io.stderr, `fleetwake-agent: ${notRunning ? `the agent is not running: ${reason}` : reason}`);
    return notRunning ? EXIT.NOT_RUNNING : EXIT.FAILURE;
  }
}

/** stdin → socket, socket → stdout. Unreachable agent: one JSON-RPC error line naming the cause, exit 1. */
function bridge(parsed: Parsed, io: CliIo): Promise<number> {
  const paths = clientPaths(parsed, io);
  return new Promise((resolve) => {
    const sock = net.connect({ path: paths.socket, allowHalfOpen: true });
    let connected = false;
    let done = false;
    const finish = (code: number) => {
      if (done) return;
      done = true;
      io.stdin.unpipe(sock);
      io.stdin.pause();
      resolve(code);
    };
    sock.once('connect', () => {
      connected = true;
      io.stdin.pipe(sock);
      sock.pipe(io.stdout, { end: false });
    });
    sock.on('error', (err: NodeJS.ErrnoException) => {
      if (!connected) {
        write(io.stdout, bridgeErrorLine(err.code, paths.socket));
        write(io.stderr, `fleetwake-agent rpc: ${describeConnectError(err.code, paths.socket)}`);
        finish(EXIT.FAILURE);
      } else {
        write(io.stderr, `fleetwake-agent rpc: connection error: ${err.code ?? err.message}`);
        finish(EXIT.FAILURE);
      }
    });
    sock.on('close', () => finish(EXIT.OK));
    io.stdout.on('error', () => {
      sock.destroy();
      finish(EXIT.FAILURE);
    });
  });
}

/** For tests and `status`: is the pid alive? */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

