import { memo } from 'react';
import type { AgentState, AgentStatus, GpuSample, MetricsSample } from '../../../preload/api.js';
import { DASH, fmtPercent, fmtPower, fmtTemp, fmtUsedTotal, ratio, shortGpuName } from '../../ui/format.js';
import { AGENT_STATE_INFO } from '../agent/agent.js';
import './metrics.css';

/** A thin horizontal bar. `value` is 0..1, or null for "unknown" (drawn hatched, never as empty 0). */
export function Meter({ value, tone = 'accent', label }: { value: number | null; tone?: MeterTone; label?: string }) {
  return (
    <span
      className={`meter meter-${tone}${value === null ? ' meter-unknown' : ''}`}
      role="meter"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={value === null ? undefined : Math.round(value * 100)}
    >
      {value === null ? null : <span className="meter-fill" style={{ width: `${(value * 100).toFixed(1)}%` }} />}
    </span>
  );
}

export type MeterTone = 'accent' | 'ok' | 'warn' | 'danger' | 'mem';

export const tempTone = (t: number | null): string => (t === null ? '' : t >= 85 ? 'hot' : t >= 75 ? 'warm' : '');

export function AgentChip({ name, state, agent, step }: { name: string; state: AgentState; agent?: AgentStatus; step?: string }) {
  const info = AGENT_STATE_INFO[state];
  const version = agent?.version ?? agent?.info?.version;
  let detail: string | null = null;
  if (state === 'running' && version) detail = `v${version}`;
  else if (state === 'outdated' && version) detail = `v${version}`;
  else if (state === 'installing') detail = step ?? agent?.message ?? null;
  // The chip may cut the version short ("v0.1…"): the whole of it is always in the tooltip.
  const title =
    state === 'unreachable' || state === 'outdated' || state === 'installing'
      ? (agent?.message ?? undefined)
      : state === 'running' && version
        ? `Agent v${version}${agent?.mode ? ` (${agent.mode} mode)` : ''}`
        : undefined;
  return (
    <span
      className={`agent-chip agent-${info.tone}`}
      data-testid={`agent-state-${name}`}
      data-state={state}
      title={title}
    >
      <span className="agent-chip-label">Agent</span>
      <span className="agent-chip-state">
        {state === 'installing' ? <span className="spinner spinner-xs" aria-hidden="true" /> : <span className="pill-dot" aria-hidden="true" />}
        {info.label}
      </span>
      {detail ? <span className="agent-chip-detail">{detail}</span> : null}
    </span>
  );
}

export function GpuRow({ host, gpu }: { host: string; gpu: GpuSample }) {
  const util = gpu.utilPercent === null ? null : gpu.utilPercent / 100;
  const short = shortGpuName(gpu.name);
  const mem = ratio(gpu.memUsedBytes, gpu.memTotalBytes);
  if (gpu.sleeping) {
    // Runtime-suspended: not queried, so as not to wake it; say so instead of showing empty readings.
    return (
      <div className="gpu-row gpu-row-sleeping" data-testid={`gpu-row-${host}-${gpu.index}`} title={`GPU ${gpu.index} · ${gpu.name} · ${gpu.uuid}`}>
        <span className="gpu-idx">{gpu.index}</span>
        <span className="gpu-name">{short}</span>
        <span className="gpu-sleeping muted">in its low-power state (not queried, so as not to wake it)</span>
      </div>
    );
  }
  return (
    <div className="gpu-row" data-testid={`gpu-row-${host}-${gpu.index}`} title={`GPU ${gpu.index} · ${gpu.name} · ${gpu.uuid}`}>
      <span className="gpu-idx">{gpu.index}</span>
      <span className="gpu-name">{short}</span>
      <span className="gpu-util">
        <Meter value={util} tone="ok" label={`GPU ${gpu.index} utilisation`} />
        <span className="num gpu-util-num">{util === null ? DASH : fmtPercent(gpu.utilPercent)}</span>
      </span>
      <span className="num gpu-mem" title={mem === null ? undefined : `VRAM ${Math.round(mem * 100)}% used`}>
        {fmtUsedTotal(gpu.memUsedBytes, gpu.memTotalBytes)}
      </span>
      <span className={`num gpu-temp ${tempTone(gpu.tempC)}`}>{fmtTemp(gpu.tempC)}</span>
      <span className="num gpu-power">{fmtPower(gpu.powerW, gpu.powerLimitW)}</span>
    </div>
  );
}

export function GpuList({ host, sample }: { host: string; sample: MetricsSample }) {
  if (sample.gpus.length === 0 && !sample.gpuError) return null;
  return (
    <div className="gpu-list">
      {sample.gpus.map((g) => (
        <GpuRow key={g.index} host={host} gpu={g} />
      ))}
      {sample.gpuError ? (
        <p className="gpu-error" data-testid={`gpu-error-${host}`}>
          {sample.gpuError}
        </p>
      ) : null}
    </div>
  );
}

/** CPU and memory on one line each: label, bar, value. */
export const SystemMeters = memo(function SystemMeters({ host, sample }: { host: string; sample: MetricsSample }) {
  const cpu = sample.cpu.percent === null ? null : sample.cpu.percent / 100;
  const mem = ratio(sample.memory.usedBytes, sample.memory.totalBytes);
  return (
    <div className="sys-meters">
      <div className="sys-meter" data-testid={`metric-cpu-${host}`}>
        <span className="sys-label">CPU</span>
        <Meter value={cpu} label="CPU busy" />
        <span className="num sys-value">{fmtPercent(sample.cpu.percent)}</span>
      </div>
      <div className="sys-meter" data-testid={`metric-mem-${host}`}>
        <span className="sys-label">Mem</span>
        <Meter value={mem} tone="mem" label="Memory used" />
        <span className="num sys-value">{fmtUsedTotal(sample.memory.usedBytes, sample.memory.totalBytes)}</span>
      </div>
    </div>
  );
});
