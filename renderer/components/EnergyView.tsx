import { useEffect, useLayoutEffect, useState } from 'react';
import type { EnergyReport, NotificationKind, Preferences } from '../../preload/api.js';
import { loadEnergy, savePreferences } from '../lib/actions.js';
import { NOTIFICATION_LABEL, fmtHours, fmtKwh, fmtMoney } from '../lib/sleep.js';
import { errorMessage } from '../lib/states.js';
import { openFleet, openHost, useFleet } from '../state/store.js';
import { BackIcon, BoltIcon, MoonIcon } from './Icons.js';

const KINDS = Object.keys(NOTIFICATION_LABEL) as NotificationKind[];

export function EnergyView() {
  const energy = useFleet((s) => s.energy);
  const prefs = useFleet((s) => s.preferences);
  const [error, setError] = useState<string | null>(null);
  useLayoutEffect(() => {
    window.scrollTo(0, 0);
  }, []);
  useEffect(() => {
    loadEnergy().catch((err: unknown) => setError(errorMessage(err)));
  }, []);

  return (
    <section className="energy-view" data-testid="energy-view">
      <div className="back-bar">
        <button className="btn btn-ghost btn-sm back-btn" onClick={openFleet} data-testid="energy-back">
          <BackIcon size={15} />
          All hosts
        </button>
      </div>
      <header className="energy-head">
        <h2>Energy saved by sleeping</h2>
        {energy ? <span className="muted">{periodLabel(energy)}</span> : null}
      </header>
      {error ? (
        <div className="form-error" role="alert">
          {error}
        </div>
      ) : null}
      {energy ? <EnergyReportView energy={energy} /> : !error ? <p className="panel panel-empty">Loading…</p> : null}
      {prefs ? <PreferencesForm key={JSON.stringify(prefs)} prefs={prefs} /> : null}
    </section>
  );
}

function periodLabel(r: EnergyReport): string {
  const days = Math.round((r.until - r.since) / 86_400_000);
  const from = new Date(r.since).toLocaleDateString(undefined, { day: 'numeric', month: 'short' });
  const to = new Date(r.until).toLocaleDateString(undefined, { day: 'numeric', month: 'short' });
  return days >= 1 ? `Last ${days} day${days === 1 ? '' : 's'} · ${from} – ${to}` : `${from} – ${to}`;
}

function EnergyReportView({ energy }: { energy: EnergyReport }) {
  const hoursAsleep = energy.hosts.reduce((a, h) => a + h.hoursAsleep, 0);
  const hoursTotal = energy.hosts.reduce((a, h) => a + h.hoursAsleep + h.hoursAwake, 0);
  const sorted = [...energy.hosts].sort((a, b) => b.kwhSaved - a.kwhSaved || a.name.localeCompare(b.name));
  return (
    <>
      <div className="energy-totals" data-testid="energy-total" data-kwh={energy.totalKwhSaved}>
        <div className="energy-stat energy-stat-main">
          <BoltIcon size={20} />
          <div>
            <div className="energy-num num">{fmtKwh(energy.totalKwhSaved)}</div>
            <div className="muted">saved across the fleet</div>
          </div>
        </div>
        <div className="energy-stat">
          <div className="energy-num num">{energy.totalMoneySaved === null ? '—' : fmtMoney(energy.totalMoneySaved, energy.currency)}</div>
          <div className="muted">{energy.totalMoneySaved === null ? 'set a price per kWh below' : 'saved on the power bill'}</div>
        </div>
        <div className="energy-stat">
          <MoonIcon size={18} />
          <div>
            <div className="energy-num num">{fmtHours(hoursAsleep)}</div>
            <div className="muted">asleep · {hoursTotal > 0 ? Math.round((hoursAsleep / hoursTotal) * 100) : 0}% of host-hours</div>
          </div>
        </div>
      </div>

      <div className="panel energy-table-wrap">
        <table className="energy-table">
          <thead>
            <tr>
              <th>Host</th>
              <th className="col-bar">Asleep / awake</th>
              <th className="num">Asleep</th>
              <th className="num">Awake</th>
              <th className="num" title="Awake-and-idle draw the estimate used">Idle draw</th>
              <th className="num">Saved</th>
              {energy.totalMoneySaved !== null ? <th className="num">{energy.currency}</th> : null}
            </tr>
          </thead>
          <tbody>
            {sorted.map((h) => {
              const total = h.hoursAsleep + h.hoursAwake;
              const pct = total > 0 ? (h.hoursAsleep / total) * 100 : 0;
              return (
                <tr key={h.name} data-testid={`energy-host-${h.name}`}>
                  <td>
                    <button className="host-name-link" onClick={() => openHost(h.name)}>
                      {h.name}
                    </button>
                  </td>
                  <td className="col-bar">
                    <div className="sleep-bar" title={`${pct.toFixed(0)}% asleep`}>
                      <span style={{ width: `${pct}%` }} />
                    </div>
                  </td>
                  <td className="num">{fmtHours(h.hoursAsleep)}</td>
                  <td className="num muted">{fmtHours(h.hoursAwake)}</td>
                  <td className="num">
                    {Math.round(h.wattsUsed)} W{' '}
                    <span className={`chip chip-quiet ${h.measured ? 'chip-measured' : ''}`} title={h.measured ? 'GPU power + CPU package (RAPL) measured while idle: more than your baseline' : 'Your baseline (below): nothing measured while idle, or less than the baseline'}>
                      {h.measured ? 'measured' : 'baseline'}
                    </span>
                  </td>
                  <td className={`num ${h.kwhSaved > 0 ? "strong" : "muted"}`}>{fmtKwh(h.kwhSaved)}</td>
                  {energy.totalMoneySaved !== null ? <td className="num">{h.moneySaved === null ? '—' : fmtMoney(h.moneySaved, energy.currency)}</td> : null}
                </tr>
              );
            })}
          </tbody>
        </table>
        <p className="energy-note muted">
          Saved = hours asleep × (idle draw − sleep draw). Measured draws count GPUs and the CPU package only (no fans,
          disks or power-supply losses), so real savings are usually higher.
        </p>
      </div>
    </>
  );
}

type Draft = { baselineWatts: string; sleepWatts: string; pricePerKwh: string; currency: string };

function PreferencesForm({ prefs }: { prefs: Preferences }) {
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
