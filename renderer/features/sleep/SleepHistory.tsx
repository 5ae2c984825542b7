import { memo, useEffect, useState } from 'react';
import type { HostState, SleepPeriod } from '../../../preload/api.js';
import { useFleet } from '../../state/store.js';
import { errorMessage } from '../../ui/format.js';
import { CheckIcon, CrossIcon, QuestionIcon } from '../../ui/Icons.js';
import { loadSleepHistory } from './actions.js';
import { fmtDuration, fmtWhen } from './labels.js';
import { selectSleepHistory } from './store.js';

/** Past sleeps of one host, newest first. */
export const SleepHistory = memo(function SleepHistory({ name, state }: { name: string; state: HostState }) {
  const periods = useFleet(selectSleepHistory(name));
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    loadSleepHistory(name).catch((err: unknown) => live && setError(errorMessage(err)));
    return () => {
      live = false;
    };
    // Reload when the host changes between asleep and awake.
  }, [name, state === 'asleep', state === 'online']);

  return (
    <section className="panel sleep-history" data-testid="sleep-history">
      <header className="panel-head">
        <h3>Sleep history</h3>
        <span className="muted">{periods ? `${periods.length} sleep${periods.length === 1 ? '' : 's'}` : ''}</span>
      </header>
      {!periods || periods.length === 0 ? (
        <p className="panel-empty">{error ?? (periods ? `${name} has not slept yet.` : 'Loading…')}</p>
      ) : (
        <ol className="sleeps">
          {periods.slice(0, 50).map((p) => (
            <SleepRow key={p.suspendedAt} p={p} />
          ))}
        </ol>
      )}
    </section>
  );
});

function SleepRow({ p }: { p: SleepPeriod }) {
  const open = p.resumedAt === null;
  const end = p.resumedAt ?? Date.now();
  return (
    <li className={`sleep-row${open ? ' sleep-open' : ''}`} data-testid="sleep-period" data-open={open}>
      <span className="sleep-when">
        {fmtWhen(p.suspendedAt)}
        <span className="muted"> → </span>
        {open ? <span className="sleep-now">asleep now</span> : fmtWhen(end)}
      </span>
      <span className="sleep-dur num">{fmtDuration(end - p.suspendedAt)}</span>
      <span className={`chip chip-quiet sleep-reason-${p.reason}`}>{p.reason === 'idle' ? 'idle' : p.reason === 'manual' ? 'by you' : 'outside Fleetwake'}</span>
      <span
        className={`sleep-wol sleep-wol-${p.wolArmed === null ? 'na' : p.wolArmed ? 'ok' : 'bad'}`}
        title={p.wolMessage || (p.wolArmed === null ? 'Wake-on-LAN was not armed (not attempted)' : '')}
      >
        {p.wolArmed === null ? <QuestionIcon size={12} /> : p.wolArmed ? <CheckIcon size={12} /> : <CrossIcon size={12} />}
        {p.wolArmed === null ? 'WoL not armed' : p.wolArmed ? 'WoL armed' : 'WoL failed'}
      </span>
    </li>
  );
}
