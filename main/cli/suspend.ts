/** `fleetwake suspend NAME status | now | enable | disable`. */
import type { HostIdle } from '../../preload/api.js';
import { EXIT_FAILED, EXIT_OK, parse, UsageError, type CliIo, type Open } from './common.js';

function idleJson(idle: HostIdle) {
  const s = idle.status;
  if (!s) return { name: idle.name, state: null, gates: [], message: idle.message ?? null };
  return {
    name: idle.name,
    state: s.state,
    gates: s.gates.map((g) => ({ gate: g.gate, status: g.status, blocking: g.blocking, reason: g.reason })),
    blocking: s.gates.filter((g) => g.blocking).map((g) => g.gate),
    idleSince: s.idleSince,
    suspendAt: s.suspendAt,
    enabled: s.settings.enableSuspend,
    dryRun: s.dryRun,
    settings: s.settings,
    suspendCommand: s.suspendCommand,
    samples: s.samples,
    locked: s.locked ?? [],
    configFile: s.configFile ?? null,
  };
}

/** 750 s -> "12:30", as the agent and the app say it. */
function mmss(seconds: number): string {
  const s = Math.floor(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

function printIdle(idle: HostIdle, io: CliIo): void {
  const s = idle.status;
  if (!s) {
    io.out(`${idle.name}: no idle status (${idle.message ?? 'agent not reachable'})`);
    return;
  }
  const left = s.suspendAt === null ? 0 : Math.max(0, (s.suspendAt - Date.now()) / 1000);
  const when = s.suspendAt ? `; suspends in ${mmss(left)} (${new Date(s.suspendAt).toLocaleTimeString()}) if nothing changes` : '';
  io.out(`${idle.name}: ${s.state}${s.settings.enableSuspend ? '' : ' (suspend disabled)'}${s.dryRun ? ' (dry run)' : ''}${when}`);
  for (const g of s.gates) io.out(`  ${g.blocking ? 'busy ' : g.status === 'unavailable' ? 'n/a  ' : 'clear'}  ${g.gate.padEnd(14)} ${g.reason}`);
  if (s.locked?.length) io.out(`  locked by the administrator in ${s.configFile ?? 'agent.yaml'}: ${s.locked.join(', ')}`);
}

export async function suspendCommand(args: string[], io: CliIo, open: Open): Promise<number> {
  const { values, positionals } = parse(args, {});
  const [name, sub] = positionals;
  const SUBS = ['status', 'now', 'enable', 'disable'];
  if (!name || !sub || positionals.length !== 2 || !SUBS.includes(sub)) {
    throw new UsageError(
      sub && !SUBS.includes(sub) ? `Unknown suspend command "${sub}". Use status, now, enable or disable.` : 'suspend takes a host NAME and one of status, now, enable, disable, e.g. "fleetwake suspend gpu1 status".',
    );
  }
  const fleet = open(values.home);
  fleet.getHost(name);
  if (sub === 'now') {
    const r = await fleet.suspendHost(name);
    if (values.json) io.out(JSON.stringify({ name, suspending: !r.dryRun, dryRun: r.dryRun, at: new Date(r.at).toISOString() }, null, 2));
    else if (r.dryRun) io.out(`${name}: dry run (suspend.dry_run in its agent.yaml): the agent recorded and announced a suspend but did not run the command.`);
    else io.out(`${name} is suspending. Wake it with: fleetwake wake ${name}`);
    return EXIT_OK;
  }
  const idle = sub === 'status' ? await fleet.getIdleStatus(name) : await fleet.configureIdle(name, { enableSuspend: sub === 'enable' });
  if (values.json) io.out(JSON.stringify(idleJson(idle), null, 2));
  else printIdle(idle, io);
  if (!idle.status) io.err(`fleetwake: ${idle.message ?? `no idle status from ${name}`}`);
  return idle.status ? EXIT_OK : EXIT_FAILED;
}
