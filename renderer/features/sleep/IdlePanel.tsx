import { memo, useEffect, useState } from 'react';
import type { AgentState, GateResult, HostState, IdleStatus } from '../../../preload/api.js';
import { useFleet } from '../../state/store.js';
import { errorMessage } from '../../ui/format.js';
import { ActivityIcon, CheckIcon, MoonIcon, QuestionIcon } from '../../ui/Icons.js';
import { loadIdle } from './actions.js';
import { IdleSettingsForm } from './IdleSettingsForm.js';
import { GATE_LABEL, IDLE_STATE_LABEL, firstBlocking, fmtCountdown, fmtDuration, fmtWhen } from './labels.js';
import { selectIdle } from './store.js';
import './idle.css';

/** The idle engine of one host: state, gates, countdown, settings. Subscribes to its own host only. */
export const IdlePanel = memo(function IdlePanel({ name, state, agentState }: { name: string; state: HostState; agentState: AgentState }) {
  const idle = useFleet(selectIdle(name));
  const [loadError, setLoadError] = useState<string | null>(null);
  const reachable = state === 'online' && agentState === 'running';

  useEffect(() => {
    if (!reachable) return;
    let live = true;
    loadIdle(name).catch((err: unknown) => live && setLoadError(errorMessage(err)));
    return () => {
      live = false;
    };
  }, [name, reachable]);

  const status = idle?.status ?? null;
  return (
    <section className="panel idle-panel" data-testid="idle-panel">
      <header className="panel-head">
        <h3>Idle &amp; sleep</h3>
        {status && reachable ? <IdleStateBadge status={status} /> : null}
      </header>
      {status && reachable ? (
        <>
          <Countdown status={status} />
          <GateList gates={status.gates} />
          <IdleSettingsForm name={name} status={status} />
        </>
      ) : (
        <p className="panel-empty">
          {state === 'asleep'
            ? `${name} is asleep. Its idle checks resume when it wakes.`
            : !reachable
              ? (idle?.message ?? (agentState === 'not-installed' ? 'Install the agent to let this host sleep when it is idle.' : 'Connect to the host to see its idle checks.'))
              : (loadError ?? idle?.message ?? 'Asking the agent…')}
        </p>
      )}
    </section>
  );
});

function IdleStateBadge({ status }: { status: IdleStatus }) {
  return (
    <span className={`idle-badge idle-badge-${status.state}`} data-testid="idle-state" data-state={status.state}>
      {IDLE_STATE_LABEL[status.state]}
      {status.dryRun ? <span className="idle-dry" title="dry run: the agent logs instead of suspending"> · dry run</span> : null}
    </span>
  );
}

/** Ticks locally every second from suspendAt; only this line re-renders. */
function Countdown({ status }: { status: IdleStatus }) {
  const [now, setNow] = useState(() => Date.now());
  const at = status.suspendAt;
  useEffect(() => {
    if (at === null) return;
    setNow(Date.now());
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [at]);
  if (at !== null) {
    const left = at - now;
    return (
      <div className="idle-headline idle-headline-countdown">
        <MoonIcon size={18} />
        <span>
          {left > 0 ? 'Suspends in ' : 'Suspending '}
          {left > 0 ? (
            <strong className="num" data-testid="suspend-countdown" data-suspend-at={at}>
              {fmtCountdown(left)}
            </strong>
          ) : (
            <strong data-testid="suspend-countdown" data-suspend-at={at}>
              now…
            </strong>
          )}
          <span className="muted"> · at {fmtWhen(at)} unless something wakes up</span>
        </span>
      </div>
    );
  }
  const blocking = firstBlocking(status.gates);
  return (
    <div className="idle-headline">
      <ActivityIcon size={18} />
      <span>
        {!status.settings.enableSuspend
          ? 'Automatic suspend is off for this host.'
          : blocking
            ? (
                <>
                  Stays awake: <span className="muted">{blocking.reason}</span>
                </>
              )
            : 'Not suspending.'}
        {status.idleSince !== null ? <span className="muted"> · idle for {fmtDuration(Date.now() - status.idleSince)}</span> : null}
      </span>
    </div>
  );
}

const GATE_ICON = {
  clear: <CheckIcon size={13} />,
  busy: <ActivityIcon size={13} />,
  unavailable: <QuestionIcon size={13} />,
};
const GATE_STATUS_TEXT = { clear: 'clear', busy: 'busy', unavailable: 'unavailable' };

function GateList({ gates }: { gates: GateResult[] }) {
  return (
    <ul className="gates">
      {gates.map((g) => (
        <li key={g.gate} className={`gate gate-${g.status}${g.blocking ? ' gate-blocking' : ''}`} data-testid={`gate-${g.gate}`} data-status={g.status} data-blocking={g.blocking}>
          <span className="gate-icon" title={GATE_STATUS_TEXT[g.status]}>
            {GATE_ICON[g.status]}
          </span>
          <span className="gate-name">{GATE_LABEL[g.gate] ?? g.gate}</span>
          <span className="gate-reason">
            {g.reason}
            {g.status === 'unavailable' ? <span className="muted">{g.blocking ? ' · counts as busy' : ' · ignored'}</span> : null}
          </span>
        </li>
      ))}
    </ul>
  );
}
