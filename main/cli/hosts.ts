/** `fleetwake hosts add | ls | rm | import-ssh-config`. */
import type { HostInput, HostView, ImportPreview } from '../../preload/api.js';
import { FleetError } from '../core/errors.js';
import { EXIT_FAILED, EXIT_OK, parse, table, UsageError, type CliIo, type Open } from './common.js';
import { askLine } from './terminal.js';

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
    knownHostsFiles: h.knownHostsFiles,
  };
}

export async function hostsCommand(args: string[], io: CliIo, open: Open): Promise<number> {
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
        'known-hosts': { type: 'string', multiple: true },
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
      if (values['known-hosts'] !== undefined) input.knownHostsFiles = values['known-hosts'];
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
