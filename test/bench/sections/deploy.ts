/**
 * Deploy benchmarks against real sshd on loopback (the bench user, user mode, detached: no systemd here),
 * each with a plain-OpenSSH peer measured in the same run, medians over 3 runs with an uninstall --purge
 * between runs:
 *   fresh              deployAgent on a host with node (/usr/bin/node)
 *   fresh + runtime    deployAgent on a host whose PATH has no node (nodeCandidates: []): the shipped
 *                      Node runtime is uploaded, unpacked and sha256-checked on the host
 *   upgrade            upgradeAgent from an installed agent of another version to the shipped one
 * Timed from the call to its return over the host's established SSH connection (connecting is the
 * `connect` section's business).
 */
import { execFile, spawn } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import type { InstallManifest } from '../../../main/remote/manifest.js';
import {
  bundledAgentVersion,
  defaultRuntimeDir,
  deployAgent,
  pinnedArtifacts,
  readManifest,
  runtimeArtifact,
  uninstallAgent,
  upgradeAgent,
  type DeployContext,
} from '../../../main/deploy/index.js';
import type { HostConnection } from '../../../main/ssh/connection.js';
import { computePins } from '../../../scripts/pin-artifacts.mjs';
import { makeNoNodeBin } from '../../support/no-node-path.js';
import { startSshd, type SshdHandle } from '../../support/sshd.js';
import { budgetNote, repeat, sleep, timed } from '../loop.js';
import { median, ratio, summarize } from '../stats.js';
import { fmtNumber } from '../table.js';
import { BENCH_USER, type BenchTestbed } from '../testbed.js';
import type { BenchSection, Row } from '../types.js';
import { AGENT_BUNDLE, REPO_ROOT, benchAgentHome, benchDeployContext, connectBenchHost, requireAgentBundle } from './agent.js';

const run = promisify(execFile);

const REPS = 3;
/** Peers (fresh OpenSSH process each, temp file removed again): the least a hand-made install does. */
const PEER_BUNDLE = 'f=$(mktemp) && cat > "$f" && node "$f" version >/dev/null; rc=$?; rm -f "$f"; exit $rc';
const PEER_RUNTIME = 'f=$(mktemp) && gzip -dc > "$f" && sha256sum "$f" >/dev/null; rc=$?; rm -f "$f"; exit $rc';
/** One deploy/upgrade/uninstall may take this long before the run is counted as failed. */
const OP_TIMEOUT_MS = 120_000;

function withTimeout<T>(what: string, p: Promise<T>, ms = OP_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/**
 * The system OpenSSH client, fresh process, `command` with `file` on its stdin (the sshExec arguments
 * of test/support/sshd.ts). Resolves with the wall time in ms; rejects on a non-zero exit.
 */
function sshPipe(tb: BenchTestbed, server: SshdHandle, command: string, file: string, timeoutMs = 120_000): Promise<number> {
  const args = [
    '-F', '/dev/null',
    '-o', 'BatchMode=yes',
    '-o', 'StrictHostKeyChecking=no',
    '-o', 'UserKnownHostsFile=/dev/null',
    '-o', 'IdentitiesOnly=yes',
    '-o', 'LogLevel=ERROR',
    '-o', 'ConnectTimeout=10',
    '-i', tb.key.privatePath,
    '-p', String(server.port),
    '-l', tb.user,
    server.host,
    command,
  ];
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn('ssh', args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const input = createReadStream(file);
    input.on('error', (e) => {
      child.kill('SIGKILL');
      reject(e);
    });
    child.stdin.on('error', () => undefined); // EPIPE when the remote side fails early: the exit code says it
    input.pipe(child.stdin);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      const ms = performance.now() - t0;
      if (code === 0) resolve(ms);
      else reject(new Error(`ssh ${JSON.stringify(command)} exited ${code ?? sig}: ${stderr.trim().slice(0, 300)}`));
    });
  });
}

type Log = ReturnType<typeof benchDeployContext>['log'];

/** ms from each step's first `running` to its last done/skipped/failed, per step name. */
function stepTimes(log: Log): Map<string, number> {
  const first = new Map<string, number>();
  const out = new Map<string, number>();
  for (const p of log) {
    if (p.state === 'running') {
      if (!first.has(p.step)) first.set(p.step, p.at);
    } else if (first.has(p.step)) {
      out.set(p.step, p.at - first.get(p.step)!);
    }
  }
  return out;
}

