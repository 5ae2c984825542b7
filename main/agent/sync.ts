import type { AgentState, AgentStatus } from '../../preload/api.js';
import { PROTOCOL_VERSION } from '../../remote-agent/protocol.js';
import { ManifestError, type InstallManifest } from '../remote/manifest.js';
import type { OpenedAgent } from './client.js';
import type { SyncContext } from './deps.js';
import { forgetClient, isOnline, type HostEntry } from './host-entry.js';
import { restartDetached } from './restart.js';

/**
 * One pass of the per-host state machine: manifest, open (restarting a detached agent), attach.
 * Every await is followed by a stale check, because the host may go offline, be refreshed or be
 * forgotten meanwhile; a newer generation owns the entry then, and this pass only cleans up.
 */
export async function syncHost(ctx: SyncContext, e: HostEntry): Promise<void> {
  const gen = ++e.gen;
  const stale = () => gen !== e.gen || ctx.closed();
  const conn = ctx.deps.connections.get(e.name);
  if (!isOnline(conn)) return;

  let manifest: InstallManifest | null;
  try {
    manifest = await ctx.readManifest(conn);
  } catch (err) {
    if (stale()) return;
    if (err instanceof ManifestError) {
      ctx.status.set(e, 'not-installed', err.message);
      return;
    }
    if (!isOnline(conn)) return;
    ctx.status.set(e, 'unreachable', `cannot read the install manifest: ${(err as Error).message}`);
    ctx.status.scheduleRetry(e, ctx.deps.retryMs ?? 30_000);
    return;
  }
  if (stale()) return;
  if (!manifest) {
    e.manifest = undefined;
    ctx.status.set(e, 'not-installed', 'No agent installed on this host.');
    return;
  }
  e.manifest = manifest;

  let opened: OpenedAgent;
  try {
    opened = await ctx.open(conn, manifest, { timeoutMs: ctx.timeoutMs });
  } catch (err) {
    if (stale()) return;
    const restarted = await restartDetached(ctx, e, conn, manifest, err, stale);
    if (stale()) {
      restarted?.client.close();
      return;
    }
    if (!restarted) return;
    opened = restarted;
  }
  if (stale()) {
    opened.client.close();
    return;
  }
  await attach(ctx, e, opened, stale);
}

async function attach(ctx: SyncContext, e: HostEntry, opened: OpenedAgent, stale: () => boolean): Promise<void> {
  const { client, info } = opened;
  e.client = client;
  e.transport = opened.transport;
  const protocolOk = info.protocolVersion === PROTOCOL_VERSION;
  e.metricsOk = protocolOk;
  client.on('close', (reason: Error) => {
    try {
      if (e.client !== client) return; // closed on purpose
      forgetClient(e);
      if (ctx.closed() || e.installing) return;
      const conn = ctx.deps.connections.get(e.name);
      if (!isOnline(conn)) return; // the status handler says "host offline"
      ctx.status.set(e, 'unreachable', `agent connection lost: ${reason.message}`, { mode: info.mode, version: info.version });
      // Reconnect soon: a detached agent that died is restarted there, a systemd one comes back by itself.
      ctx.status.scheduleRetry(e, Math.min(1_000, ctx.deps.retryMs ?? 30_000));
    } catch (err) {
      ctx.log(`${e.name}: ${(err as Error).message}`);
    }
  });

  const extra: Partial<AgentStatus> = { version: info.version, mode: info.mode, info };
  let state: AgentState = 'running';
  let message: string | undefined;
  if (!protocolOk) {
    state = 'outdated';
    message = `Agent speaks protocol ${info.protocolVersion}, this app needs ${PROTOCOL_VERSION}. Upgrade the agent.`;
  } else if (info.version !== ctx.deps.bundledVersion) {
    state = 'outdated';
    message = `Agent ${info.version} is installed, this app ships ${ctx.deps.bundledVersion}. Upgrade the agent.`;
  } else if (info.configError) {
    message = `Config problem: ${info.configError}`;
  }
  if (opened.transport === 'exec' && opened.streamlocalError) {
    ctx.log(`${e.name}: using the exec bridge (streamlocal: ${opened.streamlocalError})`);
  }
  ctx.status.set(e, state, message, extra);
  if (!protocolOk) return;

  client.onNotification('metrics.sample', (sample) => {
    if (e.client !== client) return;
    e.latest = sample;
    ctx.batcher.push(e.name, sample);
  });
  // Pushed to every connection (suspending, resumed) or to subscribers (idle.status); listeners never throw out.
  const relay = <T>(what: string, fn: ((name: string, v: T) => void) | undefined) => (v: T) => {
    if (e.client !== client || !fn) return;
    try {
      fn(e.name, v);
    } catch (err) {
      ctx.log(`${e.name}: ${what} listener failed: ${(err as Error).message}`);
    }
  };
  client.onNotification('agent.suspending', relay('agent.suspending', ctx.deps.onSuspending));
  client.onNotification('agent.resumed', relay('agent.resumed', ctx.deps.onResumed));
  client.onNotification('idle.status', relay('idle.status', ctx.deps.onIdleStatus));
  try {
    const latest = await client.call('metrics.latest', {}, { timeoutMs: ctx.timeoutMs });
    if (latest && !stale() && e.client === client && (!e.latest || latest.sampledAt >= e.latest.sampledAt)) {
      e.latest = latest;
      ctx.batcher.push(e.name, latest);
    }
    await client.call('metrics.subscribe', {}, { timeoutMs: ctx.timeoutMs });
  } catch (err) {
    if (stale() || e.client !== client) return;
    ctx.log(`${e.name}: metrics subscription failed: ${(err as Error).message}`);
    return;
  }
  // idle.status is pushed on changes only: start from the current one (energy, tray and UI need it).
  try {
    const idle = await client.call('idle.status', {}, { timeoutMs: ctx.timeoutMs });
    if (!stale()) relay('idle.status', ctx.deps.onIdleStatus)(idle);
  } catch (err) {
    if (!stale() && e.client === client) ctx.log(`${e.name}: idle status failed: ${(err as Error).message}`);
  }
}
