import { useEffect, useLayoutEffect, useState } from 'react';
import type { EnergyReport } from '../../../preload/api.js';
import { openHost } from '../../app/navigation.js';
import { useFleet } from '../../state/store.js';
import { BackBar } from '../../ui/BackBar.js';
import { errorMessage } from '../../ui/format.js';
import { BoltIcon, MoonIcon } from '../../ui/Icons.js';
import { fmtHours, fmtKwh, fmtMoney } from '../sleep/labels.js';
import { loadEnergy } from './actions.js';
import { PreferencesForm } from './PreferencesForm.js';
import './energy.css';

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
      <BackBar testId="energy-back" />
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
