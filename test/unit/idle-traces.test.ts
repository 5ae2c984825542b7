import { describe, expect, it } from 'vitest';
import { cronScriptPolicy, DEFAULT_ENGINE_SETTINGS, enginePolicy, loadTraces, replayTrace } from '../support/load-traces.js';

// The battery `npm run bench` reports on, held to its target here too: it is deterministic (seeded
// traces, simulated time), so it needs no timing and cannot flake.
const traces = loadTraces();

describe('idle engine over the battery of load traces', () => {
  it.each(traces.map((t) => [t.name, t] as const))('%s: no false suspend, no quiet stretch slept through', (_name, trace) => {
    const r = replayTrace(trace, enginePolicy());
    expect(r.falseSuspends, `suspends at ${r.suspends.map((s) => `${Math.round(s / 60_000)} min`).join(', ')}`).toEqual([]);
    expect(r.missed).toEqual([]);
  });

  it('the battery catches false suspends: the cron-script peer makes many', () => {
    const perTrace = traces.map((t) => replayTrace(t, cronScriptPolicy()).falseSuspends.length);
    expect(perTrace.reduce((a, b) => a + b, 0)).toBeGreaterThan(20);
    expect(perTrace.filter((n) => n > 0).length).toBeGreaterThan(traces.length / 2);
  });

  it('the battery catches missed suspends: an engine with suspend disabled sleeps through every quiet stretch', () => {
    const missed = traces.map((t) => replayTrace(t, enginePolicy({ ...DEFAULT_ENGINE_SETTINGS, enableSuspend: false })).missed.length);
    expect(missed.reduce((a, b) => a + b, 0)).toBeGreaterThan(10);
  });

  it('a resume starts the idle clock over', () => {
    const trace = traces.find((t) => t.name === 'resume-in-middle')!;
    const r = replayTrace(trace, enginePolicy());
    const resumedAt = trace.ticks.find((t) => t.resumed)!.t;
    expect(r.suspends.every((s) => s < resumedAt || s - resumedAt >= DEFAULT_ENGINE_SETTINGS.idleTimeoutSeconds * 1000)).toBe(true);
  });
});
