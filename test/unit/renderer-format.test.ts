import { describe, expect, it } from 'vitest';
import { toHistoryPoint, type DeployProgress, type MetricsSample } from '../../preload/api.js';
import { currentRun } from '../../renderer/features/agent/agent.js';
import { toChartRows } from '../../renderer/features/metrics/chartRows.js';
import { DASH, fmtPercent, fmtPower, fmtTemp, fmtUsedTotal, rangeTicks, shortGpuName } from '../../renderer/ui/format.js';
import { gpuSample, metricsSample } from '../support/builders.js';

describe('renderer metric formatting', () => {
  it('shortens GPU names the way nvidia-smi spells them', () => {
    expect(shortGpuName('NVIDIA H100 80GB HBM3')).toBe('H100 80GB HBM3');
    expect(shortGpuName('NVIDIA GeForce RTX 4080 SUPER')).toBe('RTX 4080 SUPER');
    expect(shortGpuName('NVIDIA L40S')).toBe('L40S');
    expect(shortGpuName('Tesla V100-SXM2-32GB')).toBe('V100-SXM2-32GB');
    expect(shortGpuName('NVIDIA')).toBe('NVIDIA');
  });

  it('shows a missing value as a dash, never as 0', () => {
    expect(fmtPercent(null)).toBe(DASH);
    expect(fmtPercent(0)).toBe('0%');
    expect(fmtTemp(null)).toBe(DASH);
    expect(fmtPower(null, 700)).toBe(`${DASH} / 700 W`);
    expect(fmtPower(612.4, 700)).toBe('612 / 700 W');
    expect(fmtUsedTotal(null, null)).toBe(DASH);
    expect(fmtUsedTotal(71.25 * 1024 ** 3, 81559 * 1024 ** 2)).toBe('71.3 / 79.6 GiB');
    expect(fmtUsedTotal(982 * 1024 ** 3, 2015 * 1024 ** 3)).toBe('982 / 2015 GiB');
  });

  it('puts axis ticks on round times inside the range', () => {
    const end = Date.UTC(2025, 0, 1, 12, 7);
    const ticks = rangeTicks(end - 3600_000, end, '1h');
    expect(ticks.length).toBeGreaterThanOrEqual(5);
    for (const t of ticks) {
      expect(t).toBeGreaterThanOrEqual(end - 3600_000);
      expect(t % 600_000).toBe(0);
    }
  });
});

describe('deploy runs', () => {
  const ev = (step: string, state: DeployProgress['state'], at: number, operation: DeployProgress['operation'] = 'deploy'): DeployProgress => ({
    name: 'a',
    operation,
    step,
    state,
    message: `${step} ${state}`,
    at,
  });

  it('folds events into one row per step, latest state wins', () => {
    const run = currentRun([ev('upload', 'running', 1), ev('upload', 'done', 2), ev('config', 'running', 3)]);
    expect(run?.state).toBe('running');
    expect(run?.steps.map((s) => [s.step, s.state])).toEqual([
      ['upload', 'done'],
      ['config', 'running'],
    ]);
    expect(run?.steps[0]?.startedAt).toBe(1);
  });

  it('starts a new run on another operation or a restarted step', () => {
    const log = [ev('upload', 'running', 1), ev('upload', 'failed', 2), ev('upload', 'running', 10), ev('upload', 'done', 11)];
    expect(currentRun(log)?.state).toBe('done');
    expect(currentRun(log)?.startedAt).toBe(10);
    const other = [...log, ev('service', 'done', 20, 'uninstall')];
    expect(currentRun(other)?.operation).toBe('uninstall');
    expect(currentRun([])).toBeNull();
  });
});

describe('chart rows', () => {
  const s = (t: number, util: number | null): MetricsSample =>
    metricsSample(t, {
      cpu: { percent: 50, perCore: [] },
      memory: { totalBytes: 10, usedBytes: 5, availableBytes: 5 },
      network: [{ iface: 'eth0', rxBytesPerSec: 3, txBytesPerSec: 4 }],
      gpus: [gpuSample(0, { uuid: 'GPU-x', name: 'NVIDIA H200', utilPercent: util, memUsedBytes: 1, memTotalBytes: 2, tempC: 40, powerW: 100, powerLimitW: 700 })],
    });

  it('keeps nulls as nulls (MIG utilisation) and breaks the line over gaps', () => {
    const rows = toChartRows([toHistoryPoint(s(0, null)), toHistoryPoint(s(10_000, 50)), toHistoryPoint(s(100_000, 60))], [0], 30_000);
    expect(rows).toHaveLength(4);
    expect(rows[0]!.g0u).toBeNull();
    expect(rows[0]!.rx).toBe(3);
    expect(rows[0]!.cpuW).toBeNull();
    expect(rows[2]!.cpu).toBeNull(); // the gap row
    expect(rows[3]!.g0u).toBe(60);
  });
});
