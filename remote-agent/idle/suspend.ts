/**
 * Suspending the box, for an idle decision or suspend.now: arm Wake-on-LAN, record the sleep period,
 * tell every client, let the other features flush, then run the admin's suspend command. One at a time.
 */
import type { FeatureContext } from '../kernel/feature.js';
import { RPC_ERRORS, type NetworkInterfaceInfo } from '../protocol.js';
import { RpcError } from '../rpc/server.js';
import { armWol } from '../wol/wol.js';
import type { Exec } from './exec.js';
import type { SleepHistory } from './sleep-history.js';

export interface SuspendDeps {
  primaryInterface(): NetworkInterfaceInfo | null;
  /** How long agent.suspending gets to reach the clients before the suspend command runs (default 300 ms). */
  suspendFlushMs?: number;
}

/** A sleep-history write that fails is logged: the suspend or resume it records goes on regardless. */
export function recordSleep(ctx: FeatureContext, write: () => void): void {
  try {
    write();
  } catch (err) {
    ctx.log.error('cannot write the sleep history', { error: err });
  }
}

export class Suspender {
  private inFlight: Promise<void> | null = null;

  constructor(
    private readonly ctx: FeatureContext<SuspendDeps>,
    private readonly sleepHistory: SleepHistory,
    private readonly exec: Exec,
    /** Not again until a fresh window and a full timeout. */
    private readonly resetEngine: () => void,
  ) {}

  /** suspend.now: answers first (the result is written before setImmediate callbacks run), then suspends. */
  now(): { at: number; dryRun: boolean } {
    if (this.inFlight) throw new RpcError(RPC_ERRORS.UNAVAILABLE, 'a suspend is already in progress');
    const at = this.ctx.clock.now();
    const dryRun = this.ctx.config().suspend.dryRun;
    this.inFlight = new Promise<void>((r) => setImmediate(r)).then(() => this.run('manual', at));
    return { at, dryRun };
  }

  idle(at: number): void {
    if (this.inFlight || this.ctx.stopping()) return;
    this.inFlight = this.run('idle', at);
  }

  /** Stopping: give a suspend in progress a moment to finish. */
  async drain(): Promise<void> {
    const inFlight = this.inFlight;
    if (inFlight) await Promise.race([inFlight, new Promise((r) => setTimeout(r, 2000).unref())]);
  }

  private async run(reason: 'idle' | 'manual', at: number): Promise<void> {
    const { ctx } = this;
    try {
      const cfg = ctx.config();
      const dryRun = cfg.suspend.dryRun;
      this.resetEngine();
      let iface = cfg.wol.interface;
      if (!iface) {
        try {
          iface = ctx.deps.primaryInterface()?.name ?? null;
        } catch {
          iface = null;
        }
      }
      const wol = await armWol(this.exec, iface, { enable: cfg.wol.enable, dryRun, env: ctx.env });
      recordSleep(ctx, () => this.sleepHistory.append({ suspendedAt: at, resumedAt: dryRun ? at : null, reason, wolArmed: wol.armed, wolMessage: wol.message }));
      ctx.counters.suspends++;
      const told = ctx.notify('agent.suspending', { at, reason, wolArmed: wol.armed, wolMessage: wol.message, dryRun });
      ctx.log.info(dryRun ? 'dry run: would suspend now' : 'suspending', { reason, clients: told, wol: wol.message, command: cfg.suspend.command.join(' ') });
      await ctx.beforeSuspend();
      await new Promise<void>((r) => ctx.clock.setTimeout(r, ctx.deps.suspendFlushMs ?? 300));
      if (dryRun || ctx.stopping()) return;
      const [file, ...args] = cfg.suspend.command;
      const r = await this.exec(file!, args, { timeoutMs: cfg.suspend.timeoutSeconds * 1000, env: ctx.env });
      if (r.code === 0) {
        ctx.log.info('suspend command finished', { command: cfg.suspend.command.join(' ') });
        return;
      }
      const why = r.failure ?? `exit ${r.code}${r.stderr.trim() ? `: ${r.stderr.trim().split('\n')[0]!.slice(0, 200)}` : ''}`;
      ctx.log.error('suspend command failed: the box stays up', { command: cfg.suspend.command.join(' '), error: why });
      // It did not sleep: close the period and tell the clients the box is (still) up.
      const now = ctx.clock.now();
      recordSleep(ctx, () => this.sleepHistory.close(now));
      ctx.notify('agent.resumed', { at: now, sleptSeconds: 0 });
    } catch (err) {
      ctx.log.error('suspend failed', { error: err });
    } finally {
      this.inFlight = null;
    }
  }
}
