/** fleetwake-agent entry point (bundled to resources/agent/fleetwake-agent.cjs by scripts/build-agent.mjs). */
import { main } from './cli.js';

process.on('unhandledRejection', (reason) => {
  process.stderr.write(`${new Date().toISOString()} error unhandled rejection ${reason instanceof Error ? reason.message : String(reason)}\n`);
});
process.on('uncaughtException', (err) => {
  process.stderr.write(`${new Date().toISOString()} error uncaught exception ${err.stack ?? err.message}\n`);
  process.exit(70);
});

main(process.argv.slice(2)).then(
  (code) => {
    process.stdout.write('', () => process.exit(code));
  },
  (err: unknown) => {
    process.stderr.write(`fleetwake-agent: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
