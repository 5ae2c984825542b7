import { beforeEach, describe, expect, it } from 'vitest';
import type { AgentStatus, DeployProgress, FleetBridge, FleetEventName, FleetEvents, HostStatus, HostView, MetricsSample } from '../../preload/api.js';
import { openDialog, openFleet, openHost } from '../../renderer/app/navigation.js';
import { startFleetSync } from '../../renderer/app/sync.js';
import {
  DEPLOY_LOG_LIMIT,
  applyAgentStatus,
  applyDeployProgress,
  selectAgent,
  selectDeployLog,
  selectLatestDeployStep,
} from '../../renderer/features/agent/store.js';
import { selectSummary } from '../../renderer/features/fleet/summary.js';
import { applyHosts, applyStatus, selectHost, selectStatus, watchHost } from '../../renderer/features/hosts/store.js';
import { applyHistory, applyMetricsBatch, selectHistory, selectMetrics } from '../../renderer/features/metrics/store.js';
import { pushPrompt, removePrompt } from '../../renderer/features/prompts/store.js';
import { resetFleetStore, useFleet } from '../../renderer/state/store.js';
import { hostStatus, hostView, metricsSample } from '../support/builders.js';

const host = (name: string, extra: Partial<HostView> = {}): HostView => hostView(name, { user: 'me', ...extra });
const status = (name: string, state: HostStatus['state'], since: number, extra: Partial<HostStatus> = {}): HostStatus =>
  hostStatus(name, state, { since, ...extra });

describe('renderer fleet store', () => {
  beforeEach(() => resetFleetStore());

  it('keeps object identity of unchanged hosts and of the name list', () => {
    applyHosts([host('a'), host('b')]);
    const s1 = useFleet.getState();
    applyHosts([host('a'), host('b', { user: 'root' })]);
    const s2 = useFleet.getState();
    expect(s2.hostsByName.a).toBe(s1.hostsByName.a);
    expect(s2.hostsByName.b).not.toBe(s1.hostsByName.b);
    expect(s2.hostNames).toBe(s1.hostNames);
    applyHosts([host('b'), host('a')]);
    expect(useFleet.getState().hostNames).toEqual(['b', 'a']);
  });

  it("a status update touches only that host's status object", () => {
    applyHosts([host('a'), host('b')]);
    applyStatus(status('a', 'connecting', 1));
    applyStatus(status('b', 'connecting', 1));
    const before = useFleet.getState().statuses;
    applyStatus(status('a', 'online', 2));
    const after = useFleet.getState().statuses;
    expect(after.a?.state).toBe('online');
    expect(after.b).toBe(before.b);
    // Older and identical statuses are ignored.
    applyStatus(status('a', 'offline', 1));
    applyStatus(status('a', 'online', 2));
    expect(useFleet.getState().statuses).toBe(after);
  });

  it('summarises the fleet', () => {
    expect(selectSummary(useFleet.getState())).toBe('No hosts yet');
    applyHosts([host('a'), host('b'), host('c'), host('d'), host('e')]);
    applyStatus(status('a', 'online', 1));
    applyStatus(status('b', 'online', 1));
    applyStatus(status('c', 'auth-failed', 1));
    applyStatus(status('e', 'connecting', 1));
    expect(selectSummary(useFleet.getState())).toBe('2 online · 1 offline · 1 connecting · 1 needs attention');
  });

  it('opens the host key dialog for a host the user just connected, not for others', () => {
    applyHosts([host('a'), host('b')]);
    applyStatus(status('b', 'host-key-unknown', 1, { fingerprint: 'SHA256:x' }));
    expect(useFleet.getState().dialog).toBeNull();
    watchHost('a');
    applyStatus(status('a', 'connecting', 2));
    expect(useFleet.getState().dialog).toBeNull();
    applyStatus(status('a', 'host-key-changed', 3, { fingerprint: 'SHA256:y', expectedFingerprint: 'SHA256:z' }));
    expect(useFleet.getState().dialog).toEqual({ kind: 'host-key', name: 'a' });
    expect(useFleet.getState().watching).toEqual({});
  });

  it('does not replace a dialog the user has open', () => {
    applyHosts([host('a')]);
    openDialog({ kind: 'import' });
    watchHost('a');
    applyStatus(status('a', 'host-key-unknown', 1, { fingerprint: 'SHA256:x' }));
    expect(useFleet.getState().dialog).toEqual({ kind: 'import' });
  });

  it('closes a dialog about a host that was removed', () => {
    applyHosts([host('a')]);
    openDialog({ kind: 'edit', name: 'a' });
    applyHosts([]);
    expect(useFleet.getState().dialog).toBeNull();
  });

  it('queues prompts and drops them on prompt-closed', () => {
    const p = (id: string) => ({
      id,
      host: 'a',
      kind: 'password' as const,
      title: 't',
      instructions: '',
      prompts: [{ text: 'Password', echo: false }],
      canRemember: false,
    });
    pushPrompt(p('1'));
    pushPrompt(p('2'));
    expect(useFleet.getState().prompts.map((x) => x.id)).toEqual(['1', '2']);
    removePrompt('1');
    expect(useFleet.getState().prompts.map((x) => x.id)).toEqual(['2']);
  });
});

