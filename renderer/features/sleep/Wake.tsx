import { memo, useEffect, useState, type ReactNode } from 'react';
import type { HostState } from '../../../preload/api.js';
import { useFleet } from '../../state/store.js';
import { errorMessage } from '../../ui/format.js';
import { CheckIcon, CrossIcon, SunriseIcon } from '../../ui/Icons.js';
import { cancelWake, wakeHost } from './actions.js';
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
  const first = run[0]!;
  const deadlineAt = run.findLast((p) => p.deadlineAt !== undefined)?.deadlineAt;
  return (
    <div className="wake-run">
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
      {!finished && state === 'waking' ? <WakeClock name={name} startedAt={first.at} deadlineAt={deadlineAt} /> : null}
    </div>
  );
});

/** While waking: how long it has been, when the wait gives up, and a way to stop waiting. Ticks each second. */
function WakeClock({ name, startedAt, deadlineAt }: { name: string; startedAt: number; deadlineAt: number | undefined }) {
  const [now, setNow] = useState(Date.now());
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  const elapsed = Math.max(0, Math.round((now - startedAt) / 1000));
  const limit = deadlineAt !== undefined ? Math.round((deadlineAt - startedAt) / 1000) : null;
  return (
    <div className="wake-clock" data-testid={`wake-clock-${name}`}>
      <span className="num">
        {elapsed} s{limit !== null ? <span className="muted"> of up to {limit} s</span> : null}
      </span>
      <button
        type="button"
        className="btn btn-ghost btn-sm"
        data-testid={`wake-cancel-${name}`}
        title="Stop waiting; the magic packet is already out, so the host may still wake"
        onClick={() => cancelWake(name).catch((err: unknown) => setError(errorMessage(err)))}
      >
        Cancel
      </button>
      {error ? <span className="msg msg-danger">{error}</span> : null}
    </div>
  );
}

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
          // A wake that failed after its packet is shown once, in its step list (with why), not here too.
          const shown = useFleet.getState().wake[name]?.some((p) => p.step === 'failed') ?? false;
          onError(shown ? null : errorMessage(err));
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
