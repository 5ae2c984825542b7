import { agentCommand, agentEnv } from '../remote/layout.js';
import type { InstallManifest } from '../remote/manifest.js';
import { AgentUnavailableError, type AgentHostConnection, type OpenedAgent } from './client.js';
import type { SyncContext } from './deps.js';
import { isOnline, type HostEntry } from './host-entry.js';

const notRunning = (err: unknown) => err instanceof AgentUnavailableError && err.reason === 'not-running';

/**
 * The agent could not be opened: restart a detached one (once per interval) or report why.
 * Resolves with the opened agent after a restart; otherwise the status says why and a retry is set.
 */
export async function restartDetached(
  ctx: SyncContext,
  e: HostEntry,
  conn: AgentHostConnection,
  manifest: InstallManifest,
  err: unknown,
  stale: () => boolean,
): Promise<OpenedAgent | undefined> {
  const message = (err as Error)?.message ?? String(err);
  const retryMs = ctx.deps.retryMs ?? 30_000;
  // The manifest still tells which agent the card is about while it cannot answer itself.
  const installed = { mode: manifest.mode, version: manifest.version };
  if (!notRunning(err) || manifest.supervisor !== 'detached') {
    if (isOnline(conn)) {
      ctx.status.set(e, 'unreachable', message, installed);
      ctx.status.scheduleRetry(e, retryMs);
    }
    return undefined;
  }
  const interval = ctx.deps.restartIntervalMs ?? 60_000;
  const since = Date.now() - e.lastRestartAt;
  if (e.lastRestartAt && since < interval) {
    ctx.status.set(e, 'unreachable', `${message} (restarted ${Math.round(since / 1000)} s ago; trying again later)`, installed);
    ctx.status.scheduleRetry(e, Math.min(retryMs, interval - since + 10));
    return undefined;
  }
  e.lastRestartAt = Date.now();
  ctx.log(`${e.name}: agent not running, starting it (${manifest.agentPath} run --detach)`);
  try {
    // Same files as the deploy recorded, whatever this session's XDG_RUNTIME_DIR says.
    const command = agentCommand(manifest, ['run', '--mode', manifest.mode, '--detach'], { env: agentEnv(manifest) });
    const r = await conn.exec(command, { timeoutMs: ctx.timeoutMs });
    if (stale()) return undefined;
    if (r.code !== 0) {
      const why = (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ') || `exit ${r.code ?? r.signal}`;
      ctx.status.set(e, 'unreachable', `${message}; restarting it failed: ${why}`, installed);
      ctx.status.scheduleRetry(e, retryMs);
      return undefined;
    }
  } catch (startErr) {
    if (stale()) return undefined;
    if (isOnline(conn)) {
      ctx.status.set(e, 'unreachable', `${message}; restarting it failed: ${(startErr as Error).message}`);
      ctx.status.scheduleRetry(e, retryMs);
    }
    return undefined;
  }
  // `run --detach` may return before the socket is bound: try it for a little while.
  const deadline = Date.now() + (ctx.deps.restartWaitMs ?? 5_000);
  let last: unknown;
  for (;;) {
    if (stale() || !isOnline(conn)) return undefined;
    try {
      return await ctx.open(conn, manifest, { timeoutMs: ctx.timeoutMs });
    } catch (again) {
      last = again;
      if (!notRunning(again) || Date.now() >= deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  if (stale()) return undefined;
  ctx.status.set(e, 'unreachable', `restarted the agent, but it is still not reachable: ${(last as Error)?.message ?? String(last)}`, installed);
  ctx.status.scheduleRetry(e, retryMs);
  return undefined;
}
