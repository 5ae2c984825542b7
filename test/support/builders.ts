/**
 * Builders for the contract's data shapes, so a test names only the fields it is about and a new
 * field in the contract is added here once instead of in every test file.
 */
import type { HostRecord } from '../../main/hosts/types.js';
import type { GpuSample, HostStatus, HostView, MetricsSample } from '../../preload/api.js';

export function gpuSample(index: number, overrides: Partial<GpuSample> = {}): GpuSample {
  return {
    index,
    uuid: `GPU-${index}`,
    name: 'GPU',
    utilPercent: 0,
    memUsedBytes: 0,
    memTotalBytes: 1,
    tempC: 30,
    powerW: null,
    powerLimitW: 300,
    ...overrides,
  };
}

type SampleOverrides = Omit<Partial<MetricsSample>, 'cpu' | 'memory'> & {
  cpu?: Partial<MetricsSample['cpu']>;
  memory?: Partial<MetricsSample['memory']>;
};

/** A metrics sample taken at `t`: an idle box with no disks, no network and no GPUs unless given. */
export function metricsSample(t: number, overrides: SampleOverrides = {}): MetricsSample {
  const { cpu, memory, ...rest } = overrides;
  return {
    sampledAt: t,
    cpu: { percent: 5, perCore: [5], load: [0, 0, 0], ...cpu },
    memory: { totalBytes: 1, usedBytes: 1, availableBytes: 0, swapTotalBytes: 0, swapUsedBytes: 0, ...memory },
    disks: [],
    network: [],
    uptimeSeconds: 1,
    gpus: [],
    gpuProcesses: [],
    gpuError: null,
    cpuPowerW: null,
    ...rest,
  };
}

/** A host as the store keeps it: reachable at `<name>.lan:22` as `ml`, nothing else set. */
export function hostRecord(name: string, overrides: Partial<HostRecord> = {}): HostRecord {
  return {
    name,
    host: `${name}.lan`,
    port: 22,
    user: 'ml',
    identityFile: null,
    passwordEnv: null,
    jump: null,
    mac: null,
    wolAddress: null,
    wolPort: null,
    knownHostsFiles: [],
    ...overrides,
  };
}

/** A stored host as the fronts see it: a hostRecord with no secret kept. */
export function hostView(name: string, overrides: Partial<HostView> = {}): HostView {
  return { ...hostRecord(name), hasStoredPassword: false, hasStoredPassphrase: false, ...overrides };
}

export function hostStatus(name: string, state: HostStatus['state'], overrides: Partial<HostStatus> = {}): HostStatus {
  return { name, state, since: 0, ...overrides };
}
