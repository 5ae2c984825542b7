/**
 * The Fleet core: one object every front (Electron, CLI, browser harness) calls. This file only
 * composes the features; each contract method is served by the feature FLEET_METHOD_FEATURE names.
 *
 *   core/context     store, events, SSH pool, prompts, host lookup (shared by every feature)
 *   app              version, data folder, opening links
 *   hosts            host records: add, edit, remove, import
 *   connections      live SSH state, host-key trust, secrets and prompts
 *   agent            the agent on each host: install, status, metrics
 *   sleep            wake, suspend, idle, sleep history, energy; the sleep/wake state machine
 *   preferences      the user's preferences
 *   notify           which native notifications the events deserve
 */
import {
  FLEET_METHOD_FEATURE,
  FLEET_METHODS,
  type AgentStatus,
  type FleetApi,
  type FleetEventName,
  type FleetEvents,
  type FleetFeatureApis,
  type FleetMethod,
  type HostStatus,
} from '../preload/api.js';
import { AgentManager } from './agent/manager.js';
import { AgentService, bundledVersion } from './agent/service.js';
import { AppService } from './app/service.js';
import { ConnectionsService } from './connections/service.js';
import { FleetContext } from './core/context.js';
import type { FleetDeps } from './core/deps.js';
import { HostsService } from './hosts/service.js';
import type { HostRecord } from './hosts/types.js';
import { Notifier } from './notify/index.js';
import { PreferencesService } from './preferences/service.js';
import { SleepService } from './sleep/service.js';
import { SleepWatch } from './sleep/watch.js';
import type { HostConnection } from './ssh/connection.js';

export type { FleetDeps } from './core/deps.js';

export interface Fleet extends FleetApi {
  on<E extends FleetEventName>(event: E, listener: (payload: FleetEvents[E]) => void): () => void;
  /** Connect to the named hosts (all when empty) in parallel, once, and report each one's state. */
  checkHosts(names?: string[]): Promise<HostStatus[]>;
  /** The shared SSH connection of a host, for everything that talks to it. */
  connection(name: string): HostConnection;
  getHost(name: string): HostRecord;
  /** Connect to the host and ask its agent (for the CLI, which keeps no live connections). */
  checkAgent(name: string): Promise<AgentStatus>;
  close(): Promise<void>;
}

/** Every contract method, bound to the feature service the table names. */
function composeApi(features: FleetFeatureApis): FleetApi {
  const api: Partial<Record<FleetMethod, unknown>> = {};
  for (const method of FLEET_METHODS) {
    const service = features[FLEET_METHOD_FEATURE[method]] as unknown as Record<FleetMethod, (...args: unknown[]) => unknown>;
    api[method] = service[method].bind(service);
  }
  return api as FleetApi;
}

export function createFleet(deps: FleetDeps): Fleet {
  const ctx = new FleetContext(deps);
  const notifier = new Notifier({
    preferences: () => ctx.data().preferences,
    emit: (n) => ctx.emit('notification', n),
  });
  const watch = new SleepWatch(ctx, notifier);
  // Registered before the agent manager's own listener: a status is published before agents react to it.
  ctx.pool.on('status', (s: HostStatus) => watch.onPoolStatus(s));
  const agents = new AgentManager({
    connections: { get: (n) => ctx.pool.get(n), names: () => ctx.hostNames() },
    statusEvents: (listener) => {
      ctx.pool.on('status', listener);
      return () => ctx.pool.off('status', listener);
    },
    bundledVersion: bundledVersion(deps.agentBundle),
    onStatus: (s) => {
      if (s.info) watch.learn(s.name, s.info.primaryInterface);
      notifier.agentStatus(s);
      ctx.emit('agent-status', s);
    },
    onMetrics: (b) => {
      watch.noteSamples(b.samples);
      for (const { name, sample } of b.samples) watch.idleDraw.observe(name, sample);
      ctx.emit('metrics', b);
    },
    onSuspending: (name, ev) => watch.onSuspending(name, ev),
    onResumed: (name, ev) => watch.onResumed(name, ev),
    onIdleStatus: (name, status) => {
      watch.notePlan(name, status);
      watch.idleDraw.setState(name, status?.state ?? null);
      ctx.emit('idle-status', { name, status });
    },
    ...deps.agent,
  });

  const overlay = (s: HostStatus) => watch.overlay(s);
  const connections = new ConnectionsService(ctx, overlay);
  const agent = new AgentService(ctx, agents);
  const hosts = new HostsService(ctx, {
    overlay,
    lifecycle: {
      renamed: (from, to) => {
        notifier.forget(from);
        watch.renamed(from, to);
      },
      removing: (name) => notifier.forget(name),
      gone: (name) => {
        agents.forget(name);
        watch.forget(name);
      },
    },
  });
  const api = composeApi({
    app: new AppService(ctx),
    hosts,
    connections,
    agent,
    sleep: new SleepService(ctx, agents, watch, notifier),
    preferences: new PreferencesService(ctx),
  });

  // The CLI asks agents on demand (checkAgent); the app and the harness follow every online host.
  if (ctx.keepConnected) agents.start();
  if (ctx.keepConnected) for (const name of ctx.hostNames()) ctx.pool.get(name).start();

  return {
    ...api,
    on: (event, listener) => ctx.on(event, listener),
    checkHosts: (names) => connections.checkHosts(names),
    connection: (name) => connections.connection(name),
    getHost: (name) => ctx.getHost(name),
    checkAgent: (name) => agent.checkAgent(name),
    close: async () => {
      ctx.closing.abort();
      agents.close();
      ctx.close();
    },
  };
}
