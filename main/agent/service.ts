import {
  HISTORY_RANGES,
  type AgentApi,
  type AgentStatus,
  type DeployOperation,
  type DeployOptions,
  type HistoryRange,
  type MetricsHistory,
  type MetricsSample,
} from '../../preload/api.js';
import type { FleetContext } from '../core/context.js';
import { FleetError } from '../core/errors.js';
import { bundledAgentVersion, defaultAgentBundle, deployAgent, uninstallAgent, upgradeAgent, type DeployContext } from '../deploy/index.js';
import type { AgentManager } from './manager.js';

const DEPLOY_MODES = ['auto', 'system', 'user'] as const;

/** The agent version this app ships, which every installed agent is compared with. */
export function bundledVersion(agentBundle: string | undefined): string {
  try {
    return bundledAgentVersion(agentBundle ?? defaultAgentBundle());
  } catch {
    // No bundle built: every installed agent reads as outdated until `npm run build` makes one.
    return 'not-built';
  }
}

/** The agent on each host: its state and metrics (from the AgentManager), and installing it over SSH. */
export class AgentService implements AgentApi {
  /** One deploy, upgrade or uninstall per host at a time. */
  private readonly operations = new Map<string, DeployOperation>();

  constructor(
    private readonly ctx: FleetContext,
    private readonly agents: AgentManager,
  ) {}

  async getAgentStatuses(): Promise<AgentStatus[]> {
    return this.agents.statuses();
  }

  /** Connect to the host and ask its agent again: the CLI (which keeps no live connections) and the UI's Retry. */
  async checkAgent(name: string): Promise<AgentStatus> {
    await this.ctx.onlineConnection(name);
    return this.agents.refresh(name);
  }

  async getLatestMetrics(name: string): Promise<MetricsSample | null> {
    this.ctx.getHost(name);
    return this.agents.latest(name);
  }

  async getMetricsHistory(name: string, range: HistoryRange): Promise<MetricsHistory> {
    this.ctx.getHost(name);
    if (!HISTORY_RANGES.includes(range)) {
      throw new FleetError('invalid-input', `History range must be one of ${HISTORY_RANGES.join(', ')} (got "${String(range)}").`, 'range');
    }
    try {
      return await this.agents.history(name, range);
    } catch (e) {
      throw new FleetError('failed', e instanceof Error ? e.message : String(e));
    }
  }

  async deployAgent(name: string, options: DeployOptions = {}): Promise<AgentStatus> {
    const mode = options?.mode ?? 'auto';
    if (!DEPLOY_MODES.includes(mode)) {
      throw new FleetError('invalid-input', `Mode must be auto, system or user (got "${String(mode)}").`, 'mode');
    }
    return this.runOperation(name, 'deploy', (ctx) => deployAgent(ctx, { mode }));
  }

  async upgradeAgent(name: string): Promise<AgentStatus> {
    return this.runOperation(name, 'upgrade', (ctx) => upgradeAgent(ctx));
  }

  async uninstallAgent(name: string, options: { purge?: boolean } = {}): Promise<AgentStatus> {
    const purge = options?.purge === true;
    return this.runOperation(name, 'uninstall', (ctx) => uninstallAgent(ctx, { purge }));
  }

  /** Deploy, upgrade and uninstall: one at a time per host, progress pushed, agent state refreshed after. */
  private async runOperation(name: string, operation: DeployOperation, run: (ctx: DeployContext) => Promise<unknown>): Promise<AgentStatus> {
    this.ctx.getHost(name);
    const busy = this.operations.get(name);
    if (busy) throw new FleetError('conflict', `An agent ${busy} is already running for ${name}; wait for it to finish.`, 'name');
    this.operations.set(name, operation);
    try {
      const conn = await this.ctx.onlineConnection(name);
      const deploy: DeployContext = {
        conn,
        hostName: name,
        onProgress: (p) => {
          this.ctx.emit('deploy-progress', { ...p, name, operation, at: Date.now() });
          if (p.state === 'running') this.agents.setInstalling(name, p.message);
        },
        askSudoPassword: async () => {
          const answer = await this.ctx.prompts.ask(name, {
            kind: 'sudo-password',
            title: `Administrator password for ${name}`,
            instructions: `Installing the agent system-wide needs sudo on ${name}. The password goes to sudo on the server once and is not stored. Cancel to install for your user only.`,
            prompts: [{ text: 'Password', echo: false }],
          });
          return answer ? (answer.answers[0] ?? '') : null;
        },
      };
      const { agentBundle, nodeCandidates } = this.ctx.deps;
      if (agentBundle) deploy.agentBundle = agentBundle;
      if (nodeCandidates) deploy.nodeCandidates = nodeCandidates;
      try {
        await run(deploy);
      } catch (e) {
        await this.agents.refresh(name).catch(() => undefined);
        throw e instanceof FleetError ? e : new FleetError('failed', e instanceof Error ? e.message : String(e));
      }
      return await this.agents.refresh(name);
    } finally {
      this.operations.delete(name);
    }
  }
}
