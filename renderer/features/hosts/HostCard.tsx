import { memo, type ReactNode } from 'react';
import type { AgentState, HostState } from '../../../preload/api.js';
import { openDialog, openHost } from '../../app/navigation.js';
import { useFleet } from '../../state/store.js';
import { ChevronIcon, KeyIcon, MoonIcon } from '../../ui/Icons.js';
import { useAction } from '../../ui/useAction.js';
import { agentActionFor } from '../agent/agentAction.js';
import { selectAgent, selectLatestDeployStep } from '../agent/store.js';
import { AgentChip, GpuList, SystemMeters } from '../metrics/Metrics.js';
import { selectMetrics } from '../metrics/store.js';
import { AsleepSince } from '../sleep/AsleepSince.js';
import { WakeButton, WakeProgressList } from '../sleep/Wake.js';
import { connectHost, disconnectHost, forgetSecrets } from './actions.js';
import { StatePill } from './StatePill.js';
import { STATE_INFO } from './states.js';
import { selectHost, selectStatus } from './store.js';
import './hosts.css';

/** One host. Subscribes to its own host and status only, so other hosts' updates never re-render it. */
export const HostCard = memo(function HostCard({ name }: { name: string }) {
  const host = useFleet(selectHost(name));
  const status = useFleet(selectStatus(name));
  const agent = useFleet(selectAgent(name));
  const sample = useFleet(selectMetrics(name));
  const lastStep = useFleet(selectLatestDeployStep(name));
  const { busy, error: actionError, setError: setActionError, run } = useAction();

  if (!host) return null;
  const state: HostState = status?.state ?? 'offline';
  const info = STATE_INFO[state];

  const button = (label: string, tone: string, fn: () => Promise<void>) => (
    <button className={`btn ${tone} btn-sm`} disabled={busy} onClick={() => void run(fn)}>
      {label}
    </button>
  );

  const target = `${host.user}@${host.host}${host.port !== 22 ? `:${host.port}` : ''}`;
  const fullTarget = `${host.user}@${host.host}:${host.port}`;
  const message = status?.error;
  const lastError = !message && status?.lastError ? status.lastError : undefined;
  const hasSecrets = host.hasStoredPassword || host.hasStoredPassphrase;
  const agentState: AgentState = agent?.state ?? 'unknown';
  // Asleep or waking is expected quiet: the lost connection and the unreachable agent are not news.
  const sleeping = state === 'asleep' || state === 'waking';
  // Until the host has been reached there is nothing to say about its agent.
  const showAgent = !sleeping && (agentState !== 'unknown' || state === 'online');
  const agentAction = state === 'online' ? agentActionFor(name, agentState) : null;
  const installingStep =
    agentState === 'installing' && lastStep && lastStep.at >= (agent?.since ?? 0) - 1000 ? lastStep.message : undefined;
  const agentNote =
    !sleeping && (agentState === 'unreachable' || agentState === 'outdated') ? agent?.message : undefined;
  const stale = state !== 'online';
  const canSuspend = state === 'online' && agentState === 'running';

  let primary: ReactNode = null;
  switch (state) {
    case 'asleep':
      primary = <WakeButton name={name} onError={setActionError} />;
      break;
    case 'waking':
      primary = (
        <button className="btn btn-wake btn-sm" disabled data-testid={`wake-${name}`}>
          <span className="spinner spinner-xs" aria-hidden="true" />
          Waking…
        </button>
      );
      break;
    case 'offline':
      primary = (
        <>
          {button('Connect', 'btn-primary', () => connectHost(name))}
          {status?.canWake === true ? <WakeButton name={name} primary={false} onError={setActionError} /> : null}
        </>
      );
      break;
    case 'auth-failed':
    case 'error':
      primary = button('Retry', 'btn-primary', () => connectHost(name));
      break;
    case 'host-key-unknown':
    case 'host-key-changed':
      primary = (
        <button
          className={`btn btn-sm ${state === 'host-key-changed' ? 'btn-danger' : 'btn-primary'}`}
          onClick={() => openDialog({ kind: 'host-key', name })}
        >
          <KeyIcon size={14} />
          Review key
        </button>
      );
      break;
    case 'online':
    case 'connecting':
      primary = button('Disconnect', 'btn-secondary', () => disconnectHost(name));
      break;
  }

  return (
    <article
      className={`card host-card tone-${info.tone}`}
      data-testid={`host-card-${name}`}
      data-state={state}
    >
      <div className="host-card-top">
        <h3 className="host-name" title={`Open ${name}`}>
          <button className="host-name-link" onClick={() => openHost(name)} data-testid={`host-open-${name}`}>
            {name}
          </button>
        </h3>
        <StatePill name={name} state={state} />
      </div>
      <div className="host-target mono" title={fullTarget} data-testid={`host-target-${name}`}>
        {target}
      </div>

      <div className="host-meta">
        {host.jump ? (
          <span className="chip" data-testid={`host-jump-${name}`}>
            via {host.jump}
          </span>
        ) : null}
        {host.identityFile ? (
          <span className="chip chip-quiet mono" title={`Identity file ${host.identityFile}`}>
            <KeyIcon size={12} />
            {shortPath(host.identityFile)}
          </span>
        ) : null}
        {host.mac ? <span className="chip chip-quiet" title={`Wake-on-LAN MAC ${host.mac}`}>Wake-on-LAN</span> : null}
      </div>

      {showAgent ? (
        <div className="agent-strip">
          <AgentChip name={name} state={agentState} agent={agent} step={installingStep} />
          <span className="spacer" />
          {agentAction ? (
            <button
              className={`btn btn-sm ${agentState === 'unreachable' ? 'btn-secondary' : 'btn-primary-soft'}`}
              disabled={busy}
              title={agentAction.title}
              onClick={() => void run(agentAction.run)}
            >
              {agentAction.label}
            </button>
          ) : null}
          {canSuspend ? (
            <button
              className="btn btn-ghost btn-sm btn-suspend"
              data-testid={`suspend-${name}`}
              onClick={() => openDialog({ kind: 'suspend', name })}
              title="Suspend this host now (asks first)"
            >
              <MoonIcon size={14} />
              Suspend now
            </button>
          ) : null}
        </div>
      ) : null}
      {agentNote ? <p className={`msg agent-note agent-note-${agentState}`}>{agentNote}</p> : null}

      {sample ? (
        <div className={`card-metrics${stale ? ' is-stale' : ''}`} title={stale ? (sleeping ? 'Last sample before it went to sleep' : 'Last sample before the connection went down') : undefined}>
          <SystemMeters host={name} sample={sample} />
          <GpuList host={name} sample={sample} />
        </div>
      ) : null}

      <WakeProgressList name={name} state={state} />

      <div className="host-message" data-testid={`host-message-${name}`}>
        {state === 'asleep' && status ? (
          <p className="msg msg-sleep">
            <AsleepSince status={status} className="asleep-since" />
          </p>
        ) : state === 'waking' ? null : message ? (
          <p className={`msg msg-${info.tone}`}>{message}</p>
        ) : lastError ? (
          <p className="msg msg-muted">
            <span className="msg-label">Last error</span> {lastError}
          </p>
        ) : sample && state === 'online' ? null : (
          <p className="msg msg-muted">{info.hint}</p>
        )}
        {actionError ? (
          <p className="msg msg-danger" role="alert">
            {actionError}
          </p>
        ) : null}
      </div>

      <div className="host-actions">
        {primary}
        {state === 'auth-failed' && hasSecrets ? (
          <button
            className="btn btn-ghost btn-sm"
            disabled={busy}
            onClick={() => void run(() => forgetSecrets(name))}
            title="Forget the password / passphrase saved in the system keychain"
          >
            Forget saved secret
          </button>
        ) : null}
        <span className="spacer" />
        <button className="btn btn-ghost btn-sm" onClick={() => openHost(name)} title={`Open ${name}: agent, charts, processes`}>
          Open
          <ChevronIcon size={14} />
        </button>
        <button className="btn btn-ghost btn-sm" onClick={() => openDialog({ kind: 'edit', name })}>
          Edit
        </button>
        <button className="btn btn-ghost btn-sm btn-ghost-danger" onClick={() => openDialog({ kind: 'remove', name })}>
          Remove
        </button>
      </div>
    </article>
  );
});

function shortPath(p: string): string {
  const parts = p.split('/');
  return parts.length > 2 ? (parts[parts.length - 1] ?? p) : p;
}