class StepStats {
  private readonly by = new Map<string, number[]>();
  add(log: Log): void {
    for (const [step, ms] of stepTimes(log)) {
      if (!this.by.has(step)) this.by.set(step, []);
      this.by.get(step)!.push(ms);
    }
  }
  /** "probe 120 ms, upload 15 ms, ..." (medians, in the order the steps ran). */
  describe(): string {
    const entries = [...this.by].map(([step, xs]) => ({ step, ms: median(xs) }));
    return entries.length ? entries.map((e) => `${e.step} ${fmtNumber(e.ms)} ms`).join(', ') : 'none';
  }
}

function lastSteps(log: Log, n = 4): string {
  return log
    .slice(-n)
    .map((p) => `${p.step} ${p.state}: ${p.message}`)
    .join(' / ');
}

interface Kind {
  label: string;
  times: number[];
  peer: number[];
  steps: StepStats;
  errors: string[];
}

/** A peer sample; a failing peer is reported on the row instead of failing the section. */
async function peerRun(k: Kind, fn: () => Promise<number>): Promise<void> {
  try {
    k.peer.push(await fn());
  } catch (e) {
    k.errors.push(`peer: ${(e as Error).message}`);
  }
}

const kind = (label: string): Kind => ({ label, times: [], peer: [], steps: new StepStats(), errors: [] });
const secs = (xs: number[]) => summarize(xs.map((x) => x / 1000), 's');

