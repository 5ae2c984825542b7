/**
 * What each host draws while awake and idle, learned from its samples: GPU power.draw plus the RAPL CPU
 * package, averaged over the most recent samples taken while its idle engine said 'idle'. A busy box's
 * draw must not inflate the energy a sleep saves, so samples in any other state are ignored.
 *
 * In memory only: after a restart the report falls back to the configured baseline until the host has
 * been idle for a while again.
 */
import type { IdleState, MetricsSample } from '../../../preload/api.js';
import { sampleWatts } from './index.js';

/** About an hour of 5 s samples. */
export const IDLE_DRAW_SAMPLES = 720;

export class IdleDrawTracker {
  private readonly state = new Map<string, IdleState>();
  private readonly readings = new Map<string, number[]>();

  constructor(private readonly limit = IDLE_DRAW_SAMPLES) {}

  /** The host's idle state as the agent last reported it (null: unknown, e.g. the agent went away). */
  setState(host: string, state: IdleState | null): void {
    if (state === null) this.state.delete(host);
    else this.state.set(host, state);
  }

  observe(host: string, sample: MetricsSample): void {
    if (this.state.get(host) !== 'idle') return;
    const w = sampleWatts(sample);
    if (w === null) return;
    const list = this.readings.get(host) ?? [];
    list.push(w);
    if (list.length > this.limit) list.splice(0, list.length - this.limit);
    this.readings.set(host, list);
  }

  /** Mean idle draw in watts, or null before any idle sample with a power reading. */
  watts(host: string): number | null {
    const list = this.readings.get(host);
    if (!list || list.length === 0) return null;
    return list.reduce((a, b) => a + b, 0) / list.length;
  }

  forget(host: string): void {
    this.state.delete(host);
    this.readings.delete(host);
  }
}
