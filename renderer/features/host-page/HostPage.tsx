import { useLayoutEffect, useMemo } from 'react';
import type { AgentState, HostState } from '../../../preload/api.js';
import { useFleet } from '../../state/store.js';
import { BackBar } from '../../ui/BackBar.js';
import { fmtUptime } from '../../ui/format.js';
import { currentRun } from '../agent/agent.js';
import { AgentPanel } from '../agent/AgentPanel.js';
import { DeployPanel } from '../agent/DeployPanel.js';
import { selectAgent, selectDeployLog } from '../agent/store.js';
import { HistorySection } from '../metrics/HistorySection.js';
import { AgentChip } from '../metrics/Metrics.js';
import { selectMetrics } from '../metrics/store.js';
import { StatePill } from '../hosts/StatePill.js';
import { STATE_INFO } from '../hosts/states.js';
import { selectHost, selectStatus } from '../hosts/store.js';
import { AsleepSince } from '../sleep/AsleepSince.js';
import { IdlePanel } from '../sleep/IdlePanel.js';
import { SleepHistory } from '../sleep/SleepHistory.js';
import { WakeProgressList } from '../sleep/Wake.js';
import { GpuProcesses } from './GpuProcesses.js';
import { HostActions } from './HostActions.js';
import { LivePanel } from './LivePanel.js';
import './host-page.css';

/** One host in the grid's place: a header, then one panel per concern, each in its own file. */
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
        <BackBar testId="host-page-back" />
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
      <BackBar testId="host-page-back" />
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
            {sample && state === 'online' ? <span className="muted">up {fmtUptime(sample.uptimeSeconds)}</span> : null}
            {state === 'asleep' && status ? (
              <AsleepSince status={status} className="msg msg-sleep" capital={false} />
            ) : status?.error && !sleeping ? (
              <span className={`msg msg-${STATE_INFO[state].tone}`}>{status.error}</span>
            ) : null}
          </div>
        </div>
        <HostActions name={name} state={state} agentState={agentState} canWake={status?.canWake === true} />
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
