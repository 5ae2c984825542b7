/** `fleetwake trust NAME [--yes | --fingerprint FP]`: accept a host key. */
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, parse, STATE_LABEL, statusJson, UsageError, type CliIo, type Open } from './common.js';
import { askLine } from './terminal.js';

export async function trustCommand(args: string[], io: CliIo, open: Open): Promise<number> {
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
