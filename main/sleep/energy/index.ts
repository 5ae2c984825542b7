/**
 * Energy saved by sleeping: pure computation over sleep periods, plus helpers the core uses to keep
 * the per-host sleep log (FleetData.sleepLog) and to estimate a host's idle draw from its samples.
 *
 * Nothing here reads clocks, files or the network; every input is an argument.
 */
import type { EnergyHost, EnergyReport, MetricsSample, Preferences, SleepPeriod } from '../../../preload/api.js';

export { mergeSleepPeriods, recordSleepPeriod, closeOpenPeriod, SLEEP_MERGE_TOLERANCE_MS } from './sleep-log.js';

const HOUR_MS = 3_600_000;

/**
 * Values per host name: a Map, or a plain object read by its own keys only (so a name such as
 * `toString`, or a `__proto__` key that JSON.parse created, never reads an Object.prototype member).
 */
export type PerHost<T> = ReadonlyMap<string, T> | Readonly<Record<string, T>>;

function perHost<T>(source: PerHost<T> | undefined, name: string): T | undefined {
  if (source === undefined) return undefined;
  if (source instanceof Map) return source.get(name);
  const obj = source as Readonly<Record<string, T>>;
  return Object.hasOwn(obj, name) ? obj[name] : undefined;
}

function hostNames(source: PerHost<unknown>): string[] {
  return source instanceof Map ? [...source.keys()] : Object.keys(source);
}

export interface ComputeEnergyInput {
  /** Sleep periods per host name (agent sleep.history merged with the core's own observations). */
  periods: PerHost<readonly SleepPeriod[]>;
  /** ms since epoch: the window is [since, until]. */
  since: number;
  until: number;
  prefs: Pick<Preferences, 'baselineWatts' | 'sleepWatts' | 'pricePerKwh' | 'currency'>;
  /**
   * Measured awake-and-idle draw per host in watts (GPU power + RAPL CPU package power over recent idle
   * samples, see IdleDrawTracker); null or absent: prefs.baselineWatts. It covers only those parts, so
   * it is a lower bound of the wall draw: it replaces the baseline only where it is higher (a box whose
   * idle GPUs alone draw more than the baseline assumed).
   */
  measuredIdleWatts?: PerHost<number | null | undefined>;
  /**
   * The hosts to report, in this order (hosts without periods report 0 h asleep). Default: every host
   * named in `periods`, sorted by name.
   */
  hosts?: readonly string[];
}

/** Union of [start, end) intervals clipped to [since, until]; returns total milliseconds. */
export function asleepMs(periods: readonly SleepPeriod[], since: number, until: number): number {
  if (!(until > since)) return 0;
  const spans: [number, number][] = [];
  for (const p of periods) {
    if (!Number.isFinite(p.suspendedAt)) continue;
    // An open period (still asleep, or the resume was never seen) counts up to `until`.
    const end = p.resumedAt === null || !Number.isFinite(p.resumedAt) ? until : p.resumedAt;
    const a = Math.max(p.suspendedAt, since);
    const b = Math.min(end, until);
    if (b > a) spans.push([a, b]);
  }
  spans.sort((x, y) => x[0] - y[0]);
  let total = 0;
  let curStart = -Infinity;
  let curEnd = -Infinity;
  for (const [a, b] of spans) {
    if (a > curEnd) {
      if (curEnd > curStart) total += curEnd - curStart;
      curStart = a;
      curEnd = b;
    } else if (b > curEnd) {
      curEnd = b;
    }
  }
  if (curEnd > curStart) total += curEnd - curStart;
  return total;
}

const round = (v: number, digits: number) => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};

const validWatts = (w: number | null | undefined): w is number => typeof w === 'number' && Number.isFinite(w) && w >= 0;

/**
 * Hours asleep and awake per host over [since, until] and the energy the sleep saved:
 * kWh = hoursAsleep × (idleWatts − sleepWatts) / 1000, idleWatts = the measured idle draw where it is
 * known and above the baseline, else the baseline.
 * Money only when prefs.pricePerKwh is set. Hours are rounded to 0.01 h, kWh to 0.001, money to 0.01;
 * totals are summed before rounding.
 */
export function computeEnergy(input: ComputeEnergyInput): EnergyReport {
  const { since, until, prefs } = input;
  const windowMs = Math.max(0, until - since);
  const names = input.hosts ?? hostNames(input.periods).sort();
  const price = prefs.pricePerKwh;
  let totalKwh = 0;
  const hosts: EnergyHost[] = names.map((name) => {
    const own = perHost(input.periods, name);
    const ms = asleepMs(Array.isArray(own) ? own : [], since, until);
    const measured = perHost(input.measuredIdleWatts, name);
    const isMeasured = validWatts(measured) && measured > prefs.baselineWatts;
    const wattsUsed = isMeasured ? measured : prefs.baselineWatts;
    const hoursAsleep = ms / HOUR_MS;
    // A measured draw below the sleep draw saves nothing rather than costing.
    const kwh = (hoursAsleep * Math.max(0, wattsUsed - prefs.sleepWatts)) / 1000;
    totalKwh += kwh;
    return {
      name,
      hoursAsleep: round(hoursAsleep, 2),
      hoursAwake: round((windowMs - ms) / HOUR_MS, 2),
      wattsUsed: round(wattsUsed, 1),
      measured: isMeasured,
      kwhSaved: round(kwh, 3),
      moneySaved: price === null ? null : round(kwh * price, 2),
    };
  });
  return {
    since,
    until,
    hosts,
    totalKwhSaved: round(totalKwh, 3),
    totalMoneySaved: price === null ? null : round(totalKwh * price, 2),
    currency: prefs.currency,
  };
}

/** Draw of one sample: every GPU's power.draw plus the CPU package (RAPL); null when neither is known. */
export function sampleWatts(sample: MetricsSample): number | null {
  let total = 0;
  let known = false;
  for (const g of sample.gpus) {
    if (validWatts(g.powerW)) {
      total += g.powerW;
      known = true;
    }
  }
  if (validWatts(sample.cpuPowerW)) {
    total += sample.cpuPowerW;
    known = true;
  }
  return known ? total : null;
}
