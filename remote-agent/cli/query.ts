/** `status`, `metrics`, `gpu-check`: what the daemon (or, without one, this host) reports. */
import { loadConfig } from '../config/index.js';
import { readPidFile } from '../kernel/pid-file.js';
import { probeGpu, readGpus } from '../metrics/gpu/nvidia-smi.js';
import { createSampler } from '../metrics/sampler.js';
import { resolveOnPath } from '../paths.js';
import type { AgentInfo, MetricsSample } from '../protocol.js';
import { rpcCall } from '../rpc/socket.js';
import { clientPaths, connectFailure, EXIT, write, type CliIo, type Parsed } from './common.js';

export async function status(parsed: Parsed, io: CliIo): Promise<number> {
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
    const { code, notRunning } = connectFailure(err);
    const reason = (err as Error).message;
    const pid = readPidFile(paths.pidFile);
    if (parsed.json) write(io.stdout, JSON.stringify({ running: false, socket: paths.socket, reason, errno: code }));
    else write(notRunning ? io.stdout : io.stderr, `fleetwake-agent is not running: ${reason}${pid && notRunning ? ` (stale pid file says ${pid})` : ''}`);
    return notRunning ? EXIT.NOT_RUNNING : EXIT.FAILURE;
  }
}

const GiB = 1024 ** 3;
export const gib = (n: number | null) => (n === null ? '?' : `${(n / GiB).toFixed(1)} GiB`);
export const pct = (n: number | null) => (n === null ? '-' : `${n.toFixed(0)}%`);

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

export async function metrics(parsed: Parsed, io: CliIo): Promise<number> {
  const paths = clientPaths(parsed, io);
  let sample: MetricsSample | null = null;
  let source = 'agent';
  try {
    sample = await rpcCall<MetricsSample | null>(paths.socket, 'metrics.latest', {}, 5000);
  } catch (err) {
    if (!connectFailure(err).notRunning) {
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

export async function gpuCheck(parsed: Parsed, io: CliIo): Promise<number> {
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
