/** `fleetwake wake NAME [--wait [--timeout S]] [--via HOST]`: Wake-on-LAN. */
import type { WakeOptions } from '../../preload/api.js';
import { FleetError } from '../core/errors.js';
import { EXIT_OK, parse, STATE_LABEL, UsageError, type CliIo, type Open } from './common.js';

const WAKE_MARK = { 'packet-sent': '->', 'network-up': 'ok', 'ssh-up': 'ok', 'agent-up': 'ok', failed: '!!' } as const;

export async function wakeCommand(args: string[], io: CliIo, open: Open): Promise<number> {
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
