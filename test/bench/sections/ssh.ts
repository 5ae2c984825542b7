/**
 * SSH connection benchmarks against real sshd on loopback, each with its peer measured in the same run:
 *   connect  time to `online` for one host vs a fresh `ssh -o BatchMode=yes host true`
 *   exec     one command over the established connection (p50 target), fresh ssh for scale
 *   status   checkHosts() over 20 hosts vs the slowest single host checked alone
 */
import os from 'node:os';
import { cpuTimes, busyFraction, ourCpuMs } from '../cpu.js';
import { budgetNote, repeat, sleep, timed } from '../loop.js';
import { median, percentile, ratio, shuffled, summarize } from '../stats.js';
import { fmtNumber } from '../table.js';
import type { BenchTestbed } from '../testbed.js';
import type { BenchSection, Row } from '../types.js';
import type { SshdHandle } from '../../support/sshd.js';

/** Pause between samples so the previous connection's teardown (sshd child exit) is not measured. */
const SETTLE_MS = 25;

async function sshTrue(tb: BenchTestbed, server: SshdHandle): Promise<number> {
  const { ms, result } = await timed(() => tb.ssh(server, 'true'));
  if (result.code !== 0) throw new Error(`ssh ... true exited ${result.code}: ${result.stderr.trim()}`);
  return ms;
}

export const connectSection: BenchSection = {
  name: 'connect',
  description: 'time to online, one host, fresh Fleet core vs fresh `ssh host true`',
  async run(ctx) {
    const tb = await ctx.testbed();
    const [server] = await tb.servers(1);
    const WARMUP = 2;
    const REPS = 15;
    const fw: number[] = [];
    const peer: number[] = [];

    const fleetOnce = async (): Promise<number> => {
      const t = await tb.fleet([{ name: 'gpu', server: server! }]);
      try {
        const { ms, result } = await timed(() => t.fleet.connectHost('gpu'));
        if (result.state !== 'online') throw new Error(`connectHost gave ${result.state}: ${result.error ?? ''}`);
        return ms;
      } finally {
        await tb.disposeFleet(t);
      }
    };

    ctx.log(`connect: ${WARMUP} warm-up + ${REPS} interleaved repetitions`);
    const r = await repeat({ count: WARMUP + REPS, budgetMs: 120_000 }, async (i) => {
      // Alternate who goes first, so a slow phase of the box hits both sides alike.
      const order = i % 2 === 0 ? (['fw', 'ssh'] as const) : (['ssh', 'fw'] as const);
      for (const who of order) {
        const ms = who === 'fw' ? await fleetOnce() : await sshTrue(tb, server!);
        if (i >= WARMUP) (who === 'fw' ? fw : peer).push(ms);
        await sleep(SETTLE_MS);
      }
    });

    const rt = ratio(median(fw), median(peer));
    return [
      {
        name: 'time to online, 1 host',
        value: summarize(fw),
        peerName: 'ssh -o BatchMode=yes host true',
        peer: summarize(peer),
        ratio: rt,
        target: 'ratio of p50 <= 1.5',
        pass: fw.length >= 5 && rt <= 1.5,
        notes: [
          'Fleetwake: fresh Fleet core per repetition (own data dir, known_hosts holds the host key, ed25519 key auth, app default options) ' +
            'in one long-lived Node process; timed from connectHost() to its `online` status (TCP + kex + host-key check + auth).',
          'Peer: fresh OpenSSH client process per repetition (test/support sshExec args: -F /dev/null, BatchMode, IdentitiesOnly), ' +
            'timed from spawn to exit; it also opens a session and runs `true`, which Fleetwake does not need for `online`.',
          `${WARMUP} warm-ups discarded, then ${r.done - Math.min(r.done, WARMUP)} interleaved pairs, order alternating.`,
          ...budgetNote('connect', r, WARMUP + REPS),
        ],
      },
    ];
  },
};