const sample = (t: number, cpu = 10): MetricsSample =>
  metricsSample(t, {
    cpu: { percent: cpu, perCore: [cpu], load: [0.1, 0.1, 0.1] },
    memory: { totalBytes: 64e9, usedBytes: 8e9, availableBytes: 56e9 },
    uptimeSeconds: 100,
  });
const agent = (name: string, state: AgentStatus['state'], since: number, extra: Partial<AgentStatus> = {}): AgentStatus => ({
  name,
  state,
  since,
  ...extra,
});
const step = (name: string, i: number, extra: Partial<DeployProgress> = {}): DeployProgress => ({
  name,
  operation: 'deploy',
  step: `s${i}`,
  state: 'done',
  message: `step ${i}`,
  at: i,
  ...extra,
});

describe('renderer store: agents, metrics, deploy progress', () => {
  beforeEach(() => resetFleetStore());

  it("a metrics batch for one host of 50 changes only that host's selector outputs", () => {
    const names = Array.from({ length: 50 }, (_, i) => `host-${i}`);
    applyHosts(names.map((n) => host(n)));
    for (const n of names) applyStatus(status(n, 'online', 1));
    for (const n of names) applyAgentStatus(agent(n, 'running', 1, { version: '0.4.0' }));
    applyMetricsBatch({ samples: names.map((name) => ({ name, sample: sample(1000) })) });
    for (const n of names) applyDeployProgress(step(n, 1));

    // Every selector a card uses, per host.
    const cardSelectors = (n: string) => [selectHost(n), selectStatus(n), selectAgent(n), selectMetrics(n), selectDeployLog(n), selectLatestDeployStep(n)];
    const snapshot = () => {
      const st = useFleet.getState();
      return Object.fromEntries(names.map((n) => [n, cardSelectors(n).map((sel) => sel(st))]));
    };
    // And what a subscribed card would be told: count notifications whose selected value changed.
    const changed = new Map<string, number>();
    const unsubs = names.map((n) =>
      useFleet.subscribe((st, prev) => {
        if (selectMetrics(n)(st) !== selectMetrics(n)(prev)) changed.set(n, (changed.get(n) ?? 0) + 1);
      }),
    );

    const before = snapshot();
    applyMetricsBatch({ samples: [{ name: 'host-17', sample: sample(2000, 55) }] });
    const after = snapshot();
    unsubs.forEach((u) => u());

    for (const n of names) {
      before[n]!.forEach((v, i) => {
        if (n === 'host-17' && i === 3) {
          expect(after[n]![i]).not.toBe(v);
        } else {
          expect(after[n]![i], `${n} selector ${i}`).toBe(v);
        }
      });
    }
    expect([...changed.entries()]).toEqual([['host-17', 1]]);
    expect(selectMetrics('host-17')(useFleet.getState())?.cpu.percent).toBe(55);
  });

  it('applies a whole batch in one store update and ignores stale samples', () => {
    let updates = 0;
    const off = useFleet.subscribe(() => updates++);
    applyMetricsBatch({ samples: [{ name: 'a', sample: sample(10) }, { name: 'b', sample: sample(10) }, { name: 'c', sample: sample(10) }] });
    expect(updates).toBe(1);
    const m = useFleet.getState().metrics;
    // A late reply to getLatestMetrics, older than what we hold: no update at all.
    applyMetricsBatch({ samples: [{ name: 'a', sample: sample(5) }] });
    applyMetricsBatch({ samples: [] });
    expect(updates).toBe(1);
    expect(useFleet.getState().metrics).toBe(m);
    off();
  });

  it('keeps agent statuses per host, newest wins, identical ones ignored', () => {
    applyAgentStatus(agent('a', 'not-installed', 1));
    applyAgentStatus(agent('b', 'running', 1, { version: '0.4.0' }));
    const s1 = useFleet.getState().agents;
    applyAgentStatus(agent('a', 'installing', 2, { message: 'Uploading' }));
    const s2 = useFleet.getState().agents;
    expect(s2.a?.state).toBe('installing');
    expect(s2.b).toBe(s1.b);
    applyAgentStatus(agent('a', 'not-installed', 1));
    applyAgentStatus(agent('a', 'installing', 2, { message: 'Uploading' }));
    expect(useFleet.getState().agents).toBe(s2);
  });

  it(`keeps the last ${DEPLOY_LOG_LIMIT} progress events per host`, () => {
    for (let i = 0; i < 80; i++) applyDeployProgress(step('a', i));
    applyDeployProgress(step('b', 1));
    const log = useFleet.getState().deployLog.a!;
    expect(log).toHaveLength(DEPLOY_LOG_LIMIT);
    expect(log[0]!.step).toBe('s30');
    expect(log.at(-1)!.step).toBe('s79');
    expect(selectLatestDeployStep('a')(useFleet.getState())?.step).toBe('s79');
    const bLog = useFleet.getState().deployLog.b;
    applyDeployProgress(step('a', 81));
    expect(useFleet.getState().deployLog.b).toBe(bLog);
  });

  it('caches history per host and range', () => {
    applyHistory({ name: 'a', range: '1h', resolutionSeconds: 10, points: [] }, 5);
    applyHistory({ name: 'a', range: '7d', resolutionSeconds: 1800, points: [] }, 6);
    const st = useFleet.getState();
    expect(selectHistory('a', '1h')(st)?.fetchedAt).toBe(5);
    expect(selectHistory('a', '7d')(st)?.history.resolutionSeconds).toBe(1800);
    expect(selectHistory('a', '24h')(st)).toBeUndefined();
  });

  it('routes to a host page and back; a removed host returns to the grid', () => {
    applyHosts([host('a'), host('b')]);
    openHost('a');
    expect(useFleet.getState().route).toEqual({ page: 'host', name: 'a' });
    openFleet();
    expect(useFleet.getState().route).toEqual({ page: 'fleet' });
    openHost('b');
    applyHosts([host('a')]);
    expect(useFleet.getState().route).toEqual({ page: 'fleet' });
  });

  it('startFleetSync loads agents and latest samples, and listens for batched metrics', async () => {
    const listeners = new Map<FleetEventName, (p: unknown) => void>();
    const bridge = {
      on<E extends FleetEventName>(event: E, l: (p: FleetEvents[E]) => void) {
        listeners.set(event, l as (p: unknown) => void);
        return () => listeners.delete(event);
      },
      getAppInfo: async () => ({ version: '0', secretStorage: 'available', storeProblems: [], dataDir: '/x' }),
      listHosts: async () => [host('a'), host('b')],
      getStatuses: async () => [status('a', 'online', 1)],
      getAgentStatuses: async () => [agent('a', 'running', 1, { version: '0.4.0' })],
      getLatestMetrics: async (name: string) => (name === 'a' ? sample(100) : null),
    } as unknown as FleetBridge;
    const stop = startFleetSync(bridge);
    await expect.poll(() => useFleet.getState().metrics.a?.sampledAt).toBe(100);
    expect(useFleet.getState().agents.a?.state).toBe('running');
    expect(useFleet.getState().metrics.b).toBeUndefined();
    listeners.get('metrics')!({ samples: [{ name: 'b', sample: sample(200) }] });
    expect(useFleet.getState().metrics.b?.sampledAt).toBe(200);
    listeners.get('deploy-progress')!(step('b', 1));
    expect(useFleet.getState().deployLog.b).toHaveLength(1);
    stop();
    expect(listeners.size).toBe(0);
  });
});
