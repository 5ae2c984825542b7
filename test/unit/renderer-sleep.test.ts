import { beforeEach, describe, expect, it } from 'vitest';
import type { HostIdle, HostView, IdleStatus, WakeProgress } from '../../preload/api.js';
// The rule moved into the core, which sends it as HostStatus.canWake; the renderer only reads that.
import { canWake } from '../../main/sleep/wake/idle.js';
import { hashWithoutHost, hostFromHash } from '../../renderer/app/deeplink.js';
import { openEnergy } from '../../renderer/app/navigation.js';
import { selectSummary } from '../../renderer/features/fleet/summary.js';
import { applyHosts, applyStatus } from '../../renderer/features/hosts/store.js';
import { fmtCountdown, fmtDuration, fmtKwh, fmtMoney, idleLocks, wakeStepViews } from '../../renderer/features/sleep/labels.js';
import {
  applyIdle,
  applySleepHistory,
  applyWakeProgress,
  clearWakeProgress,
  selectIdle,
  selectSleepHistory,
  selectWake,
} from '../../renderer/features/sleep/store.js';
import { resetFleetStore, useFleet } from '../../renderer/state/store.js';
import { hostStatus, hostView } from '../support/builders.js';

const host = (name: string): HostView => hostView(name, { user: 'me' });
const wp = (name: string, step: WakeProgress['step'], at: number, message = ''): WakeProgress => ({ name, step, at, message });
const status = (suspendAt: number | null): IdleStatus => ({
  state: 'idle',
  gates: [{ gate: 'high_cpu', status: 'clear', blocking: false, reason: 'CPU 2 %' }],
  idleSince: 1,
  suspendAt,
  settings: { cpuIdleThreshold: 10, gpuIdleThreshold: 5, windowSeconds: 300, idleTimeoutSeconds: 1800, minSamples: 30, enableSuspend: true, networkThresholdBytesPerSec: 50_000 },
  dryRun: false,
  suspendCommand: ['systemctl', 'suspend'],
  samples: 40,
});

beforeEach(() => resetFleetStore());

describe('wake progress in the store', () => {
  it('a packet starts a run; later steps append; stale ones are dropped', () => {
    applyWakeProgress(wp('a', 'packet-sent', 100));
    applyWakeProgress(wp('a', 'network-up', 200));
    applyWakeProgress(wp('a', 'packet-sent', 50)); // a new run
    expect(useFleet.getState().wake.a!.map((p) => p.step)).toEqual(['packet-sent']);
    applyWakeProgress(wp('a', 'ssh-up', 300));
    applyWakeProgress(wp('a', 'network-up', 10)); // older than the last step: ignored
    expect(selectWake('a')(useFleet.getState())!.map((p) => p.step)).toEqual(['packet-sent', 'ssh-up']);
    clearWakeProgress('a');
    expect(selectWake('a')(useFleet.getState())).toBeUndefined();
  });

  it('step rows: done, running, pending; failed marks the next step', () => {
    const run = [wp('a', 'packet-sent', 1000), wp('a', 'network-up', 2500)];
    expect(wakeStepViews(run, false).map((r) => [r.step, r.state, r.seconds])).toEqual([
      ['packet-sent', 'done', 0],
      ['network-up', 'done', 1.5],
      ['ssh-up', 'running', null],
      ['agent-up', 'pending', null],
    ]);
    const failed = wakeStepViews([...run, wp('a', 'failed', 121_000, 'No answer within 120 s.')], true);
    expect(failed.map((r) => r.state)).toEqual(['done', 'done', 'failed', 'pending']);
    expect(failed[2]!.message).toBe('No answer within 120 s.');
    expect(wakeStepViews([wp('a', 'packet-sent', 1), wp('a', 'failed', 5, 'x')], true).map((r) => r.state)).toEqual(['done', 'failed', 'pending', 'pending']);
  });
});

