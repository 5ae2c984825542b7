export interface Clock {
  now(): number;
  /**
   * A clock that stops while the box is suspended (CLOCK_MONOTONIC; performance.now() in Node), in ms.
   * Against now() it tells a suspend (only the wall clock moved) from a frozen process (both moved).
   */
  monotonic?(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const REAL_CLOCK: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};
