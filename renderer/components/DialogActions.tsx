import { useState, type ReactNode } from 'react';
import { errorMessage } from '../lib/states.js';
import { closeDialog } from '../state/store.js';

/** One confirm action of a dialog: busy while it runs, closes the dialog when done, keeps it open with the error when not. */
export function useDialogAction(): { busy: boolean; error: string | null; run: (fn: () => Promise<void>) => Promise<void> } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async (fn: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
      closeDialog();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run };
}

/** The error line and Cancel / confirm buttons at the foot of a confirm dialog. */
export function DialogActions(props: {
  error: string | null;
  errorTestId?: string;
  busy: boolean;
  /** Disabled for a reason other than running (e.g. a confirmation not typed yet). */
  disabled?: boolean;
  tone?: 'primary' | 'danger';
  label: string;
  busyLabel: string;
  icon?: ReactNode;
  confirmTestId?: string;
  onConfirm: () => void;
}) {
  return (
    <>
      {props.error ? (
        <div className="form-error" role="alert" data-testid={props.errorTestId}>
          {props.error}
        </div>
      ) : null}
      <div className="modal-actions">
        <button type="button" className="btn btn-secondary" onClick={closeDialog}>
          Cancel
        </button>
        <button
          type="button"
          className={`btn ${props.tone === 'danger' ? 'btn-danger' : 'btn-primary'}`}
          disabled={props.busy || props.disabled}
          onClick={props.onConfirm}
          data-testid={props.confirmTestId}
        >
          {props.icon}
          {props.busy ? props.busyLabel : props.label}
        </button>
      </div>
    </>
  );
}
