/** `fleetwake status [NAME...]`: connect and report each host's state. */
import { asleepBasisText } from '../sleep/wake/idle.js';
import { EXIT_FAILED, EXIT_OK, parse, STATE_LABEL, statusJson, table, type CliIo, type Open } from './common.js';

export async function statusCommand(args: string[], io: CliIo, open: Open): Promise<number> {
  const { values, positionals } = parse(args, {});
  const fleet = open(values.home);
  const statuses = await fleet.checkHosts(positionals);
  if (values.json) {
    io.out(JSON.stringify(statuses.map(statusJson), null, 2));
  } else if (!statuses.length) {
    io.out('No hosts yet. Add one with "fleetwake hosts add NAME --host ADDRESS".');
  } else {
    io.out(table([['NAME', 'STATE', 'DETAIL'], ...statuses.map((s) => [s.name, STATE_LABEL[s.state], s.state === 'online' ? '' : s.state === 'asleep' ? asleepBasisText(s) : (s.error ?? '')])]));
  }
  return statuses.every((s) => s.state === 'online') ? EXIT_OK : EXIT_FAILED;
}
