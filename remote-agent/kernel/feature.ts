/**
 * The registry API: what a feature (metrics, idle, wol, host info; later services, models) hands the
 * kernel, and what the kernel hands it back. A feature is a factory in its own folder; the daemon lists
 * the factories (features.ts) and the kernel calls their hooks in list order. Features never import the
 * kernel or each other's state: what they share goes through these hooks.
 */
import type { AgentConfig, Logger } from '../config/index.js';
import type { AgentPaths } from '../paths.js';
import type { AgentCapabilities, AgentNotification, AgentNotifications, MetricsSample } from '../protocol.js';
import type { AgentMethodTable } from '../rpc/params.js';
import type { RpcConnection } from '../rpc/server.js';
import type { Clock } from './clock.js';

/** Samples taken and failed, config reloads, suspends and resumes (for tests and debugging). */
export interface AgentCounters {
  samples: number;
  sampleErrors: number;
  reloads: number;
  suspends: number;
  resumes: number;
}

/** A gap between ticks: the box slept, or the agent was frozen. */
export interface Resume {
  at: number;
  /** How long the agent did not run (how late the tick was), ms. */
  awayMs: number;
  /** Of that, how long the box was suspended (the monotonic clock stood still); null when unknown. */
  suspendedMs: number | null;
}

/** What the kernel gives each feature. `D` is the feature's own slice of the daemon's injected deps. */
export interface FeatureContext<D = unknown> {
  readonly paths: AgentPaths;
  readonly deps: D;
  readonly log: Logger;
  readonly clock: Clock;
  readonly env: NodeJS.ProcessEnv | undefined;
  readonly counters: AgentCounters;
  readonly startedAt: number;
  /** The config in force: the last good one. */
  config(): AgentConfig;
  /** The last config problem while the last good config is kept, else null. */
  configError(): string | null;
  /** True from the moment start() begins. */
  started(): boolean;
  /** True once stop() began: long work should give up. */
  stopping(): boolean;
  /** Sends a notification of protocol.ts to every connection `to` accepts (default: all); how many got it. */
  notify<N extends AgentNotification>(method: N, params: AgentNotifications[N], to?: (c: RpcConnection) => boolean): number;
  /** Every feature's capabilities merged (agent.info), after their probes finished. */
  capabilities(): Promise<Partial<AgentCapabilities>>;
  /** Runs every feature's beforeSuspend hook: the box is about to sleep. Never throws. */
  beforeSuspend(): Promise<void>;
}

export interface AgentFeature {
  readonly name: string;
  /** Its RPC methods; each is validated against protocol.ts before the handler runs. */
  readonly methods?: AgentMethodTable;
  /** Takes the tick's sample; exactly one feature provides it. A throw counts as a failed sample. */
  sample?(): Promise<MetricsSample>;
  /** Before the socket opens: load the state that RPC answers from. */
  restore?(): void;
  /** After the socket opened and the pid file was written, before the first tick. */
  start?(): void;
  /** At each tick, before the sample: start slow work that runs beside sampling. */
  beforeSample?(): void;
  /** Each sample, in list order; the first tick after a resume too. */
  onSample?(sample: MetricsSample): void | Promise<void>;
  /** A resume was detected; returns fields for the kernel's "resume detected" log line. */
  onResume?(resume: Resume): Record<string, unknown> | void;
  /** True while the feature expects the box to sleep: then a short gap already counts as a resume. */
  expectsSleep?(): boolean;
  /** A new valid config replaced `old` (ctx.config() is the new one). */
  onConfig?(old: AgentConfig): void;
  /** Its part of agent.info's capabilities. */
  capabilities?(): Promise<Partial<AgentCapabilities>>;
  beforeSuspend?(): Promise<void>;
  /** Stopping: wait for work in flight, while the connections are still open. */
  drain?(): Promise<void>;
  /** Stopping, after the connections closed: flush and close files. */
  stop?(): Promise<void>;
}

export type FeatureFactory<D = never, F extends AgentFeature = AgentFeature> = (ctx: FeatureContext<D>) => F;

/** The deps a factory needs, read off its context parameter. */
export type DepsOf<T> = T extends (ctx: FeatureContext<infer D>) => AgentFeature ? D : never;
