import type { AgentState, DeployOperation, DeployProgress } from '../../../preload/api.js';

export interface AgentStateInfo {
  label: string;
  tone: 'ok' | 'busy' | 'idle' | 'warn' | 'danger';
}

export const AGENT_STATE_INFO: Record<AgentState, AgentStateInfo> = {
  unknown: { label: 'checking', tone: 'idle' },
  'not-installed': { label: 'not installed', tone: 'idle' },
  installing: { label: 'installing', tone: 'busy' },
  running: { label: 'running', tone: 'ok' },
  outdated: { label: 'outdated', tone: 'warn' },
  unreachable: { label: 'unreachable', tone: 'danger' },
};

export const OPERATION_LABEL: Record<DeployOperation, { running: string; done: string; failed: string }> = {
  deploy: { running: 'Installing agent', done: 'Agent installed', failed: 'Install failed' },
  upgrade: { running: 'Upgrading agent', done: 'Agent upgraded', failed: 'Upgrade failed' },
  uninstall: { running: 'Uninstalling agent', done: 'Agent uninstalled', failed: 'Uninstall failed' },
};

export interface DeployStep {
  step: string;
  state: DeployProgress['state'];
  message: string;
  startedAt: number;
  at: number;
}

export interface DeployRun {
  operation: DeployOperation;
  state: 'running' | 'done' | 'failed';
  steps: DeployStep[];
  startedAt: number;
  at: number;
}

/** How long without events before a later event starts a new run. */
const RUN_GAP_MS = 10 * 60_000;

/**
 * The latest run in a host's progress log, one row per step (its latest state), in first-seen order.
 * A run starts where the operation changes, after a long pause, or where a finished step starts again.
 */
export function currentRun(log: readonly DeployProgress[] | undefined): DeployRun | null {
  if (!log || log.length === 0) return null;
  let start = 0;
  const seen = new Map<string, DeployProgress['state']>();
  for (let i = 0; i < log.length; i++) {
    const e = log[i]!;
    const prev = i > 0 ? log[i - 1]! : undefined;
    const prevState = seen.get(e.step);
    const restarted = prevState !== undefined && prevState !== 'running' && e.state === 'running';
    if (prev && (prev.operation !== e.operation || e.at - prev.at > RUN_GAP_MS || restarted)) {
      start = i;
      seen.clear();
    }
    seen.set(e.step, e.state);
  }
  const events = log.slice(start);
  const byStep = new Map<string, DeployStep>();
  for (const e of events) {
    const prev = byStep.get(e.step);
    byStep.set(e.step, { step: e.step, state: e.state, message: e.message, startedAt: prev?.startedAt ?? e.at, at: e.at });
  }
  const steps = [...byStep.values()];
  const first = events[0]!;
  const last = events[events.length - 1]!;
  const state = steps.some((s) => s.state === 'failed')
    ? 'failed'
    : steps.some((s) => s.state === 'running')
      ? 'running'
      : 'done';
  return { operation: first.operation, state, steps, startedAt: first.at, at: last.at };
}
