/**
 * A host that went to sleep while nobody was connected: the agent's last announced plan ("suspend at T
 * if nothing changes") is kept with the host, so the next app or CLI run shows it asleep, and says how
 * that is known, instead of "offline".
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { HostStatus } from '../../preload/api.js';
import type { IdleStatus } from '../../remote-agent/protocol.js';
import { statusJson } from '../../main/cli/common.js';
import type { FleetContext } from '../../main/core/context.js';
import type { Notifier } from '../../main/notify/index.js';
import { asleepBasisText, overlayStatus } from '../../main/sleep/wake/idle.js';
import { WakeState } from '../../main/sleep/wake/wake-state.js';
import { SleepWatch } from '../../main/sleep/watch.js';
import { AsleepSince } from '../../renderer/features/sleep/AsleepSince.js';
import { hostStatus } from '../support/builders.js';

const T = Date.UTC(2026, 11, 2, 2, 14);

function idle(over: Partial<IdleStatus> = {}): IdleStatus {
  return {
    state: 'idle',
    gates: [],
    idleSince: T - 600_000,
    suspendAt: T,
    settings: { cpuIdleThreshold: 10, gpuIdleThreshold: 5, windowSeconds: 300, idleTimeoutSeconds: 600, minSamples: 3, enableSuspend: true, networkThresholdBytesPerSec: 1e5 },
    dryRun: false,
    suspendCommand: ['systemctl', 'suspend'],
    samples: 10,
    ...over,
  };
}

/** One run of the app (or of the CLI): a SleepWatch over the shared wake-state.json, a pool answering `pool`. */
function appRun(statePath: string, pool: Map<string, HostStatus>) {
  const pushed: HostStatus[] = [];
  const ctx = {
    deps: { wake: { statePath }, store: { path: join(statePath, '..', 'fleetwake.json'), update: () => undefined } },
    data: () => ({ hosts: [{ name: 'gpu', mac: null }], sleepLog: {} }),
    pool: { statusOf: (n: string) => pool.get(n) ?? hostStatus(n, 'offline') },
    emit: (ev: string, s: HostStatus) => ev === 'host-status' && pushed.push(s),
    closed: false,
    publishHosts: () => undefined,
  } as unknown as FleetContext;
  const notifier = { hostStatus: () => undefined, slept: () => undefined, woke: () => undefined } as unknown as Notifier;
  return { watch: new SleepWatch(ctx, notifier), pushed };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('the overlay with a planned suspend', () => {
  const plan = { suspendAt: T, heardAt: T - 60_000 };

  it('shows an unreachable host asleep from its planned time, once that time has come', () => {
    expect(overlayStatus(hostStatus('gpu', 'offline'), null, undefined, null, plan, T + 1)).toMatchObject({
      state: 'asleep',
      since: T,
      asleepBasis: 'planned',
      canWake: true,
    });
    expect(overlayStatus(hostStatus('gpu', 'connecting'), null, undefined, null, plan, T + 1).state).toBe('asleep');
    // Not yet due: the box may still be up and only unreachable.
    expect(overlayStatus(hostStatus('gpu', 'offline'), null, undefined, null, plan, T - 1).state).toBe('offline');
  });

  it('never hides what the connection says for sure, and an announcement wins over a plan', () => {
    expect(overlayStatus(hostStatus('gpu', 'online'), null, undefined, null, plan, T + 1).state).toBe('online');
    expect(overlayStatus(hostStatus('gpu', 'auth-failed'), null, undefined, null, plan, T + 1).state).toBe('auth-failed');
    expect(overlayStatus(hostStatus('gpu', 'offline'), null, T + 5, null, plan, T + 10).state).toBe('waking');
    const announced = overlayStatus(hostStatus('gpu', 'offline'), { at: T - 5, reason: 'idle' }, undefined, null, plan, T + 1);
    expect(announced).toMatchObject({ state: 'asleep', since: T - 5, asleepBasis: 'announced' });
  });

  it('says in words how the sleep is known (CLI detail and --json)', () => {
    const planned = overlayStatus(hostStatus('gpu', 'offline'), null, undefined, null, plan, T + 1);
    expect(asleepBasisText(planned)).toMatch(/^presumed asleep: its agent planned to suspend at .+ and it has not answered since$/);
    expect(asleepBasisText({ state: 'asleep', since: T, asleepBasis: 'announced' })).toMatch(/as its agent announced/);
    expect(asleepBasisText({ state: 'offline', since: T })).toBe('');
    expect(statusJson(planned)).toMatchObject({ state: 'asleep', asleepBasis: 'planned', asleepSince: new Date(T).toISOString() });
  });
});

describe('the plan kept with each host between runs', () => {
  const file = () => join(mkdtempSync(join(tmpdir(), 'fwt-sleep-plan-')), 'wake-state.json');

  it('the laptop was closed when the box went to sleep: the next run shows it asleep, as planned', () => {
    const statePath = file();
    const pool = new Map([['gpu', hostStatus('gpu', 'online', { since: T - 700_000 })]]);
    vi.useFakeTimers({ now: T - 300_000, toFake: ['Date'] });
    // Evening: connected, the agent says it will suspend at T if nothing changes. Then the lid closes.
    appRun(statePath, pool).watch.notePlan('gpu', idle());
    expect(JSON.parse(readFileSync(statePath, 'utf8')).hosts.gpu.plan).toEqual({ suspendAt: T, heardAt: T - 300_000 });

    // Morning: a new run of the app (or `fleetwake status`) cannot reach the box.
    vi.setSystemTime(T + 8 * 3600_000);
    pool.set('gpu', hostStatus('gpu', 'offline', { since: T + 8 * 3600_000, error: 'connect ECONNREFUSED' }));
    const morning = appRun(statePath, pool);
    morning.watch.onPoolStatus(pool.get('gpu')!);
    expect(morning.pushed.at(-1)).toMatchObject({ state: 'asleep', since: T, asleepBasis: 'planned', canWake: true });

    // It wakes: once online after its planned time, the plan is over and is not kept.
    pool.set('gpu', hostStatus('gpu', 'online', { since: T + 8 * 3600_000 + 5 }));
    morning.watch.onPoolStatus(pool.get('gpu')!);
    expect(morning.pushed.at(-1)!.state).toBe('online');
    expect(new WakeState(statePath).plan('gpu')).toBeNull();
  });

  it('a status without a plan (busy, suspend off, dry run) clears it; a vanished agent does not', () => {
    const { watch } = appRun(file(), new Map());
    const plan = () => watch.wakeState.plan('gpu');
    watch.notePlan('gpu', idle());
    expect(plan()?.suspendAt).toBe(T);
    watch.notePlan('gpu', null as unknown as IdleStatus);
    expect(plan()?.suspendAt).toBe(T);
    watch.notePlan('gpu', idle({ state: 'active', idleSince: null, suspendAt: null }));
    expect(plan()).toBeNull();
    watch.notePlan('gpu', idle({ dryRun: true }));
    expect(plan()).toBeNull();
    watch.notePlan('gpu', idle({ settings: { ...idle().settings, enableSuspend: false } }));
    expect(plan()).toBeNull();
  });

  it('a box still sampling well past its planned time did not suspend: the plan is dropped', () => {
    const pool = new Map([['gpu', hostStatus('gpu', 'online')]]);
    const { watch } = appRun(file(), pool);
    watch.notePlan('gpu', idle());
    watch.noteSamples([{ name: 'gpu', sample: { sampledAt: T + 5_000 } }]);
    expect(watch.wakeState.plan('gpu')).not.toBeNull();
    watch.noteSamples([{ name: 'gpu', sample: { sampledAt: T + 60_000 } }]);
    expect(watch.wakeState.plan('gpu')).toBeNull();
  });

  it('an unreachable host is shown asleep when its planned time comes, without waiting for news', () => {
    vi.useFakeTimers({ now: T - 10_000 });
    const pool = new Map([['gpu', hostStatus('gpu', 'offline', { since: T - 10_000 })]]);
    const { watch, pushed } = appRun(file(), pool);
    watch.notePlan('gpu', idle());
    watch.onPoolStatus(pool.get('gpu')!);
    expect(pushed.at(-1)!.state).toBe('offline');
    vi.advanceTimersByTime(11_000);
    expect(pushed.at(-1)).toMatchObject({ state: 'asleep', asleepBasis: 'planned' });
  });
});

describe('the card and the host page', () => {
  const html = (s: HostStatus) => renderToStaticMarkup(createElement(AsleepSince, { status: s, className: 'x' }));

  it('state an announced sleep, and mark a planned one as presumed, saying why', () => {
    const announced = html(hostStatus('gpu', 'asleep', { since: T, asleepBasis: 'announced' }));
    expect(announced).toMatch(/>Asleep since /);
    expect(announced).not.toMatch(/planned/);
    const planned = html(hostStatus('gpu', 'asleep', { since: T, asleepBasis: 'planned' }));
    expect(planned).toMatch(/>Presumably asleep since /);
    expect(planned).toMatch(/as planned by its agent, not heard since/);
    expect(planned).toMatch(/title="Nobody was connected when it went to sleep/);
  });
});

describe('what the watch learns from an agent', () => {
  it('never keeps a broadcast outside the subnet the agent reports', () => {
    const { watch } = appRun(join(mkdtempSync(join(tmpdir(), 'fwt-learn-')), 'wake-state.json'), new Map());
    watch.learn('gpu', { name: 'eth0', mac: '02:00:5e:10:00:01', ipv4: '10.1.2.7', netmask: '255.255.255.0', broadcast: '8.8.8.8' });
    expect(watch.wakeState.net('gpu')).toMatchObject({ ipv4: '10.1.2.7', broadcast: '10.1.2.255' });
  });
});
