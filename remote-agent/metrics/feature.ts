/**
 * The metrics feature: takes each tick's sample, keeps the history, pushes samples to subscribers and
 * serves metrics.*. It also probes nvidia-smi (again when its config changes) for agent.info.
 */
import type { AgentFeature, FeatureContext } from '../kernel/feature.js';
import { resolveOnPath } from '../paths.js';
import { HISTORY_RANGES, RPC_ERRORS, type AgentCapabilities, type HistoryPoint, type HistoryRange, type MetricsSample } from '../protocol.js';
import { oneOf, required } from '../rpc/params.js';
import { RpcError } from '../rpc/server.js';
import type { Sampler } from './sampler.js';

export interface HistoryQueryResult {
  range: HistoryRange;
  resolutionSeconds: number;
  points: HistoryPoint[];
}

export interface History {
  add(sample: MetricsSample): unknown;
  query(range: HistoryRange): HistoryQueryResult | Promise<HistoryQueryResult>;
  flush(): unknown;
  close(): unknown;
}

export interface MetricsDeps {
  createSampler(opts: { nvidiaSmiPath: string; nvidiaSmiTimeoutMs: number; intervalMs: number; stateDir: string }): Sampler;
  createHistory(opts: { stateDir: string }): History;
  probeGpu(path: string, timeoutMs: number): Promise<{ gpu: boolean; reason: string | null }>;
}

const HISTORY_FLUSH_MS = 60_000;

export function metricsFeature(ctx: FeatureContext<MetricsDeps>) {
  const { deps, log, clock } = ctx;
  let latest: MetricsSample | null = null;
  let sampler: Sampler | null = null;
  let history: History | null = null;
  let lastFlush = 0;
  let gpuProbe: { gpu: boolean; reason: string | null } = { gpu: false, reason: 'not probed yet' };
  let gpuProbeDone: Promise<void> = Promise.resolve();

  function createSampler(): void {
    const { gpu, metrics } = ctx.config();
    const nvidiaSmiPath = resolveOnPath(gpu.nvidiaSmi, ctx.env ?? process.env) ?? gpu.nvidiaSmi;
    const timeoutMs = Math.round(gpu.timeoutSeconds * 1000);
    sampler?.close?.();
    sampler = deps.createSampler({ nvidiaSmiPath, nvidiaSmiTimeoutMs: timeoutMs, intervalMs: metrics.intervalSeconds * 1000, stateDir: ctx.paths.stateDir });
    gpuProbeDone = deps
      .probeGpu(nvidiaSmiPath, timeoutMs)
      .then((probe) => {
        gpuProbe = probe;
        log.info(probe.gpu ? 'GPU found' : 'no GPU data', { nvidiaSmi: nvidiaSmiPath, reason: probe.reason ?? undefined });
      })
      .catch((err) => {
        gpuProbe = { gpu: false, reason: `GPU probe failed: ${(err as Error).message}` };
      });
  }

  async function flushHistory(): Promise<void> {
    await history?.flush();
  }

  return {
    name: 'metrics',
    methods: {
      'metrics.latest': { params: 'none', handler: () => latest },
      'metrics.history': {
        params: { range: required(oneOf('range', HISTORY_RANGES)) },
        handler: async (p) => {
          if (!history) throw new RpcError(RPC_ERRORS.UNAVAILABLE, 'history is not available yet');
          return await history.query(p.range);
        },
      },
      'metrics.subscribe': {
        params: 'none',
        handler: (_p, conn) => {
          conn.subscribed = true;
          return { intervalSeconds: ctx.config().metrics.intervalSeconds };
        },
      },
      'metrics.unsubscribe': {
        params: 'none',
        handler: (_p, conn) => {
          conn.subscribed = false;
          return { ok: true as const };
        },
      },
    },

    start(): void {
      history = deps.createHistory({ stateDir: ctx.paths.stateDir });
      lastFlush = clock.now();
      createSampler();
    },

    // Always set once started: the kernel samples only after start().
    sample: () => sampler!.sample(),

    async onSample(sample: MetricsSample): Promise<void> {
      latest = sample;
      try {
        history?.add(sample);
        if (clock.now() - lastFlush >= HISTORY_FLUSH_MS) {
          lastFlush = clock.now();
          await flushHistory();
        }
      } catch (err) {
        log.error('history update failed', { error: err });
      }
      const sent = ctx.notify('metrics.sample', sample, (c) => c.subscribed);
      log.debug('sample', { subscribers: sent, gpuError: sample.gpuError ?? undefined });
    },

    onConfig(old): void {
      const next = ctx.config();
      // The resident nvidia-smi's period is the sampling interval: a new interval starts a new one.
      const changed = old.gpu.nvidiaSmi !== next.gpu.nvidiaSmi || old.gpu.timeoutSeconds !== next.gpu.timeoutSeconds || old.metrics.intervalSeconds !== next.metrics.intervalSeconds;
      if (changed) {
        if (ctx.started()) createSampler();
      }
    },

    async capabilities(): Promise<Partial<AgentCapabilities>> {
      await gpuProbeDone;
      let rapl = false;
      try {
        rapl = sampler?.capabilities().rapl ?? false;
      } catch {
        rapl = false;
      }
      return { gpu: gpuProbe.gpu, gpuReason: gpuProbe.gpu ? null : gpuProbe.reason, rapl };
    },

    async beforeSuspend(): Promise<void> {
      try {
        await flushHistory();
      } catch (err) {
        log.warn('history flush before suspend failed', { error: err });
      }
    },

    async stop(): Promise<void> {
      try {
        await history?.flush();
        await history?.close();
      } catch (err) {
        log.error('history flush failed', { error: err });
      }
      history = null;
      sampler?.close?.();
    },
  } satisfies AgentFeature;
}
