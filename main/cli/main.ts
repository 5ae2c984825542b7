import { homedir } from 'node:os';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { AgentStatus, HostIdle, HostInput, HostStatus, HostView, ImportPreview, MetricsSample, WakeOptions } from '../../preload/api.js';
import { FleetError, toApiError } from '../core/errors.js';
import { createFleet, type Fleet } from '../fleet.js';
import { MemorySecretStore } from '../secrets/memory.js';
import { resolveDataDir } from '../store/data-dir.js';
import { openFleetStore } from '../store/fleet-store.js';
import { askHidden, askLine, type Terminal } from './terminal.js';
import { USAGE } from './usage.js';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export interface CliIo {
  out: (s: string) => void;
  err: (s: string) => void;
  terminal: Terminal | null;
  env: NodeJS.ProcessEnv;
  version: string;
}

class UsageError extends Error {}

const GLOBAL_OPTIONS = {
  home: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

function parse<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O) {
  try {
    return parseArgs({ args, options: { ...GLOBAL_OPTIONS, ...options }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/^TypeError \[\w+\]: /, ''));
  }
}

const STATE_LABEL: Record<HostStatus['state'], string> = {
  connecting: 'connecting',
  online: 'online',
  offline: 'offline',
  'auth-failed': 'auth failed',
  'host-key-unknown': 'host key unknown',
  'host-key-changed': 'HOST KEY CHANGED',
  error: 'error',
  asleep: 'asleep',
  waking: 'waking',
};

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

function hostJson(h: HostView) {
  return {
    name: h.name,
    host: h.host,
    port: h.port,
    user: h.user,
    identityFile: h.identityFile,
    passwordEnv: h.passwordEnv,
    jump: h.jump,
    mac: h.mac,
    wolAddress: h.wolAddress,
    wolPort: h.wolPort,
  };
}

function statusJson(s: HostStatus) {
  const o: { name: string; state: string; error?: string; fingerprint?: string; keyType?: string; expectedFingerprint?: string } = {
    name: s.name,
    state: s.state,
  };
  if (s.error) o.error = s.error;
  if (s.state === 'host-key-unknown' || s.state === 'host-key-changed') {
    if (s.fingerprint) o.fingerprint = s.fingerprint;
    if (s.keyType) o.keyType = s.keyType;
    if (s.expectedFingerprint) o.expectedFingerprint = s.expectedFingerprint;
  }
  return o;
}

