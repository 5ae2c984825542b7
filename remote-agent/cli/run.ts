/** `run`: the daemon in the foreground (signals, SIGHUP reload) or detached, with the real modules wired in. */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { createLogger } from '../config/index.js';
import { AgentDaemon, type DaemonDeps } from '../daemon.js';
import { readPidFile } from '../kernel/pid-file.js';
import { MetricsHistory } from '../history/store.js';
import { probeGpu } from '../metrics/gpu/nvidia-smi.js';
import { allGpusAsleep } from '../metrics/gpu/reader.js';
import { createSampler, primaryInterface } from '../metrics/sampler.js';
import { resolvePaths, socketPathProblem, type AgentPaths } from '../paths.js';
import type { AgentInfo } from '../protocol.js';
import { AgentAlreadyRunningError, probeSocket, rpcCall } from '../rpc/socket.js';
import { EXIT, write, type CliIo, type Parsed } from './common.js';

/** The real metrics and history modules. FLEETWAKE_AGENT_SYSFS (tests, the bench): a stand-in for /sys. */
export function realDeps(env: NodeJS.ProcessEnv = process.env): DaemonDeps {
  const sysRoot = env.FLEETWAKE_AGENT_SYSFS || '/sys';
  return {
    createSampler: (o) =>
      createSampler({ nvidiaSmiPath: o.nvidiaSmiPath, nvidiaSmiTimeoutMs: o.nvidiaSmiTimeoutMs, intervalMs: o.intervalMs, stateDir: o.stateDir, sysRoot }),
    createHistory: (o) => new MetricsHistory({ stateDir: o.stateDir }),
    probeGpu: (path, timeoutMs) => probeGpu(path, timeoutMs, () => allGpusAsleep(sysRoot)),
    primaryInterface: () => primaryInterface(),
    detectHost: undefined,
    hostname: undefined,
    clock: undefined,
  };
}

/** The daemon's paths, or the exit code when its socket path cannot work. */
function daemonPaths(parsed: Parsed, io: CliIo): AgentPaths | number {
  const paths = resolvePaths({ mode: parsed.mode, role: 'daemon', env: io.env });
  const problem = socketPathProblem(paths.socket);
  if (!problem) return paths;
  write(io.stderr, `fleetwake-agent: ${problem}`);
  return EXIT.FAILURE;
}

export async function runForeground(parsed: Parsed, io: CliIo): Promise<number> {
  const paths = daemonPaths(parsed, io);
  if (typeof paths === 'number') return paths;
  const log = createLogger({ write: (line) => io.stderr.write(line) });
  const daemon = new AgentDaemon({ paths, deps: realDeps(io.env), log, env: io.env });
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

export async function runDetached(parsed: Parsed, io: CliIo): Promise<number> {
  const paths = daemonPaths(parsed, io);
  if (typeof paths === 'number') return paths;
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
