import { useState } from 'react';
import type { AgentMode, AgentState, HostState } from '../../../preload/api.js';
import { openDialog } from '../../app/navigation.js';
import { MoonIcon } from '../../ui/Icons.js';
import { useAction } from '../../ui/useAction.js';
import { deployAgent } from '../agent/actions.js';
import { agentActionFor } from '../agent/agentAction.js';
import { connectHost, disconnectHost } from '../hosts/actions.js';
import { WakeButton } from '../sleep/Wake.js';

export function HostActions({ name, state, agentState, canWake }: { name: string; state: HostState; agentState: AgentState; canWake: boolean }) {
  const { busy, error, setError, run } = useAction();
  const [mode, setMode] = useState<'auto' | AgentMode>('auto');
  const online = state === 'online';
  const go = (fn: () => Promise<void>) => () => void run(fn);
  const sleeping = state === 'asleep' || state === 'waking';
  // A sleeping host's agent is unreachable by design: nothing to retry.
  const action = sleeping ? null : agentActionFor(name, agentState);
  const installed = agentState === 'running' || agentState === 'outdated' || agentState === 'unreachable';
  const offlineTitle = online ? undefined : sleeping ? 'Wake the host first' : 'Connect to the host first';
  return (
    <div className="host-head-actions">
      <div className="host-head-buttons">
        {canWake ? <WakeButton name={name} primary={state === 'asleep'} onError={setError} /> : null}
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
        {agentState === 'unreachable' && !sleeping ? (
          <button
            className="btn btn-ghost btn-sm"
            disabled={busy || !online}
            title={offlineTitle ?? 'Deploy the agent again: reinstalls its files and restarts it (may ask for a sudo password)'}
            onClick={go(() => deployAgent(name))}
          >
            Reinstall
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
