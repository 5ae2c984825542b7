/** What unit tests of the agent daemon share: its files in a test folder, and idle checks that touch nothing real. */
import { join } from 'node:path';
import type { IdleChecks } from '../../remote-agent/idle/checks.js';
import type { AgentPaths } from '../../remote-agent/paths.js';

/** A user-mode agent's files, all inside `dir`. */
export function agentPathsIn(dir: string): AgentPaths {
  return {
    mode: 'user',
    configFile: join(dir, 'agent.yaml'),
    stateDir: join(dir, 'state'),
    socket: join(dir, 'agent.sock'),
    pidFile: join(dir, 'state', 'agent.pid'),
    logFile: join(dir, 'state', 'agent.log'),
  };
}

/** Never the real system from a unit test: no inhibitors, no logins, no Ollama, no custom check. */
export function quietIdleChecks(): IdleChecks {
  return {
    inhibit: async () => ({ status: 'clear', reason: 'none' }),
    sessions: async () => ({ status: 'clear', reason: 'none' }),
    ollama: async () => ({ status: 'unavailable', reason: 'no Ollama' }),
    custom: async () => ({ status: 'unavailable', reason: 'none configured' }),
  };
}