describe('idle status per host', () => {
  it('replaces only the host it is for, and ignores identical updates', () => {
    applyIdle({ name: 'a', status: status(10) });
    applyIdle({ name: 'b', status: status(20) });
    const b = selectIdle('b')(useFleet.getState());
    const a1 = selectIdle('a')(useFleet.getState());
    applyIdle({ name: 'a', status: status(30) });
    expect(selectIdle('b')(useFleet.getState())).toBe(b);
    expect(selectIdle('a')(useFleet.getState())).not.toBe(a1);
    const a2 = selectIdle('a')(useFleet.getState());
    applyIdle({ name: 'a', status: status(30) } as HostIdle);
    expect(selectIdle('a')(useFleet.getState())).toBe(a2);
  });

  it('locked settings: which, and the note that says who locked them where', () => {
    const none = idleLocks(status(null));
    expect(none.keys.size).toBe(0);
    expect(none.note).toBeNull();
    const locked = idleLocks({ ...status(null), locked: ['idleTimeoutSeconds', 'enableSuspend'], configFile: '/etc/fleetwake/agent.yaml' });
    expect([...locked.keys]).toEqual(['idleTimeoutSeconds', 'enableSuspend']);
    expect(locked.isLocked('enableSuspend')).toBe(true);
    expect(locked.isLocked('cpuIdleThreshold')).toBe(false);
    expect(locked.note).toBe('Locked by the administrator in /etc/fleetwake/agent.yaml');
    // An agent that does not say where its file is still gets an honest note.
    expect(idleLocks({ ...status(null), locked: ['minSamples'] }).note).toBe("Locked by the administrator in the agent's agent.yaml");
  });

  it('sleep history is kept newest first', () => {
    applySleepHistory('a', [
      { suspendedAt: 1, resumedAt: 2, reason: 'idle', wolArmed: true, wolMessage: '' },
      { suspendedAt: 5, resumedAt: null, reason: 'manual', wolArmed: null, wolMessage: '' },
    ]);
    expect(selectSleepHistory('a')(useFleet.getState())!.map((p) => p.suspendedAt)).toEqual([5, 1]);
  });
});

describe('summary and routes', () => {
  it('counts asleep and waking hosts apart from those needing attention', () => {
    applyHosts(['a', 'b', 'c', 'd'].map(host));
    applyStatus(hostStatus('a', 'online', { since: 1 }));
    applyStatus(hostStatus('b', 'asleep', { since: 1 }));
    applyStatus(hostStatus('c', 'waking', { since: 1 }));
    applyStatus(hostStatus('d', 'error', { since: 1 }));
    expect(selectSummary(useFleet.getState())).toBe('1 online · 1 asleep · 1 waking · 1 needs attention');
  });

  it('opens the energy view', () => {
    openEnergy();
    expect(useFleet.getState().route).toEqual({ page: 'energy' });
  });

  it('wake applies to asleep hosts, and offline ones with a MAC', () => {
    expect(canWake('asleep', null)).toBe(true);
    expect(canWake('offline', 'aa:bb:cc:dd:ee:ff')).toBe(true);
    expect(canWake('offline', null)).toBe(false);
    expect(canWake('online', 'aa:bb:cc:dd:ee:ff')).toBe(false);
  });
});

describe('formatting', () => {
  it('countdown and durations', () => {
    expect(fmtCountdown(750_000)).toBe('12:30');
    expect(fmtCountdown(749_001)).toBe('12:30');
    expect(fmtCountdown(3_723_000)).toBe('1:02:03');
    expect(fmtCountdown(-5)).toBe('0:00');
    expect(fmtDuration(45_000)).toBe('45 s');
    expect(fmtDuration(5 * 3600_000 + 16 * 60_000)).toBe('5 h 16 min');
    expect(fmtDuration(76 * 3600_000)).toBe('3 d 4 h');
  });
  it('energy and money', () => {
    expect(fmtKwh(0)).toBe('0 kWh');
    expect(fmtKwh(7.968)).toBe('7.97 kWh');
    expect(fmtKwh(218.04)).toBe('218.0 kWh');
    expect(fmtMoney(3.5, '€')).toBe('€3.50');
    expect(fmtMoney(3.5, 'EUR')).toMatch(/3[.,]50/);
  });
});

describe('deep links', () => {
  it('reads #host= and keeps other parameters', () => {
    expect(hostFromHash('#host=gpu-1')).toBe('gpu-1');
    expect(hostFromHash('#token=abc&host=gpu%2D1')).toBe('gpu-1');
    expect(hostFromHash('#token=abc')).toBeNull();
    expect(hashWithoutHost('#token=abc&host=gpu-1')).toBe('#token=abc');
    expect(hashWithoutHost('#host=gpu-1')).toBe('');
  });
});