/** Runs one CLI invocation against the shared core; returns the exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let fleet: Fleet | undefined;
  try {
    const [group, ...rest] = argv;
    if (!group || group === '--help' || group === '-h' || group === 'help') {
      io.out(USAGE);
      return group ? EXIT_OK : EXIT_USAGE;
    }
    if (group === '--version' || group === 'version') {
      io.out(io.version);
      return EXIT_OK;
    }

    const open = (home: string | undefined, keepQuiet = false) => {
      const dir = resolveDataDir(home, io.env);
      const store = openFleetStore(dir);
      if (!keepQuiet) for (const p of store.problems) io.err(`warning: ${p}`);
      fleet = createFleet({
        store,
        secrets: new MemorySecretStore(),
        appVersion: io.version,
        homeDir: io.env.HOME ?? homedir(),
        keepConnected: false,
        env: io.env,
      });
      if (io.terminal) attachPrompts(fleet, io.terminal, io);
      return fleet;
    };

    switch (group) {
      case 'hosts':
        return await hostsCommand(rest, io, open);
      case 'trust':
        return await trustCommand(rest, io, open);
      case 'status':
        return await statusCommand(rest, io, open);
      case 'agent':
        return await agentCommand(rest, io, open);
      case 'metrics':
        return await metricsCommand(rest, io, open);
      case 'wake':
        return await wakeCommand(rest, io, open);
      case 'suspend':
        return await suspendCommand(rest, io, open);
      default:
        throw new UsageError(`Unknown command "${group}".`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`fleetwake: ${e.message}\nRun "fleetwake --help" for usage.`);
      return EXIT_USAGE;
    }
    const err = toApiError(e);
    io.err(`fleetwake: ${err.message}`);
    return err.code === 'invalid-input' || err.code === 'conflict' || err.code === 'not-found' ? EXIT_USAGE : EXIT_FAILED;
  } finally {
    await (fleet as Fleet | undefined)?.close();
  }
}

type Open = (home: string | undefined) => Fleet;

function attachPrompts(fleet: Fleet, terminal: Terminal, io: CliIo): void {
  fleet.on('prompt', (p) => {
    void (async () => {
      try {
        if (p.instructions) io.err(p.instructions);
        const answers: string[] = [];
        for (const q of p.prompts) answers.push(q.echo ? await askLine(terminal, `${q.text}: `) : await askHidden(terminal, `${q.text}: `));
        await fleet.answerPrompt(p.id, answers, false);
      } catch {
        await fleet.answerPrompt(p.id, null, false).catch(() => undefined);
      }
    })();
  });
}

async function hostsCommand(args: string[], io: CliIo, open: Open): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'add': {
      const { values, positionals } = parse(rest, {
        host: { type: 'string' },
        port: { type: 'string' },
        user: { type: 'string' },
        identity: { type: 'string' },
        'password-env': { type: 'string' },
        jump: { type: 'string' },
        mac: { type: 'string' },
        'wol-address': { type: 'string' },
        'wol-port': { type: 'string' },
      });
      if (positionals.length !== 1) throw new UsageError('hosts add takes exactly one NAME, e.g. "fleetwake hosts add gpu1 --host 10.0.0.5".');
      if (values.host === undefined) throw new FleetError('invalid-input', 'Give the server address with --host (a hostname, IPv4 or IPv6 address).', 'host');
      const input: HostInput = { name: positionals[0]!, host: values.host };
      if (values.port !== undefined) input.port = values.port;
      if (values.user !== undefined) input.user = values.user;
      if (values.identity !== undefined) input.identityFile = values.identity;
      if (values['password-env'] !== undefined) input.passwordEnv = values['password-env'];
      if (values.jump !== undefined) input.jump = values.jump;
      if (values.mac !== undefined) input.mac = values.mac;
      if (values['wol-address'] !== undefined) input.wolAddress = values['wol-address'];
      if (values['wol-port'] !== undefined) input.wolPort = values['wol-port'];
      const fleet = open(values.home);
      const host = await fleet.addHost(input);
      if (values.json) io.out(JSON.stringify(hostJson(host), null, 2));
      else io.out(`Added ${host.name} (${host.user}@${host.host}:${host.port}). Next: fleetwake trust ${host.name}`);
      return EXIT_OK;
    }
    case 'ls':
    case 'list': {
      const { values, positionals } = parse(rest, {});
      if (positionals.length) throw new UsageError('hosts ls takes no arguments.');
      const hosts = await open(values.home).listHosts();
      if (values.json) {
        io.out(JSON.stringify(hosts.map(hostJson), null, 2));
      } else if (!hosts.length) {
        io.out('No hosts yet. Add one with "fleetwake hosts add NAME --host ADDRESS" or import ~/.ssh/config.');
      } else {
        io.out(
          table([
            ['NAME', 'ADDRESS', 'USER', 'JUMP', 'MAC'],
            ...hosts.map((h) => [h.name, `${h.host}:${h.port}`, h.user, h.jump ?? '-', h.mac ?? '-']),
          ]),
        );
      }
      return EXIT_OK;
    }
    case 'rm':
    case 'remove': {
      const { values, positionals } = parse(rest, {});
      if (positionals.length !== 1) throw new UsageError('hosts rm takes exactly one NAME.');
      await open(values.home).removeHost(positionals[0]!);
      if (!values.json) io.out(`Removed ${positionals[0]}.`);
      return EXIT_OK;
    }
    case 'import-ssh-config': {
      const { values, positionals } = parse(rest, {
        file: { type: 'string' },
        yes: { type: 'boolean', short: 'y' },
        'dry-run': { type: 'boolean' },
      });
      if (positionals.length) throw new UsageError(`Unexpected argument "${positionals[0]}". Pick hosts in the app, or edit the file.`);
      const fleet = open(values.home);
      const preview = await fleet.previewSshConfigImport(values.file);
      const importable = preview.candidates.filter((c) => !c.errors.length && !c.exists);
      if (values.json && values['dry-run']) {
        io.out(JSON.stringify(preview, null, 2));
        return EXIT_OK;
      }
      if (!values.json) printPreview(preview, io);
      if (values['dry-run']) return EXIT_OK;
      if (!importable.length) {
        if (!values.json) io.out('Nothing to import.');
        else io.out(JSON.stringify({ added: [], failed: [] }, null, 2));
        return EXIT_OK;
      }
      if (!values.yes) {
        if (!io.terminal) throw new UsageError('Review the hosts above, then run again with --yes to import them (no terminal to ask on).');
        const answer = (await askLine(io.terminal, `Import ${importable.length} host(s)? [y/N] `)).trim().toLowerCase();
        if (answer !== 'y' && answer !== 'yes') {
          io.out('Nothing was imported.');
          return EXIT_OK;
        }
      }
      const result = await fleet.importHosts(importable.map((c) => c.input));
      if (values.json) io.out(JSON.stringify({ added: result.added.map(hostJson), failed: result.failed }, null, 2));
      else {
        io.out(`Imported ${result.added.length} host(s): ${result.added.map((h) => h.name).join(', ') || '-'}.`);
        for (const f of result.failed) io.err(`  ${f.name}: ${f.error.message}`);
      }
      return result.failed.length ? EXIT_FAILED : EXIT_OK;
    }
    default:
      throw new UsageError(sub ? `Unknown hosts command "${sub}". Use add, ls, rm or import-ssh-config.` : 'hosts needs a command: add, ls, rm or import-ssh-config.');
  }
}

function printPreview(preview: ImportPreview, io: CliIo): void {
  io.out(`From ${preview.file}:`);
  if (!preview.candidates.length) io.out('  (no concrete Host entries)');
  for (const c of preview.candidates) {
    const i = c.input;
    const where = `${i.user ? `${i.user}@` : ''}${i.host}${i.port ? `:${i.port}` : ''}${i.jump ? ` via ${i.jump}` : ''}`;
    const mark = c.exists ? 'exists ' : c.errors.length ? 'invalid' : 'new    ';
    io.out(`  ${mark}  ${c.alias.padEnd(20)} ${where}`);
    for (const e of c.errors) io.out(`           ${e.field}: ${e.message}`);
  }
  for (const w of preview.warnings) io.err(`warning: ${w}`);
}

async function trustCommand(args: string[], io: CliIo, open: Open): Promise<number> {
  const { values, positionals } = parse(args, { fingerprint: { type: 'string' }, yes: { type: 'boolean', short: 'y' } });
  if (positionals.length !== 1) throw new UsageError('trust takes exactly one NAME.');
  if (values.yes && values.fingerprint) throw new UsageError('Use either --yes or --fingerprint, not both.');
  const name = positionals[0]!;
  const fleet = open(values.home);
  fleet.getHost(name);

  let fingerprint = values.fingerprint;
  if (fingerprint === undefined) {
    const status = await fleet.connectHost(name);
    if (status.state === 'online') {
      io.out(`${name}'s host key is already trusted; ${name} is online.`);
      return EXIT_OK;
    }
    if (status.state !== 'host-key-unknown' && status.state !== 'host-key-changed') {
      io.err(`fleetwake: could not get ${name}'s host key: ${status.error ?? status.state}`);
      return EXIT_FAILED;
    }
    if (status.state === 'host-key-changed') {
      io.err(`WARNING: ${status.error}`);
      io.err(`To accept the new key anyway, run: fleetwake trust ${name} --fingerprint ${status.fingerprint}`);
      return EXIT_FAILED;
    }
    io.out(`${name} presents a ${status.keyType} key with fingerprint\n  ${status.fingerprint}`);
    if (!values.yes) {
      if (!io.terminal) {
        io.err(`fleetwake: no terminal to confirm on. Check the fingerprint on the server (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub), then run: fleetwake trust ${name} --fingerprint ${status.fingerprint}`);
        return EXIT_USAGE;
      }
      const answer = (await askLine(io.terminal, 'Trust this key? [y/N] ')).trim().toLowerCase();
      if (answer !== 'y' && answer !== 'yes') {
        io.out('Nothing was trusted.');
        return EXIT_FAILED;
      }
    }
    fingerprint = status.fingerprint!;
  }
  const after = await fleet.trustHostKey(name, fingerprint);
  if (values.json) io.out(JSON.stringify(statusJson(after), null, 2));
  else io.out(`Trusted ${fingerprint} for ${name}; ${name} is ${STATE_LABEL[after.state]}${after.error ? `: ${after.error}` : ''}.`);
  return EXIT_OK;
}

async function statusCommand(args: string[], io: CliIo, open: Open): Promise<number> {
  const { values, positionals } = parse(args, {});
  const fleet = open(values.home);
  const statuses = await fleet.checkHosts(positionals);
  if (values.json) {
    io.out(JSON.stringify(statuses.map(statusJson), null, 2));
  } else if (!statuses.length) {
    io.out('No hosts yet. Add one with "fleetwake hosts add NAME --host ADDRESS".');
  } else {
    io.out(table([['NAME', 'STATE', 'DETAIL'], ...statuses.map((s) => [s.name, STATE_LABEL[s.state], s.state === 'online' ? '' : (s.error ?? '')])]));
  }
  return statuses.every((s) => s.state === 'online') ? EXIT_OK : EXIT_FAILED;
}

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

async function agentCommand(args: string[], io: CliIo, open: Open): Promise<number> {
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

function formatBytes(n: number | null): string {
  if (n === null) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i ? 1 : 0)} ${units[i]}`;
}

const num = (v: number | null, unit: string, digits = 0) => (v === null ? '-' : `${v.toFixed(digits)}${unit}`);

function printSample(name: string, s: MetricsSample, io: CliIo): void {
  io.out(`${name} at ${new Date(s.sampledAt).toISOString()}`);
  io.out(`  cpu     ${num(s.cpu.percent, ' %', 1)}  load ${s.cpu.load.join(' ')}${s.cpuPowerW !== null ? `  package ${num(s.cpuPowerW, ' W', 1)}` : ''}`);
  io.out(`  memory  ${formatBytes(s.memory.usedBytes)} / ${formatBytes(s.memory.totalBytes)}  swap ${formatBytes(s.memory.swapUsedBytes)} / ${formatBytes(s.memory.swapTotalBytes)}`);
  for (const d of s.disks) io.out(`  disk    ${d.path}  ${formatBytes(d.usedBytes)} / ${formatBytes(d.totalBytes)}`);
  if (s.gpuError) io.out(`  gpu     no data: ${s.gpuError}`);
  for (const g of s.gpus) {
    io.out(
      `  gpu ${g.index}   ${g.name}  ${num(g.utilPercent, ' %')}  ${formatBytes(g.memUsedBytes)} / ${formatBytes(g.memTotalBytes)}  ${num(g.tempC, ' C')}  ${num(g.powerW, ' W')} / ${num(g.powerLimitW, ' W')}`,
    );
  }
  for (const p of s.gpuProcesses) io.out(`  proc    ${p.pid} ${p.processName} on ${p.gpuUuid}  ${formatBytes(p.usedMemoryBytes)}`);
}

async function metricsCommand(args: string[], io: CliIo, open: Open): Promise<number> {
  const { values, positionals } = parse(args, {});
  if (positionals.length !== 1) throw new UsageError('metrics takes exactly one host NAME.');
  const name = positionals[0]!;
  const fleet = open(values.home);
  const status = await fleet.checkAgent(name);
  const sample = await fleet.getLatestMetrics(name);
  if (!sample) {
    io.err(`fleetwake: no metrics from ${name}: agent ${status.state}${status.message ? ` (${status.message})` : ''}. Install it with: fleetwake agent deploy ${name}`);
    return EXIT_FAILED;
  }
  if (values.json) io.out(JSON.stringify(sample, null, 2));
  else printSample(name, sample, io);
  return EXIT_OK;
}

const WAKE_MARK = { 'packet-sent': '->', 'network-up': 'ok', 'ssh-up': 'ok', 'agent-up': 'ok', failed: '!!' } as const;

async function wakeCommand(args: string[], io: CliIo, open: Open): Promise<number> {
  const { values, positionals } = parse(args, { wait: { type: 'boolean' }, timeout: { type: 'string' }, via: { type: 'string' } });
  if (positionals.length !== 1) throw new UsageError('wake takes exactly one host NAME, e.g. "fleetwake wake gpu1 --wait".');
  if (values.timeout !== undefined && !values.wait) throw new UsageError('--timeout only applies with --wait.');
  const name = positionals[0]!;
  const options: WakeOptions = { wait: !!values.wait };
  if (values.timeout !== undefined) {
    const t = Number(values.timeout);
    if (!/^\d+(\.\d+)?$/.test(values.timeout.trim()) || !Number.isFinite(t)) {
      throw new FleetError('invalid-input', `--timeout must be a number of seconds (got "${values.timeout}").`, 'timeoutSeconds');
    }
    options.timeoutSeconds = t;
  }
  if (values.via !== undefined) options.via = values.via;
  const fleet = open(values.home);
  fleet.getHost(name);
  const steps: { step: string; message: string; at: number }[] = [];
  fleet.on('wake-progress', (p) => {
    if (p.name !== name) return;
    steps.push({ step: p.step, message: p.message, at: p.at });
    io.err(`[${WAKE_MARK[p.step]}] ${p.step}: ${p.message}`);
  });
  const r = await fleet.wakeHost(name, options);
  if (values.json) io.out(JSON.stringify({ ...r, steps }, null, 2));
  else if (values.wait) io.out(`${name} is ${STATE_LABEL[r.state]} (${r.seconds} s after the magic packet).`);
  else io.out(`Magic packet sent${r.sentVia === 'local' ? '' : ` through ${r.sentVia}`}; ${name} is waking. Add --wait to wait for it.`);
  return EXIT_OK;
}

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
}

async function suspendCommand(args: string[], io: CliIo, open: Open): Promise<number> {
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
