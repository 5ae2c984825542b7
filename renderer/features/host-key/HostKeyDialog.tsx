import { useEffect, useState, type ReactNode } from 'react';
import { closeDialog } from '../../app/navigation.js';
import { useFleet } from '../../state/store.js';
import { DialogActions, useDialogAction } from '../../ui/DialogActions.js';
import { WarnIcon } from '../../ui/Icons.js';
import { Modal } from '../../ui/Modal.js';
import { selectStatus } from '../hosts/store.js';
import { trustHostKey } from './actions.js';
import { hostKeyFileType, prettyKeyType } from './keyTypes.js';
import './host-key.css';

/** Accept the full fingerprint (with or without `SHA256:`) or at least its last 8 characters. */
export function confirmsFingerprint(typed: string, fingerprint: string): boolean {
  const t = typed.trim().replace(/^SHA256:/i, '');
  const fp = fingerprint.replace(/^SHA256:/i, '');
  if (t.length < 8) return false;
  return fp === t || fp.endsWith(t);
}

function Fingerprint({ value, testId, tone }: { value: string; testId: string; tone?: 'old' | 'new' }) {
  return (
    <code className={`fingerprint ${tone ? `fingerprint-${tone}` : ''}`} data-testid={testId}>
      {value}
    </code>
  );
}

export function HostKeyDialog({ name }: { name: string }) {
  const status = useFleet(selectStatus(name));
  const [typed, setTyped] = useState('');
  const { busy, error, run } = useDialogAction();

  const state = status?.state;
  const isKeyState = state === 'host-key-unknown' || state === 'host-key-changed';
  useEffect(() => {
    // Resolved elsewhere (trusted, host removed, connection moved on): nothing left to decide.
    if (!isKeyState && !busy) closeDialog();
  }, [isKeyState, busy]);
  if (!status || !isKeyState) return null;

  const fingerprint = status.fingerprint ?? '';
  const keyType = status.keyType;
  const fileType = hostKeyFileType(keyType);
  const verifyCmd = `ssh-keygen -lf /etc/ssh/ssh_host_${fileType}_key.pub`;

  const trust = () => void run(() => trustHostKey(name, fingerprint));
  // Both questions show the key the same way and confirm with the same button; only the wording differs.
  const keyFacts = (fingerprints: ReactNode) => (
    <dl className="kv">
      <dt>Key type</dt>
      <dd data-testid="host-key-type">{prettyKeyType(keyType)}</dd>
      {fingerprints}
    </dl>
  );
  const actions = (disabled: boolean, label: string, tone?: 'danger') => (
    <DialogActions error={error} errorTestId="host-key-error" busy={busy} disabled={disabled} tone={tone} label={label} busyLabel="Connecting…" onConfirm={trust} />
  );

  const howToVerify = (
    <div className="verify">
      <div className="verify-title">How to check it</div>
      <p>
        On the server itself (its console, or a session you already trust), run this and compare the{' '}
        <span className="mono">SHA256:</span> part:
      </p>
      <pre className="cmd" data-testid="host-key-verify-command">
        {verifyCmd}
      </pre>
    </div>
  );

  if (state === 'host-key-unknown') {
    return (
      <Modal title={`First connection to ${name}`} eyebrow="Confirm host key" onClose={closeDialog} testId="host-key-dialog">
        <p className="lead">
          Fleetwake has not connected to this server before. Make sure the key below really belongs to it before you
          trust it; from then on, Fleetwake will refuse any other key.
        </p>
        {keyFacts(
          <>
            <dt>Fingerprint</dt>
            <dd>
              <Fingerprint value={fingerprint} testId="host-key-fingerprint" />
            </dd>
          </>,
        )}
        {howToVerify}
        {actions(!fingerprint, 'Trust and connect')}
      </Modal>
    );
  }

  const ok = fingerprint !== '' && confirmsFingerprint(typed, fingerprint);
  return (
    <Modal title="HOST KEY CHANGED" eyebrow="Security warning" onClose={closeDialog} testId="host-key-dialog" tone="danger">
      <div className="danger-box" role="alert">
        <WarnIcon size={20} />
        <p>
          <strong>The host key for {name} has changed.</strong> This can mean someone is intercepting the connection
          (a man-in-the-middle attack). It can also happen after the server was reinstalled or its SSH keys were
          regenerated. Do not continue unless you know why it changed.
        </p>
      </div>
      {keyFacts(
        <>
          <dt>Trusted before</dt>
          <dd>
            <Fingerprint value={status.expectedFingerprint ?? 'unknown'} testId="host-key-old-fingerprint" tone="old" />
          </dd>
          <dt>Presented now</dt>
          <dd>
            <Fingerprint value={fingerprint} testId="host-key-fingerprint" tone="new" />
          </dd>
        </>,
      )}
      {howToVerify}
      <div className="field">
        <label htmlFor="host-key-confirm">Type the new fingerprint, or at least its last 8 characters, to accept it</label>
        <input
          id="host-key-confirm"
          className="mono"
          value={typed}
          onChange={(e) => setTyped(e.target.value)}
          placeholder={fingerprint ? `…${fingerprint.slice(-8)}` : ''}
          autoComplete="off"
          spellCheck={false}
          aria-invalid={typed.trim().length >= 8 && !ok ? true : undefined}
        />
        {typed.trim().length >= 8 && !ok ? (
          <div className="field-error">That does not match the fingerprint the server presented.</div>
        ) : null}
      </div>
      {actions(!ok, 'Trust new key and connect', 'danger')}
    </Modal>
  );
}
