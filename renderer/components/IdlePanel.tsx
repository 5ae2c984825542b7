import { memo, useEffect, useState } from 'react';
import type { AgentState, GateResult, HostState, IdleSettings, IdleStatus, SleepPeriod } from '../../preload/api.js';
import { configureIdle, loadIdle, loadSleepHistory } from '../lib/actions.js';
import { GATE_LABEL, IDLE_STATE_LABEL, firstBlocking, fmtCountdown, fmtDuration, fmtWhen } from '../lib/sleep.js';
import { errorMessage } from '../lib/states.js';
import { selectIdle, selectSleepHistory, useFleet } from '../state/store.js';
import { ActivityIcon, CheckIcon, CrossIcon, MoonIcon, QuestionIcon } from './Icons.js';

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

interface FieldSpec {
  key: keyof IdleSettings;
  label: string;
  unit: string;
  /** settings value -> shown value */
  toView: (v: number) => number;
  fromView: (v: number) => number;
  step: number;
}
const FIELDS: FieldSpec[] = [
  { key: 'idleTimeoutSeconds', label: 'Suspend after idle for', unit: 'min', toView: (v) => Math.round((v / 60) * 10) / 10, fromView: (v) => Math.round(v * 60), step: 1 },
  { key: 'cpuIdleThreshold', label: 'CPU counts as idle below', unit: '%', toView: (v) => v, fromView: (v) => v, step: 1 },
  { key: 'gpuIdleThreshold', label: 'GPU counts as idle below', unit: '%', toView: (v) => v, fromView: (v) => v, step: 1 },
  { key: 'networkThresholdBytesPerSec', label: 'Network counts as idle below', unit: 'KB/s', toView: (v) => Math.round(v / 100) / 10, fromView: (v) => Math.round(v * 1000), step: 1 },
  { key: 'windowSeconds', label: 'Averaged over', unit: 's', toView: (v) => v, fromView: (v) => v, step: 1 },
  // With the window: a shorter window holds fewer samples, and the agent says when they cannot fit.
  { key: 'minSamples', label: 'Samples before deciding', unit: 'samples', toView: (v) => v, fromView: (v) => v, step: 1 },
];

/** Which form field an error from configureIdle belongs to ('idleTimeoutSeconds' or 'settings.idleTimeoutSeconds'). */
export function idleFieldOf(field: string | undefined): keyof IdleSettings | null {
  if (!field) return null;
  const last = field.split('.').at(-1) ?? '';
  return (FIELDS.some((f) => f.key === last) || last === 'enableSuspend' || last === 'minSamples' ? last : null) as keyof IdleSettings | null;
}

function IdleSettingsForm({ name, status }: { name: string; status: IdleStatus }) {
  const settings = status.settings;
  const [draft, setDraft] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ field: keyof IdleSettings | null; message: string } | null>(null);
  const [saved, setSaved] = useState(false);

  const valueOf = (f: FieldSpec) => draft[f.key] ?? String(f.toView(settings[f.key] as number));
  const dirty = FIELDS.some((f) => draft[f.key] !== undefined && draft[f.key] !== String(f.toView(settings[f.key] as number)));

  const send = async (patch: Partial<IdleSettings>) => {
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      await configureIdle(name, patch);
      setDraft({});
      setSaved(true);
    } catch (err) {
      setError({ field: idleFieldOf((err as { field?: string }).field), message: errorMessage(err) });
    } finally {
      setBusy(false);
    }
  };

  const save = () => {
    const patch: Partial<IdleSettings> = {};
    for (const f of FIELDS) {
      const raw = draft[f.key];
      if (raw === undefined) continue;
      const n = raw.trim() === '' ? Number.NaN : Number(raw);
      // Pass bad numbers through: the agent validates and names the field.
      (patch as Record<string, number>)[f.key] = Number.isFinite(n) ? f.fromView(n) : n;
    }
    void send(patch);
  };

  return (
    <form
      className="idle-settings"
      onSubmit={(e) => {
        e.preventDefault();
        save();
      }}
    >
      <label className="toggle" data-testid="idle-enable">
        <input type="checkbox" checked={settings.enableSuspend} disabled={busy} onChange={(e) => void send({ enableSuspend: e.target.checked })} />
        <span className="toggle-track" aria-hidden="true" />
        <span>Suspend {name} automatically when idle</span>
      </label>
      <div className="idle-fields">
        {FIELDS.map((f) => {
          const bad = error?.field === f.key;
          return (
            <div key={f.key} className={`field field-inline${bad ? ' has-error' : ''}`}>
              <label htmlFor={`idle-${f.key}`}>{f.label}</label>
              <div className="input-unit">
                <input
                  id={`idle-${f.key}`}
                  data-testid={`idle-field-${f.key}`}
                  inputMode="decimal"
                  value={valueOf(f)}
                  aria-invalid={bad}
                  onChange={(e) => {
                    setSaved(false);
                    setDraft((d) => ({ ...d, [f.key]: e.target.value }));
                  }}
                />
                <span className="unit">{f.unit}</span>
              </div>
              {bad ? (
                <div className="field-error" role="alert" data-testid={`idle-error-${f.key}`}>
                  {error.message}
                </div>
              ) : null}
            </div>
          );
        })}
      </div>
      {error && !FIELDS.some((f) => f.key === error.field) ? (
        <div className="form-error" role="alert" data-testid="idle-error">
          {error.message}
        </div>
      ) : null}
      <div className="idle-form-foot">
        <span className="muted idle-command" title="Set in the agent's config file on the server; never over the network">
          Suspend command <code className="mono">{status.suspendCommand.join(' ') || '(none)'}</code>
        </span>
        <span className="spacer" />
        {saved && !dirty ? <span className="muted saved-note">Saved</span> : null}
        <button type="button" className="btn btn-ghost btn-sm" disabled={busy || !dirty} onClick={() => setDraft({})}>
          Reset
        </button>
        <button type="submit" className="btn btn-primary btn-sm" disabled={busy || !dirty} data-testid="idle-save">
          {busy ? 'Saving…' : 'Save'}
        </button>
      </div>
    </form>
  );
}

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
