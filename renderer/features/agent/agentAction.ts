import type { AgentState } from '../../../preload/api.js';
import { deployAgent, upgradeAgent } from './actions.js';

export interface AgentAction {
  label: 'Install agent' | 'Upgrade agent' | 'Retry';
  title: string;
  run: () => Promise<void>;
}

/** The one agent action that fits the agent's state (none while installing or running). */
export function agentActionFor(name: string, state: AgentState): AgentAction | null {
  switch (state) {
    case 'not-installed':
      return { label: 'Install agent', title: 'Install fleetwake-agent on this server (sudo if available, else user mode)', run: () => deployAgent(name) };
    case 'outdated':
      return { label: 'Upgrade agent', title: 'Replace the agent with the version bundled with this app', run: () => upgradeAgent(name) };
    case 'unreachable':
      return { label: 'Retry', title: 'Deploy the agent again: reinstalls the files and restarts the service', run: () => deployAgent(name) };
    default:
      return null;
  }
}
