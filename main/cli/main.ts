/** The `fleetwake` CLI: one invocation, dispatched to its command group (one file each). */
import { homedir } from 'node:os';
import { toApiError } from '../core/errors.js';
import { createFleet, type Fleet } from '../fleet.js';
import { MemorySecretStore } from '../secrets/memory.js';
import { resolveDataDir } from '../store/data-dir.js';
import { openFleetStore } from '../store/fleet-store.js';
import { agentCommand } from './agent.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError, type CliIo, type Open } from './common.js';
import { hostsCommand } from './hosts.js';
import { metricsCommand } from './metrics.js';
import { statusCommand } from './status.js';
import { suspendCommand } from './suspend.js';
import { askHidden, askLine, type Terminal } from './terminal.js';
import { trustCommand } from './trust.js';
import { USAGE } from './usage.js';
import { wakeCommand } from './wake.js';

export { EXIT_FAILED, EXIT_OK, EXIT_USAGE, type CliIo };

/** Command groups: `fleetwake GROUP ARGS...` runs COMMANDS[GROUP](ARGS). */
const COMMANDS: Record<string, (args: string[], io: CliIo, open: Open) => Promise<number>> = {
  hosts: hostsCommand,
  trust: trustCommand,
  status: statusCommand,
  agent: agentCommand,
  metrics: metricsCommand,
  wake: wakeCommand,
  suspend: suspendCommand,
};

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

    if (!Object.hasOwn(COMMANDS, group)) throw new UsageError(`Unknown command "${group}".`);
    return await COMMANDS[group]!(rest, io, open);
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