export const execSection: BenchSection = {
  name: 'exec',
  description: 'one `true` over the established connection (p50/p90), fresh ssh for scale',
  async run(ctx) {
    const tb = await ctx.testbed();
    const [server] = await tb.servers(1);
    const WARMUP = 20;
    const RUNS = 200;
    const PEER_EVERY = 20; // one fresh ssh per 20 execs -> 10 peer samples, interleaved
    const t = await tb.fleet([{ name: 'gpu', server: server! }]);
    const fw: number[] = [];
    const peer: number[] = [];
    try {
      const s = await t.fleet.connectHost('gpu');
      if (s.state !== 'online') throw new Error(`connectHost gave ${s.state}: ${s.error ?? ''}`);
      const conn = t.fleet.connection('gpu');
      const execOnce = async (): Promise<number> => {
        const { ms, result } = await timed(() => conn.exec('true', { timeoutMs: 10_000 }));
        if (result.code !== 0) throw new Error(`exec true exited ${result.code}: ${result.stderr.trim()}`);
        return ms;
      };
      ctx.log(`exec: ${WARMUP} warm-up + ${RUNS} runs, ${RUNS / PEER_EVERY} fresh ssh interleaved`);
      const w = await repeat({ count: WARMUP, budgetMs: 20_000 }, async () => void (await execOnce()));
      const r = await repeat({ count: RUNS, budgetMs: 60_000 }, async (i) => {
        fw.push(await execOnce());
        if ((i + 1) % PEER_EVERY === 0) {
          await sleep(SETTLE_MS);
          peer.push(await sshTrue(tb, server!));
          await sleep(SETTLE_MS);
        }
      });
      const p50 = median(fw);
      return [
        {
          name: 'exec `true` on open connection',
          value: summarize(fw),
          peerName: 'fresh ssh host true (scale)',
          peer: summarize(peer),
          ratio: ratio(p50, median(peer)),
          target: 'p50 < 5 ms',
          pass: fw.length >= 50 && p50 < 5,
          notes: [
            `Fleet.connection(name).exec('true') back to back over the one shared connection (new session channel each), ` +
              `${w.done} warm-ups discarded; the ratio is informational (fresh ssh median, for scale).`,
            ...budgetNote('exec warm-up', w, WARMUP),
            ...budgetNote('exec', r, RUNS),
          ],
        },
      ];
    } finally {
      await tb.disposeFleet(t);
    }
  },
};

/** 20 host entries; 20 distinct sshd when they start fast enough (they do here: ~0.1 s each). */
const STATUS_HOSTS = 20;
const STATUS_SERVERS = 20;

