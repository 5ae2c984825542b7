import { useState } from 'react';
import type { IdleSettings, IdleStatus } from '../../../preload/api.js';
import { errorMessage } from '../../ui/format.js';
import { configureIdle } from './actions.js';
import { idleLocks } from './labels.js';

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

export function IdleSettingsForm({ name, status }: { name: string; status: IdleStatus }) {
  const settings = status.settings;
  const locks = idleLocks(status);
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
      <label className="toggle" data-testid="idle-enable" title={locks.isLocked('enableSuspend') ? (locks.note ?? undefined) : undefined}>
        <input
          type="checkbox"
          checked={settings.enableSuspend}
          disabled={busy || locks.isLocked('enableSuspend')}
          onChange={(e) => void send({ enableSuspend: e.target.checked })}
        />
        <span className="toggle-track" aria-hidden="true" />
        <span>Suspend {name} automatically when idle</span>
      </label>
      <div className="idle-fields">
        {FIELDS.map((f) => {
          const bad = error?.field === f.key;
          const locked = locks.isLocked(f.key);
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
                  disabled={locked}
                  title={locked ? (locks.note ?? undefined) : undefined}
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
      {locks.note ? (
        <div className="muted idle-locked-note" data-testid="idle-locked-note">
          {locks.note}: greyed-out settings can be changed only there.
        </div>
      ) : null}
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
