import type { AgentState } from '../../../preload/api.js';
import { checkAgent, deployAgent, upgradeAgent } from './actions.js';

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
      // Reinstalling (which may ask for sudo) is its own action on the host page.
      return { label: 'Retry', title: 'Reach the agent again (starts it if it is not running); nothing is reinstalled', run: () => checkAgent(name) };
    default:
      return null;
  }
}
