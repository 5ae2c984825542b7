/**
 * A one-shot timeout that can be paused: connection deadlines must not run out while a dialog
 * (passphrase, password, keyboard-interactive) waits for the user.
 */
export class PausableTimer {
  private remaining: number;
  private startedAt = 0;
  private handle: NodeJS.Timeout | undefined;
  private pauses = 0;
  private done = false;

  constructor(ms: number, private readonly onTimeout: () => void) {
    this.remaining = ms;
    this.arm();
  }

  pause(): void {
    if (this.done) return;
    if (this.pauses++ === 0 && this.handle) {
      clearTimeout(this.handle);
      this.handle = undefined;
      this.remaining -= Date.now() - this.startedAt;
    }
  }

  resume(): void {
    if (this.done || this.pauses === 0) return;
    if (--this.pauses === 0) this.arm();
  }

  cancel(): void {
    this.done = true;
    if (this.handle) clearTimeout(this.handle);
    this.handle = undefined;
  }

  private arm(): void {
    this.startedAt = Date.now();
    this.handle = setTimeout(() => {
      this.done = true;
      this.onTimeout();
    }, Math.max(0, this.remaining));
  }
}