export const statusSection: BenchSection = {
  name: 'status',
  description: `checkHosts() over ${STATUS_HOSTS} hosts vs the slowest single host alone`,
  async run(ctx) {
    const tb = await ctx.testbed();
    const servers = await tb.servers(STATUS_SERVERS);
    const hosts = Array.from({ length: STATUS_HOSTS }, (_, i) => ({
      name: `gpu-${String(i + 1).padStart(2, '0')}`,
      server: servers[i % servers.length]!,
    }));
    const names = hosts.map((h) => h.name);
    const t = await tb.fleet(hosts);
    const WARMUP = 1;
    const REPS = 9;
    const all: number[] = [];
    const single = new Map<string, number[]>(names.map((n) => [n, []]));
    const busy: number[] = [];
    const nodeCpu: number[] = [];
    /**
     * CPU ms per connect of this process + the sshd listeners (with their finished connection children):
     * what one connect costs when checked alone, and when all are checked at once. Read at phase
     * boundaries, after the connections have closed and been reaped.
     */
    const cpuPerConnectAlone: number[] = [];
    const cpuPerConnectAll: number[] = [];
    const listenerPids = () => servers.map((s) => s.pid).filter((p): p is number => p !== null);
    // OpenSSH for context, same shape: all hosts at once (parallel processes) vs one alone.
    const SSH_ROUNDS = 5;
    const sshAll: number[] = [];
    const sshOne: number[] = [];
    const cores = os.cpus().length;

    const disconnectAll = async () => {
      for (const n of names) await t.fleet.disconnectHost(n);
      await sleep(SETTLE_MS * 4);
    };
    const checkAll = async (keep: boolean) => {
      const our0 = ourCpuMs(listenerPids());
      const c0 = cpuTimes();
      const u0 = process.cpuUsage();
      const { ms, result } = await timed(() => t.fleet.checkHosts());
      const u = process.cpuUsage(u0);
      const c1 = cpuTimes();
      const bad = result.filter((s) => s.state !== 'online');
      if (bad.length) throw new Error(`checkHosts: ${bad.length} not online, e.g. ${bad[0]!.name} ${bad[0]!.state}: ${bad[0]!.error ?? ''}`);
      if (keep) {
        all.push(ms);
        busy.push(busyFraction(c0, c1));
        nodeCpu.push((u.user + u.system) / 1000);
      }
      await disconnectAll();
      if (keep) cpuPerConnectAll.push((ourCpuMs(listenerPids()) - our0) / names.length);
    };
    const sshRound = async () => {
      const { ms } = await timed(() => Promise.all(hosts.map((h) => sshTrue(tb, h.server))));
      sshAll.push(ms);
      await sleep(SETTLE_MS * 4);
      for (const h of shuffled(hosts).slice(0, 4)) {
        sshOne.push(await sshTrue(tb, h.server));
        await sleep(SETTLE_MS);
      }
    };
    const checkEachAlone = async (keep: boolean) => {
      await sleep(SETTLE_MS * 4);
      const our0 = ourCpuMs(listenerPids());
      for (const n of shuffled(names)) {
        const { ms, result } = await timed(() => t.fleet.checkHosts([n]));
        if (result[0]?.state !== 'online') throw new Error(`checkHosts([${n}]): ${result[0]?.state}: ${result[0]?.error ?? ''}`);
        if (keep) single.get(n)!.push(ms);
        await t.fleet.disconnectHost(n);
        await sleep(SETTLE_MS);
      }
      await sleep(SETTLE_MS * 4);
      if (keep) cpuPerConnectAlone.push((ourCpuMs(listenerPids()) - our0) / names.length);
    };

    try {
      ctx.log(`status: ${STATUS_HOSTS} hosts on ${servers.length} sshd, ${WARMUP} warm-up + ${REPS} repetitions (all together, and each alone)`);
      const r = await repeat({ count: WARMUP + REPS, budgetMs: 150_000 }, async (i) => {
        const keep = i >= WARMUP;
        if (i % 2 === 0) {
          await checkAll(keep);
          await checkEachAlone(keep);
        } else {
          await checkEachAlone(keep);
          await checkAll(keep);
        }
        if (keep && sshAll.length < SSH_ROUNDS) await sshRound();
      });

      // The slowest host: the one whose median alone is highest.
      let slowest = names[0]!;
      for (const n of names) if (median(single.get(n)!) > median(single.get(slowest)!)) slowest = n;
      const slow = single.get(slowest)!;
      const allSingles = [...single.values()].flat();
      const rt = ratio(median(all), median(slow));
      // If every connection costs the machine C ms of CPU (client + sshd + kernel, all on this box),
      // N cold connects cannot finish faster than N * C / cores: the floor no client code can beat here.
      const floorMs = (STATUS_HOSTS * median(cpuPerConnectAlone)) / cores;
      const shape = STATUS_SERVERS === STATUS_HOSTS ? `${STATUS_SERVERS} sshd` : `${STATUS_SERVERS} sshd x ${STATUS_HOSTS / STATUS_SERVERS}`;
      return [
        {
          name: `status (checkHosts), ${STATUS_HOSTS} hosts on ${shape}`,
          value: summarize(all),
          peerName: `slowest single host alone (${slowest})`,
          peer: summarize(slow),
          ratio: rt,
          target: 'ratio of p50 <= 1.5',
          pass: all.length >= 3 && rt <= 1.5,
          notes: [
            `Fleetwake: Fleet.checkHosts() over ${STATUS_HOSTS} hosts, every one disconnected before (a cold status: ${STATUS_HOSTS} parallel connects); ` +
              `peer: checkHosts([name]) for each host alone, the host with the highest median; all hosts alone p50 ${fmtNumber(median(allSingles))} ms, ` +
              `p90 ${fmtNumber(percentile(allSingles, 90))} ms (n=${allSingles.length}). ${WARMUP} warm-up round discarded; order alternates per round.`,
            `During the ${STATUS_HOSTS}-host check: machine CPU busy p50 ${fmtNumber(median(busy) * 100)}% of all cores, ` +
              `Fleetwake's Node process CPU p50 ${fmtNumber(median(nodeCpu))} ms per ${STATUS_HOSTS}-host check. ` +
              `CPU per connect (this process + sshd, /proc/PID/stat): p50 ${fmtNumber(median(cpuPerConnectAlone))} ms alone, ` +
              `${fmtNumber(median(cpuPerConnectAll))} ms when all at once; so ${STATUS_HOSTS} on ${cores} cores ` +
              `need >= ~${fmtNumber(floorMs)} ms: a CPU floor of ~${fmtNumber(ratio(floorMs, median(slow)))}x on loopback, where sshd shares the client's cores ` +
              `(measured p50 / floor = ${fmtNumber(ratio(median(all), floorMs))}x).`,
            `OpenSSH in the same run, same shape: ${STATUS_HOSTS} parallel \`ssh host true\` p50 ${fmtNumber(median(sshAll))} ms (n=${sshAll.length}) ` +
              `vs one alone p50 ${fmtNumber(median(sshOne))} ms (n=${sshOne.length}): ${fmtNumber(ratio(median(sshAll), median(sshOne)))}x.`,
            ...budgetNote('status', r, WARMUP + REPS),
          ],
        },
      ];
    } finally {
      await tb.disposeFleet(t);
    }
  },
};