export const deploySection: BenchSection = {
  name: 'deploy',
  description: 'deploy fresh (host node), fresh with runtime upload (no node), upgrade; 3 runs each, uninstall between',
  async run(ctx) {
    const bundle = requireAgentBundle();
    const version = bundledAgentVersion(bundle);
    const tb = await ctx.testbed();
    const [server] = await tb.servers(1);
    const work = mkdtempSync(path.join(tmpdir(), 'fleetwake-bench-deploy-'));
    const homeInstall = await benchAgentHome();
    const noNodeBin = makeNoNodeBin();
    let noNode: SshdHandle | undefined;
    let fleet: Awaited<ReturnType<BenchTestbed['fleet']>> | undefined;
    let connA: HostConnection | undefined;
    try {
      // A host whose sessions have no node on PATH (sshd SetEnv), same bench user.
      noNode = await startSshd({ allowUsers: [BENCH_USER], passwordAuthentication: false, extraConfig: [`SetEnv PATH=${noNodeBin}`] });
      fleet = await tb.fleet([
        { name: 'gpu', server: server! },
        { name: 'gpu-nonode', server: noNode },
      ]);
      connA = await connectBenchHost(fleet, 'gpu');
      const connB = await connectBenchHost(fleet, 'gpu-nonode');
      const which = await connB.exec('command -v node; echo "PATH=$PATH"', { timeoutMs: 10_000 });
      if (/\/node$/m.test(which.stdout)) throw new Error(`the no-node host has node on PATH: ${which.stdout.trim()}`);

      // The upgrade needs an installed agent of ANOTHER version. The shipped bundle is minified; the
      // same source built unminified is different text, so build-agent.mjs gives it a different version
      // (package version + hash of the bundle text): a genuine version change without patching anything.
      // It is built into the temp dir, resources/ is not touched.
      ctx.log('deploy: building an unminified agent bundle (the "old" version for the upgrade runs)');
      const built = await run(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const m = await import(${JSON.stringify(path.join(REPO_ROOT, 'scripts/build-agent.mjs'))}); ` +
            `const r = await m.buildAgent({ outDir: ${JSON.stringify(path.join(work, 'old-agent'))}, minify: false, quiet: true }); console.log(r.outfile);`,
        ],
        { cwd: REPO_ROOT, timeout: 120_000 },
      );
      const oldBundle = built.stdout.trim();
      const oldVersion = bundledAgentVersion(oldBundle);
      if (oldVersion === version) throw new Error(`the unminified build has the same version as ${AGENT_BUNDLE} (${version})`);
      // The app only installs what its build pinned; this bundle of the bench's own is pinned here.
      const oldPins = await computePins({ agentBundle: oldBundle });

      const arch = process.arch === 'arm64' ? 'arm64' : 'x64';
      const art = runtimeArtifact(defaultRuntimeDir(), arch, await pinnedArtifacts());

      const fresh = kind('fresh');
      const withRuntime = kind('fresh + runtime');
      const upgrade = kind('upgrade');
      const uninstallMs: number[] = [];

      const uninstall = async (conn: HostConnection, extra: Partial<DeployContext> = {}) => {
        const { ms } = await timed(() => withTimeout('uninstallAgent', uninstallAgent(benchDeployContext(conn, 'bench', extra), { purge: true })));
        uninstallMs.push(ms);
        await sleep(100);
      };
      /** One timed operation; on failure the error is kept for the row and the install is cleaned up. */
      const attempt = async (
        k: Kind,
        conn: HostConnection,
        extra: Partial<DeployContext>,
        op: (c: DeployContext) => Promise<InstallManifest>,
        check: (m: InstallManifest, log: Log) => string | null,
        prepare?: () => Promise<void>,
      ) => {
        const dctx = benchDeployContext(conn, conn === connA ? 'gpu' : 'gpu-nonode', extra);
        try {
          await prepare?.();
          const { ms, result } = await timed(() => withTimeout(`${k.label}`, op(dctx)));
          const problem = check(result, dctx.log);
          if (problem) throw new Error(problem);
          const onHost = await readManifest({ conn });
          if (onHost?.version !== result.version) throw new Error(`install.json on the host says ${onHost?.version ?? 'nothing'}, expected ${result.version}`);
          k.times.push(ms);
          k.steps.add(dctx.log);
          await uninstall(conn, extra);
        } catch (e) {
          k.errors.push(`${(e as Error).message} [last steps: ${lastSteps(dctx.log)}]`);
          await uninstall(conn, extra).catch(() => undefined);
          await homeInstall.clean();
        }
      };

      ctx.log(`deploy: ${REPS} rounds of fresh / fresh + runtime upload / upgrade (${oldVersion} -> ${version}), uninstall --purge between`);
      const r = await repeat({ count: REPS, budgetMs: 420_000 }, async () => {
        // fresh, host has node
        await attempt(fresh, connA!, {}, (c) => deployAgent(c, { mode: 'user' }), (m, log) =>
          m.version !== version || m.uploadedRuntime || log.some((p) => p.step === 'check')
            ? `unexpected: version ${m.version}, uploadedRuntime ${m.uploadedRuntime}, ${log.some((p) => p.step === 'check') ? 'an install was already there' : ''}`
            : null,
        );
        await peerRun(fresh, () => sshPipe(tb, server!, PEER_BUNDLE, bundle));

        // fresh, no node: the runtime is uploaded
        if (typeof art === 'string') withRuntime.errors.push(art);
        else {
          await attempt(withRuntime, connB, { nodeCandidates: [] }, (c) => deployAgent(c, { mode: 'user' }), (m, log) =>
            !m.uploadedRuntime || m.version !== version || !log.some((p) => p.step === 'runtime' && p.state === 'done' && /sha256 matches/.test(p.message))
              ? `unexpected: uploadedRuntime ${m.uploadedRuntime}, version ${m.version}, runtime step: ${log.filter((p) => p.step === 'runtime').map((p) => p.message).join(' / ')}`
              : null,
          );
          await peerRun(withRuntime, () => sshPipe(tb, noNode!, PEER_RUNTIME, art.gzPath));
        }

        // upgrade: the unminified build installed first (untimed), then upgradeAgent to the shipped bundle
        await attempt(
          upgrade,
          connA!,
          {},
          (c) => upgradeAgent(c),
          (m, log) =>
            m.version !== version || !log.some((p) => p.step === 'check' && p.message.includes(`Installed: version ${oldVersion}; installing ${version}`))
              ? `unexpected: version ${m.version}; check: ${log.filter((p) => p.step === 'check').map((p) => p.message).join(' / ') || 'none'}`
              : null,
          async () => {
            const old = await withTimeout('deploy of the old version', deployAgent(benchDeployContext(connA!, 'gpu', { agentBundle: oldBundle, pins: oldPins }), { mode: 'user' }));
            if (old.version !== oldVersion) throw new Error(`the old bundle answers as ${old.version}, expected ${oldVersion}`);
          },
        );
        await peerRun(upgrade, () => sshPipe(tb, server!, PEER_BUNDLE, bundle));
      });

      // Nothing of the install may be left on the host after the last uninstall.
      const left = await connA.exec('find "$HOME/.local/share/fleetwake" "$HOME/.config/fleetwake" 2>/dev/null; true', { timeoutMs: 10_000 });
      const leftover = left.stdout.trim() ? [`Left on the host after uninstall --purge: ${left.stdout.trim().split('\n').slice(0, 5).join(', ')}`] : [];

      const errNotes = (k: Kind) => k.errors.slice(0, 2).map((e) => `${k.label} failed (${k.errors.length} of ${REPS}): ${e}`);
      const common = `Median of ${REPS} runs on the bench user (user mode, detached supervisor: no systemd), each from a clean home (uninstall --purge between, median ${fmtNumber(median(uninstallMs))} ms); timed from the call to its return over the host's established ssh2 connection, no connect.`;
      const rows: Row[] = [
        {
          name: 'deploy, fresh, host has node',
          value: secs(fresh.times),
          peerName: 'fresh ssh: pipe bundle, node it version',
          peer: secs(fresh.peer),
          ratio: ratio(median(fresh.times), median(fresh.peer)),
          target: 'p50 < 10 s',
          pass: fresh.errors.length === 0 && fresh.times.length >= 2 && median(fresh.times) < 10_000,
          notes: [
            `deployAgent(mode user) of ${path.relative(REPO_ROOT, bundle)} (${version}) with /usr/bin/node on the host. ${common}`,
            `Steps (median ms): ${fresh.steps.describe()}.`,
            'Peer, for scale: one fresh OpenSSH process that pipes the same bundle into a temp file and runs `node <it> version` (the least a hand-made install does).',
            ...errNotes(fresh),
            ...leftover,
          ],
        },
        {
          name: 'deploy, fresh, runtime upload (no node)',
          value: secs(withRuntime.times),
          peerName: 'fresh ssh: pipe runtime .gz, gunzip, sha256sum',
          peer: secs(withRuntime.peer),
          ratio: ratio(median(withRuntime.times), median(withRuntime.peer)),
          target: 'report',
          pass: withRuntime.errors.length === 0 && withRuntime.times.length >= 1,
          notes: [
            `deployAgent(mode user, nodeCandidates []) on an sshd whose sessions get PATH=${noNodeBin} (tools, no node); ` +
              (typeof art === 'string' ? `no runtime: ${art}` : `uploads Node ${art.version} (${fmtNumber(art.gzSize / (1024 * 1024))} MiB gzipped, ${fmtNumber(art.size / (1024 * 1024))} MiB unpacked), unpacked and sha256-checked on the host. `) +
              common,
            `Steps (median ms): ${withRuntime.steps.describe()}.`,
            'Peer, for scale: one fresh OpenSSH process that pipes the same .gz, gunzips it to a temp file and sha256sums it (the transfer and unpack floor).',
            ...errNotes(withRuntime),
          ],
        },
        {
          name: 'upgrade, version change',
          value: secs(upgrade.times),
          peerName: 'fresh ssh: pipe bundle, node it version',
          peer: secs(upgrade.peer),
          ratio: ratio(median(upgrade.times), median(upgrade.peer)),
          target: 'report',
          pass: upgrade.errors.length === 0 && upgrade.times.length >= 1,
          notes: [
            `upgradeAgent from ${oldVersion} (the same source built unminified by build-agent.mjs into a temp dir: other text, so another version hash; deployed untimed) ` +
              `to ${version} (upload, restart of the running agent, verify). ${common}`,
            `Steps (median ms): ${upgrade.steps.describe()}.`,
            ...errNotes(upgrade),
          ],
        },
      ];
      const budget = budgetNote('deploy', r, REPS);
      if (budget.length) for (const row of rows) row.notes.push(...budget);
      return rows;
    } finally {
      if (connA) await uninstallAgent(benchDeployContext(connA, 'gpu'), { purge: true }).catch(() => undefined);
      if (fleet) await tb.disposeFleet(fleet).catch(() => undefined);
      await noNode?.destroy().catch(() => undefined);
      await homeInstall.finish();
      rmSync(path.dirname(noNodeBin), { recursive: true, force: true });
      rmSync(work, { recursive: true, force: true });
    }
  },
};
