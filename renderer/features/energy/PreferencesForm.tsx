import { useState } from 'react';
import type { NotificationKind, Preferences } from '../../../preload/api.js';
import { errorMessage } from '../../ui/format.js';
import { NOTIFICATION_LABEL } from '../sleep/labels.js';
import { savePreferences } from './actions.js';

const KINDS = Object.keys(NOTIFICATION_LABEL) as NotificationKind[];

type Draft = { baselineWatts: string; sleepWatts: string; pricePerKwh: string; currency: string };

export function PreferencesForm({ prefs }: { prefs: Preferences }) {
  const [draft, setDraft] = useState<Draft>({
    baselineWatts: String(prefs.baselineWatts),
    sleepWatts: String(prefs.sleepWatts),
    pricePerKwh: prefs.pricePerKwh === null ? '' : String(prefs.pricePerKwh),
    currency: prefs.currency,
  });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ field: string | null; message: string } | null>(null);

  const send = async (patch: Partial<Preferences>) => {
    setBusy(true);
    setError(null);
    try {
      await savePreferences(patch);
    } catch (err) {
      setError({ field: (err as { field?: string }).field ?? null, message: errorMessage(err) });
      setBusy(false);
    }
  };
  const num = (v: string) => (v.trim() === '' ? Number.NaN : Number(v.replace(',', '.')));
  const save = () =>
    void send({
      baselineWatts: num(draft.baselineWatts),
      sleepWatts: num(draft.sleepWatts),
      pricePerKwh: draft.pricePerKwh.trim() === '' ? null : num(draft.pricePerKwh),
      currency: draft.currency,
    });

  const field = (key: keyof Draft, label: string, unit: string, hint: string) => {
    const bad = error?.field === key;
    return (
      <div className={`field field-inline${bad ? ' has-error' : ''}`}>
        <label htmlFor={`pref-${key}`}>{label}</label>
        <div className="input-unit">
          <input
            id={`pref-${key}`}
            data-testid={`pref-${key}`}
            value={draft[key]}
            inputMode={key === 'currency' ? 'text' : 'decimal'}
            aria-invalid={bad}
            onChange={(e) => setDraft((d) => ({ ...d, [key]: e.target.value }))}
          />
          {unit ? <span className="unit">{unit}</span> : null}
        </div>
        {bad ? (
          <div className="field-error" role="alert" data-testid={`pref-error-${key}`}>
            {error.message}
          </div>
        ) : (
          <div className="field-hint">{hint}</div>
        )}
      </div>
    );
  };

  return (
    <section className="panel prefs" data-testid="preferences">
      <header className="panel-head">
        <h3>Preferences</h3>
      </header>
      <div className="prefs-grid">
        <div>
          <h4 className="prefs-sub">Notifications</h4>
          <ul className="pref-toggles">
            {KINDS.map((k) => (
              <li key={k}>
                <label className="toggle" data-testid={`pref-notify-${k}`}>
                  <input type="checkbox" checked={prefs.notifications[k]} disabled={busy} onChange={(e) => void send({ notifications: { ...prefs.notifications, [k]: e.target.checked } })} />
                  <span className="toggle-track" aria-hidden="true" />
                  <span>
                    {NOTIFICATION_LABEL[k].label}
                    <span className="muted toggle-hint">{NOTIFICATION_LABEL[k].hint}</span>
                  </span>
                </label>
              </li>
            ))}
          </ul>
          {error?.field?.startsWith('notifications') ? (
            <div className="form-error" role="alert">
              {error.message}
            </div>
          ) : null}
        </div>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            save();
          }}
        >
          <h4 className="prefs-sub">Energy estimate</h4>
          {field('baselineWatts', 'Idle draw when not measured', 'W', 'What an awake, idle host draws at the wall.')}
          {field('sleepWatts', 'Draw while asleep', 'W', 'Suspend-to-RAM keeps a few watts for RAM and the NIC.')}
          {field('pricePerKwh', 'Price per kWh', draft.currency, 'Leave empty to hide money.')}
          {field('currency', 'Currency', '', 'EUR, USD, CHF… or a symbol such as €.')}
          {error && error.field !== null && !['baselineWatts', 'sleepWatts', 'pricePerKwh', 'currency'].includes(error.field) && !error.field.startsWith('notifications') ? (
            <div className="form-error" role="alert">
              {error.message}
            </div>
          ) : null}
          {error && error.field === null ? (
            <div className="form-error" role="alert">
              {error.message}
            </div>
          ) : null}
          <div className="modal-actions prefs-actions">
            <button type="submit" className="btn btn-primary btn-sm" disabled={busy} data-testid="pref-save">
              {busy ? 'Saving…' : 'Save'}
            </button>
          </div>
        </form>
      </div>
    </section>
  );
}
