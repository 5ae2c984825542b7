/** `suspend status|enable|disable|now`: the idle engine's state and switches, through the daemon. */
import { clockText } from '../idle/engine.js';
import { YAML_KEYS } from '../idle/settings.js';
import type { IdleStatus } from '../protocol.js';
import { rpcCall } from '../rpc/socket.js';
import { clientPaths, connectFailure, EXIT, write, type CliIo, type Parsed } from './common.js';

const GATE_MARK = (g: IdleStatus['gates'][number]) => (g.status === 'unavailable' ? '?' : g.blocking ? 'x' : 'ok');

export function formatIdleStatus(s: IdleStatus, now = Date.now()): string {
  const at = (t: number) => new Date(t).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  const lines = [
    `state:    ${s.state}${s.idleSince !== null ? ` since ${at(s.idleSince)}` : ''}`,
    `suspend:  ${s.settings.enableSuspend ? 'enabled' : 'disabled'}${s.dryRun ? ' (dry run: the command is not run)' : ''}; command: ${s.suspendCommand.join(' ')}`,
    `next:     ${s.suspendAt === null ? 'no suspend planned' : `suspends at ${at(s.suspendAt)} (in ${clockText(Math.max(0, (s.suspendAt - now) / 1000))}) if nothing changes`}`,
    `settings: cpu < ${s.settings.cpuIdleThreshold}%, gpu < ${s.settings.gpuIdleThreshold}%, network < ${s.settings.networkThresholdBytesPerSec} B/s, ` +
      `window ${s.settings.windowSeconds} s, timeout ${s.settings.idleTimeoutSeconds} s, min ${s.settings.minSamples} samples (${s.samples} now)`,
    ...(s.locked?.length ? [`locked:   ${s.locked.map((k) => YAML_KEYS[k]).join(', ')} (by the administrator in ${s.configFile ?? 'agent.yaml'})`] : []),
    'gates:',
    ...s.gates.map((g) => `  ${GATE_MARK(g).padEnd(3)}${g.gate.padEnd(15)}${g.reason}`),
  ];
  return lines.join('\n');
}

export async function suspendCommand(parsed: Parsed, io: CliIo): Promise<number> {
  const paths = clientPaths(parsed, io);
  try {
    if (parsed.sub === 'now') {
      const r = await rpcCall<{ at: number; dryRun: boolean }>(paths.socket, 'suspend.now', {}, 10_000);
      if (parsed.json) write(io.stdout, JSON.stringify(r));
      else write(io.stdout, r.dryRun ? 'dry run: the suspend is recorded and announced, the command is not run' : 'suspending now');
      return EXIT.OK;
    }
    const status =
      parsed.sub === 'status'
        ? await rpcCall<IdleStatus>(paths.socket, 'idle.status', {}, 10_000)
        : await rpcCall<IdleStatus>(paths.socket, 'idle.configure', { settings: { enableSuspend: parsed.sub === 'enable' } }, 10_000);
    if (parsed.json) write(io.stdout, JSON.stringify(status));
    else write(io.stdout, `${parsed.sub === 'status' ? '' : `suspend when idle ${parsed.sub}d\n`}${formatIdleStatus(status)}`);
    return EXIT.OK;
  } catch (err) {
    const { code, notRunning } = connectFailure(err);
    const reason = (err as Error).message;
    if (parsed.json) write(io.stdout, JSON.stringify({ ok: false, running: !notRunning, reason, errno: code }));
    write(io.stderr, `fleetwake-agent: ${notRunning ? `the agent is not running: ${reason}` : reason}`);
    return notRunning ? EXIT.NOT_RUNNING : EXIT.FAILURE;
  }
}

