import { memo, useState, type ReactNode } from 'react';
import type { HostState } from '../../../preload/api.js';
import { useFleet } from '../../state/store.js';
import { errorMessage } from '../../ui/format.js';
import { CheckIcon, CrossIcon, SunriseIcon } from '../../ui/Icons.js';
import { wakeHost } from './actions.js';
import { wakeStepViews, type WakeStepState } from './labels.js';
import { selectWake } from './store.js';
import './wake.css';

const STEP_ICON: Record<WakeStepState, ReactNode> = {
  done: <CheckIcon size={13} />,
  running: <span className="spinner spinner-xs" aria-hidden="true" />,
  pending: <span className="wake-step-dot" aria-hidden="true" />,
  failed: <CrossIcon size={13} />,
};

/** The steps of the host's latest wake, live from 'wake-progress' events. Renders nothing without a run. */
export const WakeProgressList = memo(function WakeProgressList({ name, state }: { name: string; state: HostState }) {
  const run = useFleet(selectWake(name));
  if (!run || run.length === 0) return null;
  const failed = run.some((p) => p.step === 'failed');
  // Shown while waking, and after a failure until the next attempt; a successful wake ends in 'online'.
  if (!failed && state !== 'waking') return null;
  const finished = failed || run.at(-1)?.step === 'agent-up';
  const rows = wakeStepViews(run, finished);
  return (
    <ol className={`wake-steps${failed ? ' wake-failed' : ''}`} data-testid={`wake-progress-${name}`} data-state={failed ? 'failed' : 'running'} aria-live="polite">
      {rows.map((r) => (
        <li key={r.step} className={`wake-step wake-step-${r.state}`} data-step={r.step} data-state={r.state}>
          <span className="wake-step-icon">{STEP_ICON[r.state]}</span>
          <span className="wake-step-label">{r.label}</span>
          <span className="wake-step-time num">{r.seconds !== null ? `${r.seconds.toFixed(r.seconds < 10 ? 1 : 0)} s` : ''}</span>
          {r.state === 'failed' && r.message ? <span className="wake-step-msg">{r.message}</span> : null}
        </li>
      ))}
    </ol>
  );
});

/** "Wake" for a sleeping host (or an offline one with a MAC); waits for the host and shows errors. */
export function WakeButton({ name, size = 'sm', primary = true, onError }: { name: string; size?: 'sm' | 'md'; primary?: boolean; onError: (message: string | null) => void }) {
  const [busy, setBusy] = useState(false);
  return (
    <button
      className={`btn ${size === 'sm' ? 'btn-sm' : ''} ${primary ? 'btn-wake' : 'btn-secondary'}`}
      data-testid={`wake-${name}`}
      disabled={busy}
      title="Send a Wake-on-LAN magic packet and wait for the host to answer"
      onClick={async () => {
        setBusy(true);
        onError(null);
        try {
          await wakeHost(name);
        } catch (err) {
          onError(errorMessage(err));
        } finally {
          setBusy(false);
        }
      }}
    >
      <SunriseIcon size={14} />
      {busy ? 'Waking…' : 'Wake'}
    </button>
  );
}
