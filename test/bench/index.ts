/**
 * `npm run bench [-- --only NAME[,NAME]] [-- --list]`
 *
 * Runs the registered sections against real sshd processes on loopback (started here, cleaned up
 * here), prints ONE table with p50/p90, the peer measured in the same run, ratios, targets and
 * PASS/FAIL, then exits 1 if any target was missed (or a section failed), 0 otherwise.
 */
import { spawnSync } from 'node:child_process';
import { busyFraction, cpuTimes, machineLine } from './cpu.js';
import { SECTIONS } from './sections/index.js';
import { renderTable, type TableRow } from './table.js';
import { createTestbed, type BenchTestbed } from './testbed.js';
import type { BenchContext } from './types.js';

/** Hard stop for the whole run; every loop has its own, smaller budget. */
const WATCHDOG_MS = 15 * 60_000;

function usage(): string {
  return [
    'usage: npm run bench -- [--only NAME[,NAME...]] [--list]',
    '',
    'sections:',
    ...SECTIONS.map((s) => `  ${s.name.padEnd(10)} ${s.description}`),
  ].join('\n');
}

function parseArgs(argv: string[]): { only: string[] | null; list: boolean } {
  const only: string[] = [];
  let list = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--list') list = true;
    else if (a === '--help' || a === '-h') {
      console.log(usage());
      process.exit(0);
    } else if (a === '--only') only.push(...(argv[++i] ?? '').split(','));
    else if (a.startsWith('--only=')) only.push(...a.slice('--only='.length).split(','));
    else {
      console.error(`unknown argument ${JSON.stringify(a)}\n\n${usage()}`);
      process.exit(2);
    }
  }
  const names = only.map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !SECTIONS.some((s) => s.name === n));
  if (unknown.length) {
    console.error(`unknown section(s): ${unknown.join(', ')}\n\n${usage()}`);
    process.exit(2);
  }
  return { only: names.length ? names : null, list };
}

function opensshVersion(): string {
  // `ssh -V` prints to stderr.
  const r = spawnSync('ssh', ['-V'], { encoding: 'utf8' });
  return `${r.stderr ?? ''}${r.stdout ?? ''}`.trim().split(',')[0] || 'OpenSSH ?';
}

async function main(): Promise<number> {
  const { only, list } = parseArgs(process.argv.slice(2));
  if (list) {
    console.log(usage());
    return 0;
  }
  const sections = only ? SECTIONS.filter((s) => only.includes(s.name)) : SECTIONS;

  const watchdog = setTimeout(() => {
    console.error(`bench: watchdog: still running after ${WATCHDOG_MS / 60_000} min, giving up (sshd are cleaned up on exit)`);
    process.exit(1);
  }, WATCHDOG_MS);
  watchdog.unref();

  const log = (m: string) => console.error(`bench: ${m}`);
  let testbed: Promise<BenchTestbed> | undefined;
  const ctx: BenchContext = {
    testbed: () => (testbed ??= createTestbed(log)),
    log,
  };

  const started = Date.now();
  const cpu0 = cpuTimes();
  const rows: TableRow[] = [];
  try {
    for (const s of sections) {
      log(`section ${s.name}: ${s.description}`);
      const t0 = Date.now();
      try {
        const got = await s.run(ctx);
        rows.push(...got.map((r) => ({ ...r, section: s.name })));
      } catch (err) {
        const e = err as Error;
        rows.push({
          section: s.name,
          name: s.description,
          value: null,
          target: '-',
          pass: false,
          notes: [`section failed: ${e.stack ?? e.message}`.split('\n').slice(0, 4).join(' / ')],
        });
      }
      log(`section ${s.name} took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
  } finally {
    if (testbed) await (await testbed.catch(() => undefined))?.close();
  }

  const header = [
    `Fleetwake bench, ${new Date().toISOString()}: loopback, real sshd started by the bench`,
    `${machineLine()}, ${opensshVersion()}; run took ${((Date.now() - started) / 1000).toFixed(0)} s, ` +
      `machine CPU busy ${(busyFraction(cpu0, cpuTimes()) * 100).toFixed(0)}% during it`,
    '',
  ];
  console.log(renderTable(rows, header));
  const failed = rows.filter((r) => !r.pass).length;
  console.log(failed ? `\n${failed} of ${rows.length} target(s) missed.` : `\nAll ${rows.length} targets met.`);
  clearTimeout(watchdog);
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
