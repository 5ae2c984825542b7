/**
 * The agent daemon: the kernel (kernel/kernel.ts) running the features of the registry (features.ts).
 * cli/run.ts wires the real modules in; tests pass fakes and a fake clock.
 */
import { FEATURES, type DaemonDeps } from './features.js';
import { idleFeature } from './idle/feature.js';
import { AgentKernel, type KernelOptions } from './kernel/kernel.js';
import type { IdleStatus } from './protocol.js';

export { FEATURES, type DaemonDeps } from './features.js';
export { detectHostCapabilities, type HostCapabilities } from './host/feature.js';
export type { Clock } from './kernel/clock.js';
export { EXPECTED_SLEEP_LATENESS_MS, resumeGapMs } from './kernel/kernel.js';
export { readPidFile } from './kernel/pid-file.js';
export type { History, HistoryQueryResult } from './metrics/feature.js';
export type { Sampler } from './metrics/sampler.js';

export type DaemonOptions = KernelOptions<DaemonDeps>;

export class AgentDaemon extends AgentKernel<DaemonDeps> {
  constructor(opts: DaemonOptions) {
    super(opts, FEATURES);
  }

  /** The idle state as idle.status answers it (the CLI and tests read it without a connection). */
  idleStatus(): IdleStatus {
    return this.feature(idleFeature).status();
  }
}
