/**
 * CLI cold start: `fleetwake hosts ls` as a user's script runs it (a fresh `node bin/fleetwake.cjs`
 * process, which runs the built CLI), against the floor any Node program pays, `node -e 0`, measured in
 * the same run and interleaved. `ssh -G host` (OpenSSH printing its config, no network) and the old
 * way, the sources through tsx, are measured beside it for scale.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildCli } from '../../../scripts/build-cli.mjs';
import { budgetNote, repeat } from '../loop.js';
import { median, ratio, summarize } from '../stats.js';
import { fmtNumber } from '../table.js';
import type { BenchSection } from '../types.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const BIN = join(ROOT, 'bin', 'fleetwake.cjs');
const HOSTS = 20;

interface Timed {
  ms: number;
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Timed {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return { ms: performance.now() - t0, status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

export const cliSection: BenchSection = {
  name: 'cli',
  description: `\`fleetwake hosts ls\` cold start (${HOSTS} hosts) vs \`node -e 0\`, \`ssh -G host\` and tsx for scale`,
  async run(ctx) {
    // The row measures the current source: build the CLI the way `npm run build` does (pins included).
    const build = await buildCli({ quiet: true });
    const home = mkdtempSync(join(tmpdir(), 'fleetwake-bench-cli-'));
    try {
      const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: join(home, 'home'), FLEETWAKE_HOME: join(home, 'data') };
      for (let i = 0; i < HOSTS; i++) {
        const n = String(i + 1).padStart(2, '0');
        const r = run(process.execPath, [BIN, 'hosts', 'add', `gpu-${n}`, '--host', `10.0.0.${i + 1}`, '--user', 'ml', '--mac', `aa:bb:cc:00:00:${n}`], env);
        if (r.status !== 0) throw new Error(`fleetwake hosts add failed (${r.status}): ${r.stderr.trim()}`);
      }
      const ls = run(process.execPath, [BIN, 'hosts', 'ls'], env);
      if (ls.status !== 0 || ls.stdout.trim().split('\n').length !== HOSTS + 1) throw new Error(`fleetwake hosts ls gave ${ls.status}: ${ls.stderr.trim()}`);
      // The bin says so on stderr when it does not run the build (stale or missing): then this row measures nothing useful.
      if (ls.stderr) throw new Error(`bin/fleetwake.cjs did not run the build: ${ls.stderr.trim()}`);

      const WARMUP = 3;
      const REPS = 31;
      const TSX_EVERY = 6;
      const fw: number[] = [];
      const node0: number[] = [];
      const sshG: number[] = [];
      const tsx: number[] = [];
      const kinds = [
        ['fw', () => run(process.execPath, [BIN, 'hosts', 'ls'], env)],
        ['node', () => run(process.execPath, ['-e', '0'], env)],
        ['ssh', () => run('ssh', ['-F', '/dev/null', '-G', 'gpu-01'], env)],
      ] as const;
      ctx.log(`cli: ${WARMUP} warm-up + ${REPS} interleaved rounds (hosts ls, node -e 0, ssh -G), tsx every ${TSX_EVERY}`);
      const r = await repeat({ count: WARMUP + REPS, budgetMs: 120_000 }, async (i) => {
        // Rotate who goes first, so a slow moment of the box hits every kind alike.
        for (let k = 0; k < kinds.length; k++) {
          const [kind, fn] = kinds[(i + k) % kinds.length]!;
          const t = fn();
          if (t.status !== 0) throw new Error(`${kind} exited ${t.status}: ${t.stderr.trim()}`);
          if (i < WARMUP) continue;
          (kind === 'fw' ? fw : kind === 'node' ? node0 : sshG).push(t.ms);
        }
        if (i >= WARMUP && (i - WARMUP) % TSX_EVERY === 0) {
          const t = run(process.execPath, ['--import', 'tsx', join(ROOT, 'main', 'cli', 'index.ts'), 'hosts', 'ls'], env);
          if (t.status === 0) tsx.push(t.ms);
        }
        await new Promise((res) => setImmediate(res));
      });
      const rt = ratio(median(fw), median(node0));
      return [
        {
          name: `\`fleetwake hosts ls\` cold start, ${HOSTS} hosts`,
          value: summarize(fw),
          peerName: 'node -e 0',
          peer: summarize(node0),
          ratio: rt,
          target: 'ratio of p50 <= 1.5',
          pass: fw.length >= 10 && rt <= 1.5,
          notes: [
            `Fleetwake: a fresh \`node bin/fleetwake.cjs hosts ls\` per sample (the bin checks the build is not older than its ${build.inputs.length} ` +
              `source files, then runs out/cli/fleetwake.cjs, ${fmtNumber(build.bytes / 1024)} KB, built by this run) over a data folder with ${HOSTS} hosts; ` +
              'timed from spawn to exit. Peer: `node -e 0`, the floor of any Node program on this box, in the same rounds (order rotating).',
            `For scale, same rounds: \`ssh -G gpu-01\` (OpenSSH's config printout) p50 ${fmtNumber(median(sshG))} ms (n=${sshG.length}); ` +
              `the sources through tsx (how bin/ ran before the built CLI) p50 ${fmtNumber(median(tsx))} ms (n=${tsx.length}), ` +
              `${fmtNumber(ratio(median(tsx), median(node0)))}x node -e 0.`,
            ...budgetNote('cli', r, WARMUP + REPS),
          ],
        },
      ];
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  },
};
