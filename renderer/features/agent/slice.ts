import type { AgentStatus, DeployProgress } from '../../../preload/api.js';

/** Progress events kept per host. */
export const DEPLOY_LOG_LIMIT = 50;

export interface AgentSlice {
  /** Agent per host. Each host's object is replaced only when that host's agent changes. */
  agents: Record<string, AgentStatus>;
  /** The last DEPLOY_LOG_LIMIT deploy / upgrade / uninstall progress events per host, oldest first. */
  deployLog: Record<string, DeployProgress[]>;
}

export const agentInitial: AgentSlice = { agents: {}, deployLog: {} };
