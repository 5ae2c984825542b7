import type { AgentStatus, DeployProgress } from '../../../preload/api.js';
import { mergeEntries, sameOn } from '../../state/records.js';
import { useFleet, type FleetState } from '../../state/store.js';
import { DEPLOY_LOG_LIMIT } from './slice.js';

export { DEPLOY_LOG_LIMIT };

const AGENT_KEYS = ['state', 'since', 'message', 'version', 'mode'] as const;

const sameAgent = (a: AgentStatus, b: AgentStatus) =>
  sameOn(a, b, AGENT_KEYS) && (a.info === b.info || JSON.stringify(a.info) === JSON.stringify(b.info));

export function applyAgentStatus(status: AgentStatus): void {
  applyAgentStatuses([status]);
}

/** Apply many agent statuses in one store update (the initial load). */
export function applyAgentStatuses(list: readonly AgentStatus[]): void {
  useFleet.setState((s) => {
    const agents = mergeEntries(
      s.agents,
      list.map((st) => [st.name, st] as const),
      (prev, next) => prev.since > next.since || sameAgent(prev, next),
    );
    return agents ? { agents } : s;
  });
}

export function applyDeployProgress(p: DeployProgress): void {
  useFleet.setState((s) => {
    const prev = s.deployLog[p.name] ?? [];
    const next = prev.length >= DEPLOY_LOG_LIMIT ? [...prev.slice(prev.length - DEPLOY_LOG_LIMIT + 1), p] : [...prev, p];
    return { deployLog: { ...s.deployLog, [p.name]: next } };
  });
}

export const selectAgent = (name: string) => (s: FleetState) => s.agents[name];
export const selectDeployLog = (name: string) => (s: FleetState) => s.deployLog[name];
export const selectLatestDeployStep = (name: string) => (s: FleetState) => s.deployLog[name]?.at(-1);
