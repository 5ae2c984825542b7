/**
 * What a benchmark section hands back: rows for the one table `npm run bench` prints.
 *
 * A section measures Fleetwake and, where there is one, its peer (the tool a user would otherwise use)
 * in the same run, and decides PASS/FAIL against a target. Numbers are summaries of repeated samples
 * (p50/p90), never single measurements: the machines are shared and noisy.
 */
import type { BenchTestbed } from './testbed.js';

export interface Measure {
  p50: number;
  p90: number;
  /** Number of samples behind p50/p90. */
  n: number;
  /** Unit of p50/p90, e.g. 'ms', 'MiB', '%'. */
  unit: string;
}

export interface Row {
  /** Short name of what is measured (one line in the table). */
  name: string;
  /** Fleetwake's numbers; null when the section failed before measuring. */
  value: Measure | null;
  /** Short name of the peer, e.g. 'ssh host true'. */
  peerName?: string;
  peer?: Measure | null;
  /** value / peer as the target defines it (usually ratio of medians); null when not applicable. */
  ratio?: number | null;
  /** The target in words, e.g. 'ratio <= 1.5'. */
  target: string;
  pass: boolean;
  /** Footnotes: how it was measured, caveats, diagnostics. */
  notes: string[];
}

export interface BenchContext {
  /** Real sshd servers, a test user and key on loopback; created on first use, torn down by the runner. */
  testbed(): Promise<BenchTestbed>;
  /** Progress line on stderr (the table goes to stdout). */
  log(message: string): void;
}

export interface BenchSection {
  /** Used with `--only NAME`. */
  name: string;
  description: string;
  run(ctx: BenchContext): Promise<Row[]>;
}
