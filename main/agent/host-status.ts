import type { AgentState, AgentStatus } from '../../preload/api.js';
import type { HostEntry } from './host-entry.js';

/**
 * Status bookkeeping of the hosts: publishes only real changes (the UI and notifications react to
 * every event) and owns the retry timers, so a retry made stale by a newer generation never runs.
 */
export class HostStatusKeeper {
  constructor(
    private readonly onStatus: (s: AgentStatus) => void,
    private readonly log: (line: string) => void,
    private readonly retry: (e: HostEntry) => void,
  ) {}

  set(e: HostEntry, state: AgentState, message?: string, extra: Partial<AgentStatus> = {}): void {
    const prev = e.status;
    const next: AgentStatus = { name: e.name, state, since: prev.state === state ? prev.since : Date.now() };
    if (message) next.message = message;
    Object.assign(next, extra);
    if (
      prev.state === next.state &&
      prev.message === next.message &&
      prev.version === next.version &&
      prev.mode === next.mode &&
      JSON.stringify(prev.info) === JSON.stringify(next.info)
    ) {
      return;
    }
    e.status = next;
    try {
      this.onStatus(next);
    } catch (err) {
      this.log(`onStatus listener failed: ${(err as Error).message}`);
    }
  }

  scheduleRetry(e: HostEntry, ms: number): void {
    if (e.retryTimer) clearTimeout(e.retryTimer);
    const gen = e.gen;
    e.retryTimer = setTimeout(() => {
      e.retryTimer = undefined;
      if (gen !== e.gen) return;
      this.retry(e);
    }, ms);
    e.retryTimer.unref?.();
  }
}
