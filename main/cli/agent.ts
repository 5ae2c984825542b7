/** `fleetwake agent deploy | status | upgrade | uninstall NAME`. */
import type { AgentStatus } from '../../preload/api.js';
import { EXIT_FAILED, EXIT_OK, parse, UsageError, type CliIo, type Open } from './common.js';

function agentJson(s: AgentStatus) {
  const o: Record<string, unknown> = {
    name: s.name,
    installed: s.state !== 'not-installed' && s.state !== 'unknown',
    running: s.state === 'running' || s.state === 'outdated',
    version: s.version ?? null,
    mode: s.mode ?? null,
    state: s.state,
  };
  if (s.message) o.message = s.message;
  return o;
}

const PROGRESS_MARK = { running: '..', done: 'ok', failed: '!!', skipped: '--' } as const;

export async function agentCommand(args: string[], io: CliIo, open: Open): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parse(rest, { mode: { type: 'string' }, purge: { type: 'boolean' } });
  if (!sub || !['deploy', 'status', 'upgrade', 'uninstall'].includes(sub)) {
    throw new UsageError(sub ? `Unknown agent command "${sub}". Use deploy, status, upgrade or uninstall.` : 'agent needs a command: deploy, status, upgrade or uninstall.');
  }
  if (positionals.length !== 1) throw new UsageError(`agent ${sub} takes exactly one host NAME.`);
  if (values.mode !== undefined && sub !== 'deploy') throw new UsageError('--mode only applies to agent deploy.');
  if (values.purge !== undefined && sub !== 'uninstall') throw new UsageError('--purge only applies to agent uninstall.');
  const name = positionals[0]!;
  const fleet = open(values.home);
  fleet.getHost(name);
  fleet.on('deploy-progress', (p) => {
    if (p.state !== 'running') io.err(`[${PROGRESS_MARK[p.state]}] ${p.step}: ${p.message}`);
  });
  let status: AgentStatus;
  switch (sub) {
    case 'status':
      status = await fleet.checkAgent(name);
      break;
    case 'deploy':
      status = await fleet.deployAgent(name, { mode: (values.mode ?? 'auto') as 'auto' });
      break;
    case 'upgrade':
      status = await fleet.upgradeAgent(name);
      break;
    default:
      status = await fleet.uninstallAgent(name, { purge: !!values.purge });
  }
  if (values.json) io.out(JSON.stringify(agentJson(status), null, 2));
  else {
    const detail = [status.version, status.mode && `${status.mode} mode`].filter(Boolean).join(', ');
    io.out(`${name}: agent ${status.state}${detail ? ` (${detail})` : ''}${status.message ? `: ${status.message}` : ''}`);
  }
  if (sub === 'uninstall') return status.state === 'not-installed' ? EXIT_OK : EXIT_FAILED;
  return status.state === 'running' ? EXIT_OK : EXIT_FAILED;
}
