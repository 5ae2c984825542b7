/**
 * The registry: every feature the daemon runs, in the order the kernel calls their hooks (metrics takes
 * the sample before idle reads it). A new feature is a folder with its factory and one line here; its
 * deps join DaemonDeps on their own.
 */
import { hostFeature } from './host/feature.js';
import { idleFeature } from './idle/feature.js';
import type { DepsOf } from './kernel/feature.js';
import type { KernelDeps } from './kernel/kernel.js';
import { metricsFeature } from './metrics/feature.js';
import { wolFeature } from './wol/feature.js';

export const FEATURES = [
  metricsFeature,
  idleFeature,
  wolFeature,
  hostFeature,
] as const;

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;

/** Everything the daemon touches outside itself, injected so tests run it with fakes and a fake clock. */
export type DaemonDeps = KernelDeps & UnionToIntersection<DepsOf<(typeof FEATURES)[number]>>;
