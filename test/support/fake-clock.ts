/**
 * A hand-driven Clock for the agent daemon: timers fire only in advance(), in time order, with the
 * event loop flushed between them so the daemon's promise chains settle as they would for real.
 */
import type { Clock } from '../../remote-agent/daemon.js';

/** Lets pending promise callbacks and setImmediate work run (a few rounds: chains are short). */
export async function flush(rounds = 8): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

export class FakeClock implements Clock {
  /** Stops in sleep(), runs in advance() and freeze(): like CLOCK_MONOTONIC. */
  mono = 0;
  private seq = 0;
  timers: { id: number; at: number; fn: () => void }[] = [];

  constructor(public t = 1_700_000_000_000) {}

  now = () => this.t;
  monotonic = () => this.mono;
  setTimeout = (fn: () => void, ms: number) => {
    const id = ++this.seq;
    this.timers.push({ id, at: this.t + ms, fn });
    return id;
  };
  clearTimeout = (id: unknown) => {
    this.timers = this.timers.filter((x) => x.id !== id);
  };

  /** Runs every timer due within `ms`, in order. */
  async advance(ms: number): Promise<void> {
    const target = this.t + ms;
    for (;;) {
      await flush();
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers[0];
      if (!next || next.at > target) break;
      this.timers.shift();
      this.mono += next.at - this.t;
      this.t = next.at;
      next.fn();
    }
    this.mono += target - this.t;
    this.t = target;
    await flush();
  }

  /** The box slept: wall time jumps, the monotonic clock stands still, pending timers keep their distance. */
  sleep(ms: number): void {
    this.t += ms;
    for (const timer of this.timers) timer.at += ms;
  }

  /** The process was frozen (SIGSTOP, a paused VM): both clocks ran, no timer fired. */
  freeze(ms: number): void {
    this.sleep(ms);
    this.mono += ms;
  }
}
