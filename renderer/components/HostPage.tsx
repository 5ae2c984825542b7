import { memo, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { AgentMode, AgentState, AgentStatus, HistoryPoint, HistoryRange, HostState, MetricsSample } from '../../preload/api.js';
import { connectHost, deployAgent, disconnectHost, loadHistory } from '../lib/actions.js';
import { AGENT_STATE_INFO, OPERATION_LABEL, currentRun, sampleToPoint, toChartRows, type DeployRun } from '../lib/agent.js';
import {
  DASH,
  RANGE_LABEL,
  RANGE_MS,
  fmtBytes,
  fmtPercent,
  fmtPower,
  fmtRate,
  fmtTemp,
  fmtUptime,
  fmtUsedTotal,
  fmtWatts,
  gib,
  rangeTicks,
  ratio,
  shortGpuName,
} from '../lib/format.js';
import { STATE_INFO, canWake, errorMessage, timeAgo } from '../lib/states.js';
import {
  historyKey,
  openDialog,
  openFleet,
  selectAgent,
  selectDeployLog,
  selectHistory,
  selectHost,
  selectMetrics,
  selectStatus,
  useFleet,
} from '../state/store.js';
import { COLORS, MetricChart } from './Charts.js';
import { agentActionFor, StatePill } from './HostCard.js';
import { BackIcon, CheckIcon, CrossIcon, MoonIcon, SkipIcon } from './Icons.js';
import { IdlePanel, SleepHistory } from './IdlePanel.js';
import { AgentChip, GpuList, Meter } from './Metrics.js';
import { fmtDuration, fmtWhen } from '../lib/sleep.js';
import { WakeButton, WakeProgressList } from './Wake.js';

const RANGES: HistoryRange[] = ['1h', '24h', '7d'];
/** 1 h history is refetched this often while shown; live samples fill in between. */
const REFRESH_1H_MS = 30_000;

export function HostPage({ name }: { name: string }) {
  const host = useFleet(selectHost(name));
  const status = useFleet(selectStatus(name));
  const agent = useFleet(selectAgent(name));
  const sample = useFleet(selectMetrics(name));
  const log = useFleet(selectDeployLog(name));
  const run = useMemo(() => currentRun(log), [log]);

  useLayoutEffect(() => {
    window.scrollTo(0, 0);
  }, [name]);

  if (!host) {
    return (
      <section className="host-page" data-testid={`host-page-${name}`}>
        <BackBar />
        <div className="load-error">
          <h2>{name} is not in your fleet</h2>
          <p>It may have been removed.</p>
        </div>
      </section>
    );
  }
  const state: HostState = status?.state ?? 'offline';
  const agentState: AgentState = agent?.state ?? 'unknown';
  const target = `${host.user}@${host.host}${host.port !== 22 ? `:${host.port}` : ''}`;
  // Asleep or waking is expected quiet: the lost connection and the unreachable agent are not news.
  const sleeping = state === 'asleep' || state === 'waking';

  return (
    <section className="host-page" data-testid={`host-page-${name}`}>
      <BackBar />
      <header className="host-head">
        <div className="host-head-main">
          <div className="host-head-title">
            <h2 className="host-head-name">{name}</h2>
            <StatePill name={name} state={state} />
            {sleeping ? null : (
              <AgentChip name={name} state={agentState} agent={agent} step={run?.state === 'running' ? run.steps.at(-1)?.message : undefined} />
            )}
          </div>
          <div className="host-head-sub">
            <span className="mono">{target}</span>
            {host.jump ? <span className="chip">via {host.jump}</span> : null}
            {sample ? <span className="muted">up {fmtUptime(sample.uptimeSeconds)}</span> : null}
            {state === 'asleep' && status ? (
              <span className="msg msg-sleep">
                asleep since {fmtWhen(status.since)} <span className="muted">· {fmtDuration(Date.now() - status.since)}</span>
              </span>
            ) : status?.error && !sleeping ? (
              <span className={`msg msg-${STATE_INFO[state].tone}`}>{status.error}</span>
            ) : null}
          </div>
        </div>
        <HostActions name={name} state={state} agentState={agentState} mac={host.mac} />
      </header>

      <WakeProgressList name={name} state={state} />

      {run ? <DeployPanel run={run} /> : null}

      <div className="host-panels">
        <AgentPanel name={name} agent={agent} hostOnline={state === 'online'} sleeping={sleeping} />
        <LivePanel name={name} sample={sample} hostOnline={state === 'online'} />
      </div>

      {agentState !== 'unknown' || state === 'asleep' ? (
        <div className="host-panels host-panels-idle">
          <IdlePanel name={name} state={state} agentState={agentState} />
          <SleepHistory name={name} state={state} />
        </div>
      ) : null}

      <HistorySection name={name} sample={sample} agentState={agentState} />

      {sample && (sample.gpus.length > 0 || sample.gpuProcesses.length > 0) ? <GpuProcesses sample={sample} /> : null}
    </section>
  );
}

function BackBar() {
  return (
    <div className="back-bar">
      <button className="btn btn-ghost btn-sm back-btn" onClick={openFleet} data-testid="host-page-back">
        <BackIcon size={15} />
        All hosts
      </button>
    </div>
  );
}

function HostActions({ name, state, agentState, mac }: { name: string; state: HostState; agentState: AgentState; mac: string | null }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [mode, setMode] = useState<'auto' | AgentMode>('auto');
  const online = state === 'online';
  const go = (fn: () => Promise<void>) => async () => {
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  const sleeping = state === 'asleep' || state === 'waking';
  // A sleeping host's agent is unreachable by design: nothing to retry.
  const action = sleeping ? null : agentActionFor(name, agentState);
  const installed = agentState === 'running' || agentState === 'outdated' || agentState === 'unreachable';
  const offlineTitle = online ? undefined : sleeping ? 'Wake the host first' : 'Connect to the host first';
  return (
    <div className="host-head-actions">
      <div className="host-head-buttons">
        {canWake(state, mac) ? <WakeButton name={name} primary={state === 'asleep'} onError={setError} /> : null}
        {online && agentState === 'running' ? (
          <button className="btn btn-ghost btn-sm" data-testid={`suspend-${name}`} onClick={() => openDialog({ kind: 'suspend', name })}>
            <MoonIcon size={14} />
            Suspend now
          </button>
        ) : null}
        {online || state === 'connecting' ? (
          <button className="btn btn-ghost btn-sm" disabled={busy} onClick={go(() => disconnectHost(name))}>
            Disconnect
          </button>
        ) : state === 'offline' || state === 'error' || state === 'auth-failed' ? (
          <button className="btn btn-secondary btn-sm" disabled={busy} onClick={go(() => connectHost(name))}>
            Connect
          </button>
        ) : null}
        {agentState === 'not-installed' ? (
          <>
            <select
              className="select-sm"
              aria-label="Install mode"
              value={mode}
              onChange={(e) => setMode(e.target.value as 'auto' | AgentMode)}
              disabled={busy || !online}
              title="Auto uses a system service when sudo works, else a user service"
            >
              <option value="auto">Auto mode</option>
              <option value="system">System (sudo)</option>
              <option value="user">User only</option>
            </select>
            <button className="btn btn-primary btn-sm" disabled={busy || !online} title={offlineTitle} onClick={go(() => deployAgent(name, mode))}>
              Install agent
            </button>
          </>
        ) : action ? (
          <button
            className={`btn btn-sm ${action.label === 'Retry' ? 'btn-secondary' : 'btn-primary'}`}
            disabled={busy || !online}
            title={offlineTitle ?? action.title}
            onClick={go(action.run)}
          >
            {action.label}
          </button>
        ) : null}
        {installed ? (
          <button
            className="btn btn-ghost btn-sm btn-ghost-danger"
            disabled={busy || !online}
            title={offlineTitle}
            onClick={() => openDialog({ kind: 'uninstall-agent', name })}
          >
            Uninstall…
          </button>
        ) : null}
      </div>
      {error ? (
        <p className="msg msg-danger" role="alert">
          {error}
        </p>
      ) : null}
    </div>
  );
}

const STEP_ICON = {
  running: <span className="spinner spinner-xs" aria-hidden="true" />,
  done: <CheckIcon size={14} />,
  failed: <CrossIcon size={14} />,
  skipped: <SkipIcon size={14} />,
};

function DeployPanel({ run }: { run: DeployRun }) {
  const label = OPERATION_LABEL[run.operation][run.state];
  const done = run.steps.filter((s) => s.state !== 'running').length;
  return (
    <section className={`panel deploy-panel deploy-${run.state}`} data-testid="deploy-progress" data-state={run.state} aria-live="polite">
      <header className="panel-head">
        <h3>{label}</h3>
        <span className="muted">
          {run.state === 'running' ? `${done} step${done === 1 ? '' : 's'} done` : `${timeAgo(run.at)} · ${Math.max(1, Math.round((run.at - run.startedAt) / 1000))} s`}
        </span>
      </header>
      {run.state === 'done' ? (
        <details className="deploy-details">
          <summary>Show {run.steps.length} steps</summary>
          <DeploySteps run={run} />
        </details>
      ) : (
        <DeploySteps run={run} />
      )}
    </section>
  );
}

function DeploySteps({ run }: { run: DeployRun }) {
  return (
    <ol className="deploy-steps">
      {run.steps.map((s) => (
        <li key={s.step} className={`deploy-step step-${s.state}`} data-step={s.step} data-state={s.state}>
          <span className="step-icon">{STEP_ICON[s.state]}</span>
          <span className="step-name">{s.step}</span>
          <span className="step-msg">{s.message}</span>
          <span className="step-time num">{s.state === 'running' ? '' : `${((s.at - s.startedAt) / 1000).toFixed(1)} s`}</span>
        </li>
      ))}
    </ol>
  );
}

function AgentPanel({ name, agent, hostOnline, sleeping }: { name: string; agent: AgentStatus | undefined; hostOnline: boolean; sleeping: boolean }) {
  const info = agent?.info;
  const state = agent?.state ?? 'unknown';
  const nic = info?.primaryInterface;
  const caps = info?.capabilities;
  return (
    <section className="panel" data-testid="agent-panel">
      <header className="panel-head">
        <h3>Agent</h3>
        {sleeping ? null : <span className={`muted agent-tone-${AGENT_STATE_INFO[state].tone}`}>{agent?.message ?? ''}</span>}
      </header>
      {info ? (
        <dl className="kv kv-compact">
          <dt>Version</dt>
          <dd>
            <span className="mono">{info.version}</span> <span className="muted">· protocol {info.protocolVersion}</span>
          </dd>
          <dt>Mode</dt>
          <dd>{info.mode === 'system' ? 'System service (root)' : 'User service'}</dd>
          <dt>Hostname</dt>
          <dd className="mono">{info.hostname}</dd>
          <dt>Network</dt>
          <dd>
            {nic ? (
              <span className="nic">
                <span className="mono">{nic.name}</span>
                <span className="mono muted">{nic.mac}</span>
                <span className="mono">{nic.ipv4 ?? DASH}</span>
              </span>
            ) : (
              DASH
            )}
          </dd>
          <dt>Running since</dt>
          <dd>{timeAgo(info.startedAt)} <span className="muted">· pid {info.pid} · node {info.nodeVersion}</span></dd>
          {caps ? (
            <>
              <dt>Can read</dt>
              <dd className="caps">
                <Cap on={caps.gpu} label="GPU" title={caps.gpuReason ?? undefined} />
                <Cap on={caps.rapl} label="CPU power" />
                <Cap on={caps.systemd} label="systemd" />
                <Cap on={caps.docker} label="Docker" />
                <Cap on={caps.sudo} label="sudo" />
              </dd>
            </>
          ) : null}
          {info.configError ? (
            <>
              <dt>Config</dt>
              <dd className="msg msg-warn">{info.configError}</dd>
            </>
          ) : null}
        </dl>
      ) : (
        <p className="panel-empty">
          {state === 'not-installed'
            ? `The agent is not installed on ${name}. Install it to see live CPU, memory and GPU metrics and keep a 7-day history on the server.`
            : state === 'installing'
              ? 'Installing…'
              : hostOnline
                ? 'Waiting for the agent to answer…'
                : sleeping
                  ? `The agent answers again when ${name} is awake.`
                  : 'Connect to the host to reach its agent.'}
        </p>
      )}
    </section>
  );
}

function Cap({ on, label, title }: { on: boolean; label: string; title?: string | undefined }) {
  return (
    <span className={`cap ${on ? 'cap-on' : 'cap-off'}`} title={title}>
      {on ? <CheckIcon size={12} /> : <CrossIcon size={12} />}
      {label}
    </span>
  );
}

const LivePanel = memo(function LivePanel({ name, sample, hostOnline }: { name: string; sample: MetricsSample | undefined; hostOnline: boolean }) {
  if (!sample) {
    return (
      <section className="panel" data-testid="live-panel">
        <header className="panel-head">
          <h3>Now</h3>
        </header>
        <p className="panel-empty">No live metrics yet.</p>
      </section>
    );
  }
  const cpu = sample.cpu.percent === null ? null : sample.cpu.percent / 100;
  const rx = sample.network.reduce((a, n) => a + n.rxBytesPerSec, 0);
  const tx = sample.network.reduce((a, n) => a + n.txBytesPerSec, 0);
  const root = sample.disks.find((d) => d.label === 'root');
  return (
    <section className={`panel live-panel${hostOnline ? '' : ' is-stale'}`} data-testid="live-panel">
      <header className="panel-head">
        <h3>Now</h3>
        <span className="muted">{hostOnline ? <span className="live-dot">live</span> : `as of ${timeAgo(sample.sampledAt)}`}</span>
      </header>
      <div className="live-grid">
        <div className="live-item" data-testid={`metric-cpu-${name}`}>
          <span className="live-label">CPU</span>
          <span className="live-value num">{fmtPercent(sample.cpu.percent)}</span>
          <Meter value={cpu} />
          <span className="live-sub">
            {sample.cpu.perCore.length} cores · load {sample.cpu.load.map((l) => l.toFixed(2)).join(' ')}
          </span>
        </div>
        <div className="live-item" data-testid={`metric-mem-${name}`}>
          <span className="live-label">Memory</span>
          <span className="live-value num">{fmtUsedTotal(sample.memory.usedBytes, sample.memory.totalBytes)}</span>
          <Meter value={ratio(sample.memory.usedBytes, sample.memory.totalBytes)} tone="mem" />
          <span className="live-sub">
            swap {sample.memory.swapTotalBytes > 0 ? fmtUsedTotal(sample.memory.swapUsedBytes, sample.memory.swapTotalBytes) : 'none'}
          </span>
        </div>
        <div className="live-item">
          <span className="live-label">Network</span>
          <span className="live-value num">↓ {fmtRate(sample.network.length ? rx : null)}</span>
          <span className="live-sub">
            ↑ {fmtRate(sample.network.length ? tx : null)} · {sample.network.map((n) => n.iface).join(', ') || DASH}
          </span>
        </div>
        <div className="live-item">
          <span className="live-label">CPU power</span>
          <span className="live-value num">{fmtWatts(sample.cpuPowerW)}</span>
          <span className="live-sub">{sample.cpuPowerW === null ? 'not readable (RAPL)' : 'package, RAPL'}</span>
        </div>
        {root ? (
          <div className="live-item">
            <span className="live-label">Disk /</span>
            <span className="live-value num">{fmtUsedTotal(root.usedBytes, root.totalBytes)}</span>
            <Meter value={ratio(root.usedBytes, root.totalBytes)} tone="mem" />
          </div>
        ) : null}
      </div>
      <GpuList host={name} sample={sample} />
    </section>
  );
});

function GpuProcesses({ sample }: { sample: MetricsSample }) {
  const byUuid = new Map(sample.gpus.map((g) => [g.uuid, g]));
  const procs = [...sample.gpuProcesses].sort((a, b) => (b.usedMemoryBytes ?? -1) - (a.usedMemoryBytes ?? -1));
  return (
    <section className="panel" data-testid="gpu-processes">
      <header className="panel-head">
        <h3>GPU processes</h3>
        <span className="muted">{procs.length ? `${procs.length} running` : ''}</span>
      </header>
      {procs.length === 0 ? (
        <p className="panel-empty">No processes are using the GPUs right now.</p>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th className="num">PID</th>
                <th>Process</th>
                <th>GPU</th>
                <th className="num">GPU memory</th>
              </tr>
            </thead>
            <tbody>
              {procs.map((p) => {
                const g = byUuid.get(p.gpuUuid);
                return (
                  <tr key={`${p.pid}-${p.gpuUuid}`}>
                    <td className="num mono">{p.pid}</td>
                    <td className="mono proc-name" title={p.processName}>
                      {p.processName}
                    </td>
                    <td title={p.gpuUuid}>{g ? `${g.index} · ${shortGpuName(g.name)}` : <span className="mono muted">{p.gpuUuid.slice(0, 12)}…</span>}</td>
                    <td className="num">{fmtBytes(p.usedMemoryBytes)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

// ---- history --------------------------------------------------------------------------------------

function useHistory(name: string, range: HistoryRange, agentState: AgentState) {
  const agentUp = agentState === 'running' || agentState === 'outdated';
  const entry = useFleet(selectHistory(name, range));
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  useEffect(() => {
    let cancelled = false;
    const fetchIt = async () => {
      setLoading(true);
      try {
        await loadHistory(name, range);
        if (!cancelled) setError(null);
      } catch (err) {
        if (!cancelled) setError(errorMessage(err));
      } finally {
        if (!cancelled) setLoading(false);
      }
    };
    const cached = useFleet.getState().history[historyKey(name, range)];
    if (!agentUp && !cached) {
      setLoading(false);
      return;
    }
    const maxAge = range === '1h' ? REFRESH_1H_MS : 5 * 60_000;
    if (!cached || Date.now() - cached.fetchedAt > maxAge) void fetchIt();
    const timer = range === '1h' ? setInterval(() => void fetchIt(), REFRESH_1H_MS) : undefined;
    return () => {
      cancelled = true;
      if (timer) clearInterval(timer);
    };
  }, [name, range, agentUp]);
  return { entry, error, loading };
}

const pctFmt = (v: number) => `${Math.round(v)}%`;
const gibFmt = (v: number) => (v === 0 ? '0' : `${+(v / 1024 ** 3).toFixed(v >= 10 * 1024 ** 3 ? 0 : 1)}G`);
const gibTip = (v: number) => `${gib(v)} GiB`;
const wattFmt = (v: number) => (v === 0 ? '0' : `${Math.round(v)}W`);
const wattTip = (v: number) => `${Math.round(v)} W`;
const tempFmt = (v: number) => `${Math.round(v)}°`;
const tempTip = (v: number) => `${Math.round(v)}°C`;
const rateFmt = (v: number) =>
  v === 0 ? '0' : v >= 1e9 ? `${+(v / 1e9).toFixed(1)}G` : v >= 1e6 ? `${Math.round(v / 1e6)}M` : v >= 1e3 ? `${Math.round(v / 1e3)}k` : `${Math.round(v)}`;

function HistorySection({ name, sample, agentState }: { name: string; sample: MetricsSample | undefined; agentState: AgentState }) {
  const [range, setRange] = useState<HistoryRange>('1h');
  const { entry, error, loading } = useHistory(name, range, agentState);
  const history = entry?.history;

  // Live samples extend the 1 h view between refreshes, one point per history step.
  const [tail, setTail] = useState<HistoryPoint[]>([]);
  const lastHistT = history?.points.at(-1)?.t ?? 0;
  const stepMs = Math.max(5_000, (history?.resolutionSeconds ?? 10) * 1000);
  const lastHistRef = useRef(lastHistT);
  lastHistRef.current = lastHistT;
  useEffect(() => {
    if (!sample || range !== '1h') return;
    setTail((prev) => {
      const kept = prev.length && prev[0]!.t <= lastHistRef.current ? prev.filter((p) => p.t > lastHistRef.current) : prev;
      const lastT = kept.at(-1)?.t ?? lastHistRef.current;
      if (sample.sampledAt - lastT < stepMs) return kept;
      return [...kept, sampleToPoint(sample)].slice(-720);
    });
  }, [sample, range, stepMs]);

  const points = useMemo(() => {
    const base = history?.points ?? [];
    if (range !== '1h') return base;
    const extra = tail.filter((p) => p.t > lastHistT);
    return extra.length ? [...base, ...extra] : base;
  }, [history, tail, range, lastHistT]);

  const gpuIndexes = useMemo(() => {
    const set = new Set<number>();
    for (const g of sample?.gpus ?? []) set.add(g.index);
    for (const g of points.at(-1)?.gpus ?? []) set.add(g.index);
    return [...set].sort((a, b) => a - b);
  }, [sample?.gpus, points]);

  const rows = useMemo(() => toChartRows(points, gpuIndexes, stepMs * 3), [points, gpuIndexes, stepMs]);
  const end = Math.max(points.at(-1)?.t ?? 0, entry?.fetchedAt ?? 0) || Date.now();
  const start = end - RANGE_MS[range];
  const ticks = useMemo(() => rangeTicks(start, end, range), [start, end, range]);
  const common = { rows, range, start, end, ticks };

  const last = points.at(-1);
  const memTotal = sample?.memory.totalBytes ?? last?.memTotalBytes ?? null;

  const resolution = history ? fmtResolution(history.resolutionSeconds) : null;
  return (
    <section className="history" data-testid="history">
      <header className="section-head">
        <h3>History</h3>
        <div className="segmented" role="group" aria-label="History range">
          {RANGES.map((r) => (
            <button
              key={r}
              className={`seg${r === range ? ' seg-on' : ''}`}
              aria-pressed={r === range}
              data-testid={`range-${r}`}
              onClick={() => setRange(r)}
            >
              {RANGE_LABEL[r]}
            </button>
          ))}
        </div>
        <span className="muted history-meta">
          {loading && !history ? (
            <>
              <span className="spinner spinner-xs" aria-hidden="true" /> Loading…
            </>
          ) : resolution ? (
            `${resolution} resolution${range === '1h' ? ' · live' : ''}`
          ) : null}
        </span>
      </header>
      {error ? (
        <p className="form-error" role="alert">
          Could not load history: {error}
        </p>
      ) : null}
      {points.length === 0 && !(loading && !history) && !error ? (
        <p className="panel panel-empty" data-testid="history-empty">
          {agentState === 'running' || agentState === 'outdated'
            ? `No history in this range yet: the agent records a point every ${resolution ?? '10 s'}.`
            : 'History is recorded by the agent on the server, for 7 days. Install the agent to start recording.'}
        </p>
      ) : null}
      {points.length ? (
        <>
          <div className="chart-grid">
            <MetricChart
              testId="chart-cpu"
              title="CPU"
              value={fmtPercent(last?.cpuPercent)}
              series={[{ key: 'cpu', name: 'CPU', color: COLORS.cpu }]}
              yDomain={[0, 100]}
              yFormat={pctFmt}
              {...common}
            />
            <MetricChart
              testId="chart-mem"
              title="Memory"
              value={fmtUsedTotal(last?.memUsedBytes, memTotal)}
              series={[{ key: 'mem', name: 'Used', color: COLORS.mem }]}
              yDomain={[0, memTotal ?? 'auto']}
              yFormat={gibFmt}
              format={gibTip}
              {...common}
            />
            <MetricChart
              testId="chart-net"
              title="Network"
              series={[
                { key: 'rx', name: '↓ rx', color: COLORS.rx, value: fmtRate(last?.netRxBytesPerSec) },
                { key: 'tx', name: '↑ tx', color: COLORS.tx, value: fmtRate(last?.netTxBytesPerSec) },
              ]}
              yDomain={[0, 'auto']}
              yFormat={rateFmt}
              format={fmtRate}
              {...common}
            />
            <MetricChart
              testId="chart-cpu-power"
              title="CPU power"
              value={fmtWatts(last?.cpuPowerW)}
              series={[{ key: 'cpuW', name: 'Package', color: COLORS.cpuW }]}
              yDomain={[0, 'auto']}
              yFormat={wattFmt}
              format={wattTip}
              emptyText="CPU power is not readable on this server (no RAPL access)"
              {...common}
            />
          </div>
          {gpuIndexes.map((i) => {
            const g = sample?.gpus.find((x) => x.index === i);
            const lg = last?.gpus.find((x) => x.index === i);
            return (
              <div className="gpu-charts" key={i} data-testid={`gpu-charts-${i}`}>
                <h4 className="gpu-charts-head">
                  <span className="gpu-idx">{i}</span>
                  {g ? shortGpuName(g.name) : `GPU ${i}`}
                  {g ? <span className="muted mono gpu-uuid">{g.uuid}</span> : null}
                </h4>
                <div className="chart-grid">
                  <MetricChart
                    testId={`chart-gpu-util-${i}`}
                    title="Utilisation"
                    value={fmtPercent(lg?.utilPercent)}
                    series={[{ key: `g${i}u`, name: 'Util', color: COLORS.util }]}
                    yDomain={[0, 100]}
                    yFormat={pctFmt}
                    emptyText={g && g.utilPercent === null ? 'Not reported by this GPU (MIG mode reports no utilisation)' : undefined}
                    height={108}
                    {...common}
                  />
                  <MetricChart
                    testId={`chart-gpu-mem-${i}`}
                    title="VRAM"
                    value={fmtUsedTotal(lg?.memUsedBytes, g?.memTotalBytes)}
                    series={[{ key: `g${i}m`, name: 'Used', color: COLORS.vram }]}
                    yDomain={[0, g?.memTotalBytes ?? 'auto']}
                    yFormat={gibFmt}
                    format={gibTip}
                    height={108}
                    {...common}
                  />
                  <MetricChart
                    testId={`chart-gpu-temp-${i}`}
                    title="Temperature"
                    value={fmtTemp(lg?.tempC)}
                    series={[{ key: `g${i}t`, name: 'Temp', color: COLORS.temp }]}
                    yDomain={[20, (max: number) => Math.max(90, Math.ceil(max / 10) * 10)]}
                    yFormat={tempFmt}
                    format={tempTip}
                    height={108}
                    {...common}
                  />
                  <MetricChart
                    testId={`chart-gpu-power-${i}`}
                    title="Power"
                    value={fmtPower(lg?.powerW, g?.powerLimitW)}
                    series={[{ key: `g${i}p`, name: 'Draw', color: COLORS.power }]}
                    yDomain={[0, g?.powerLimitW ?? 'auto']}
                    yFormat={wattFmt}
                    format={wattTip}
                    height={108}
                    {...common}
                  />
                </div>
              </div>
            );
          })}
        </>
      ) : null}
    </section>
  );
}

function fmtResolution(s: number): string {
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}
