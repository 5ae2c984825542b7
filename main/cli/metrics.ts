/** `fleetwake metrics NAME`: the latest sample from a host's agent. */
import type { MetricsSample } from '../../preload/api.js';
import { EXIT_FAILED, EXIT_OK, parse, UsageError, type CliIo, type Open } from './common.js';

function formatBytes(n: number | null): string {
  if (n === null) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i ? 1 : 0)} ${units[i]}`;
}

const num = (v: number | null, unit: string, digits = 0) => (v === null ? '-' : `${v.toFixed(digits)}${unit}`);

function printSample(name: string, s: MetricsSample, io: CliIo): void {
  io.out(`${name} at ${new Date(s.sampledAt).toISOString()}`);
  io.out(`  cpu     ${num(s.cpu.percent, ' %', 1)}  load ${s.cpu.load.join(' ')}${s.cpuPowerW !== null ? `  package ${num(s.cpuPowerW, ' W', 1)}` : ''}`);
  io.out(`  memory  ${formatBytes(s.memory.usedBytes)} / ${formatBytes(s.memory.totalBytes)}  swap ${formatBytes(s.memory.swapUsedBytes)} / ${formatBytes(s.memory.swapTotalBytes)}`);
  for (const d of s.disks) io.out(`  disk    ${d.path}  ${formatBytes(d.usedBytes)} / ${formatBytes(d.totalBytes)}`);
  if (s.gpuError) io.out(`  gpu     no data: ${s.gpuError}`);
  for (const g of s.gpus) {
    io.out(
      `  gpu ${g.index}   ${g.name}  ${num(g.utilPercent, ' %')}  ${formatBytes(g.memUsedBytes)} / ${formatBytes(g.memTotalBytes)}  ${num(g.tempC, ' C')}  ${num(g.powerW, ' W')} / ${num(g.powerLimitW, ' W')}`,
    );
  }
  for (const p of s.gpuProcesses) io.out(`  proc    ${p.pid} ${p.processName} on ${p.gpuUuid}  ${formatBytes(p.usedMemoryBytes)}`);
}

export async function metricsCommand(args: string[], io: CliIo, open: Open): Promise<number> {
  const { values, positionals } = parse(args, {});
  if (positionals.length !== 1) throw new UsageError('metrics takes exactly one host NAME.');
  const name = positionals[0]!;
  const fleet = open(values.home);
  const status = await fleet.checkAgent(name);
  const sample = await fleet.getLatestMetrics(name);
  if (!sample) {
    io.err(`fleetwake: no metrics from ${name}: agent ${status.state}${status.message ? ` (${status.message})` : ''}. Install it with: fleetwake agent deploy ${name}`);
    return EXIT_FAILED;
  }
  if (values.json) io.out(JSON.stringify(sample, null, 2));
  else printSample(name, sample, io);
  return EXIT_OK;
}
