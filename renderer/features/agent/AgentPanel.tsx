import type { AgentStatus } from '../../../preload/api.js';
import { DASH, timeAgo } from '../../ui/format.js';
import { CheckIcon, CrossIcon } from '../../ui/Icons.js';
import { AGENT_STATE_INFO } from './agent.js';

export function AgentPanel({ name, agent, hostOnline, sleeping }: { name: string; agent: AgentStatus | undefined; hostOnline: boolean; sleeping: boolean }) {
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
