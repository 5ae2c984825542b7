import { useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { FleetApiError, type HostInput, type HostView } from '../../../preload/api.js';
import { closeDialog } from '../../app/navigation.js';
import { useFleet } from '../../state/store.js';
import { ModalButtons } from '../../ui/DialogActions.js';
import { errorMessage } from '../../ui/format.js';
import { Modal } from '../../ui/Modal.js';
import { saveHost } from './actions.js';
import { ChooseFileButton } from './ChooseFileButton.js';

type FieldName = 'name' | 'host' | 'port' | 'user' | 'identityFile' | 'jump' | 'mac' | 'wolAddress' | 'wolPort';
type Values = Record<FieldName, string>;

const ADVANCED: FieldName[] = ['wolAddress', 'wolPort'];
const FIELDS: FieldName[] = ['name', 'host', 'port', 'user', 'identityFile', 'jump', 'mac', 'wolAddress', 'wolPort'];

function valuesOf(h: HostView | undefined): Values {
  return {
    name: h?.name ?? '',
    host: h?.host ?? '',
    port: h ? String(h.port) : '',
    user: h?.user ?? '',
    identityFile: h?.identityFile ?? '',
    jump: h?.jump ?? '',
    mac: h?.mac ?? '',
    wolAddress: h?.wolAddress ?? '',
    wolPort: h?.wolPort != null ? String(h.wolPort) : '',
  };
}

function toInput(v: Values, existing: HostView | undefined): HostInput {
  const opt = (s: string) => (s.trim() === '' ? undefined : s.trim());
  const input: HostInput = { name: v.name.trim(), host: v.host.trim() };
  const set = <K extends keyof HostInput>(k: K, val: HostInput[K] | undefined) => {
    if (val !== undefined) input[k] = val;
  };
  set('port', opt(v.port));
  set('user', opt(v.user));
  set('identityFile', opt(v.identityFile));
  set('jump', opt(v.jump));
  set('mac', opt(v.mac));
  set('wolAddress', opt(v.wolAddress));
  set('wolPort', opt(v.wolPort));
  // Not editable here (CLI and import only); keep what is stored.
  set('passwordEnv', existing?.passwordEnv ?? undefined);
  if (existing?.knownHostsFiles.length) set('knownHostsFiles', existing.knownHostsFiles);
  return input;
}

export function HostDialog({ editName }: { editName?: string }) {
  const existing = useFleet((s) => (editName ? s.hostsByName[editName] : undefined));
  const hostNames = useFleet((s) => s.hostNames);
  const [values, setValues] = useState<Values>(() => valuesOf(existing));
  const [fieldError, setFieldError] = useState<{ field: FieldName; message: string } | null>(null);
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [advancedOpen, setAdvancedOpen] = useState(() => Boolean(existing?.wolAddress || existing?.wolPort));
  const refs = useRef<Partial<Record<FieldName, HTMLInputElement | HTMLSelectElement | null>>>({});
  const [focusTick, setFocusTick] = useState(0);

  useEffect(() => {
    if (!fieldError) return;
    const el = refs.current[fieldError.field];
    el?.focus();
    if (el instanceof HTMLInputElement) el.select();
  }, [fieldError, focusTick]);

  const isEdit = editName !== undefined;
  const jumpChoices = hostNames.filter((n) => n !== editName);

  const update = (f: FieldName) => (e: { target: { value: string } }) => {
    const value = e.target.value;
    setValues((v) => ({ ...v, [f]: value }));
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setFormError(null);
    setFieldError(null);
    const input = toInput(values, existing);
    try {
      await saveHost(input, editName);
      closeDialog();
    } catch (err) {
      if (err instanceof FleetApiError && err.field && (FIELDS as string[]).includes(err.field)) {
        const field = err.field as FieldName;
        if (ADVANCED.includes(field)) setAdvancedOpen(true);
        setFieldError({ field, message: err.message });
        setFocusTick((t) => t + 1);
      } else {
        setFormError(errorMessage(err));
      }
    } finally {
      setBusy(false);
    }
  };

  const field = (
    f: FieldName,
    label: string,
    opts: { placeholder?: string; hint?: string; mono?: boolean; inputMode?: 'numeric' | 'text'; autoFocus?: boolean; action?: ReactNode } = {},
  ) => {
    const id = `host-${f}`;
    const err = fieldError?.field === f ? fieldError.message : null;
    const describedBy = [err ? `${id}-error` : null, opts.hint ? `${id}-hint` : null].filter(Boolean).join(' ');
    return (
      <div className={`field field-${f} ${err ? 'has-error' : ''}`}>
        <label htmlFor={id}>{label}</label>
        <div className={opts.action ? 'input-with-action' : 'input-plain'}>
        <input
          id={id}
          name={f}
          ref={(el) => {
            refs.current[f] = el;
          }}
          className={opts.mono ? 'mono' : undefined}
          value={values[f]}
          onChange={update(f)}
          placeholder={opts.placeholder}
          inputMode={opts.inputMode}
          autoComplete="off"
          spellCheck={false}
          aria-invalid={err ? true : undefined}
          aria-describedby={describedBy || undefined}
        />
        {opts.action}
        </div>
        {err ? (
          <div className="field-error" id={`${id}-error`} data-testid={`field-error-${f}`} role="alert">
            {err}
          </div>
        ) : opts.hint ? (
          <div className="field-hint" id={`${id}-hint`}>
            {opts.hint}
          </div>
        ) : null}
      </div>
    );
  };

  const jumpErr = fieldError?.field === 'jump' ? fieldError.message : null;

  return (
    <Modal
      title={isEdit ? `Edit ${editName}` : 'Add host'}
      eyebrow={isEdit ? 'Host settings' : 'New host'}
      onClose={closeDialog}
      testId="host-dialog"
      size="md"
      labelled={false}
    >
      <form className="form" onSubmit={submit} noValidate>
        <div className="form-grid">
          <div className="span-2">{field('name', 'Name', { placeholder: 'e.g. gpu-box-1', hint: 'How this host appears in Fleetwake.' })}</div>
          <div className="span-row">
            {field('host', 'Host', { placeholder: 'hostname or IP address', mono: true })}
            {field('port', 'Port', { placeholder: '22', inputMode: 'numeric', mono: true })}
          </div>
          {field('user', 'User', { placeholder: 'e.g. ubuntu', mono: true })}
          {field('identityFile', 'Identity file', {
            placeholder: '~/.ssh/id_ed25519',
            mono: true,
            action: (
              <ChooseFileButton
                purpose="identity-file"
                label="Browse for the key file"
                onChosen={(file) => {
                  setValues((v) => ({ ...v, identityFile: file }));
                  // The file the user just picked answers a "not chosen in a file dialog" error.
                  setFieldError((e) => (e?.field === 'identityFile' ? null : e));
                }}
                onError={(message) => setFieldError({ field: 'identityFile', message })}
              />
            ),
          })}
          <div className={`field field-jump ${jumpErr ? 'has-error' : ''}`}>
            <label htmlFor="host-jump">Jump via</label>
            <select
              id="host-jump"
              name="jump"
              ref={(el) => {
                refs.current.jump = el;
              }}
              value={values.jump}
              onChange={update('jump')}
              aria-invalid={jumpErr ? true : undefined}
              aria-describedby={jumpErr ? 'host-jump-error' : 'host-jump-hint'}
            >
              <option value="">Direct connection</option>
              {values.jump && !jumpChoices.includes(values.jump) ? <option value={values.jump}>{values.jump}</option> : null}
              {jumpChoices.map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </select>
            {jumpErr ? (
              <div className="field-error" id="host-jump-error" data-testid="field-error-jump" role="alert">
                {jumpErr}
              </div>
            ) : (
              <div className="field-hint" id="host-jump-hint">
                Reach this host through another one (ProxyJump).
              </div>
            )}
          </div>
          {field('mac', 'MAC address', {
            placeholder: 'aa:bb:cc:dd:ee:ff',
            hint: 'Optional, for Wake-on-LAN.',
            mono: true,
          })}
        </div>

        <details
          className="advanced"
          open={advancedOpen}
          onToggle={(e) => setAdvancedOpen((e.currentTarget as HTMLDetailsElement).open)}
        >
          <summary>Advanced</summary>
          <p className="advanced-lead">Where the Wake-on-LAN magic packet is sent. Leave empty for the defaults.</p>
          <div className="form-grid">
            {field('wolAddress', 'Broadcast address', { placeholder: '255.255.255.255', mono: true })}
            {field('wolPort', 'Magic packet UDP port', { placeholder: '9', inputMode: 'numeric', mono: true, hint: 'Where the packet is sent; 9 (and 7) when empty.' })}
          </div>
        </details>

        {formError ? (
          <div className="form-error" role="alert" data-testid="form-error">
            {formError}
          </div>
        ) : null}

        <ModalButtons submit disabled={busy}>
          {busy ? 'Saving…' : isEdit ? 'Save changes' : 'Save host'}
        </ModalButtons>
      </form>
    </Modal>
  );
}
