import type { ReactNode } from 'react';
import { closeDialog } from '../app/navigation.js';
import { useAction } from './useAction.js';

/** One confirm action of a dialog: busy while it runs, closes the dialog when done, keeps it open with the error when not. */
export function useDialogAction(): { busy: boolean; error: string | null; run: (fn: () => Promise<void>) => Promise<void> } {
  const { busy, error, run } = useAction(closeDialog);
  return { busy, error, run };
}

/** Cancel and the main button at the foot of every dialog. */
export function ModalButtons(props: {
  /** Cancel closes the open dialog unless told otherwise. */
  onCancel?: () => void;
  cancelLabel?: string;
  cancelDisabled?: boolean;
  /** A form's submit button instead of a plain one. */
  submit?: boolean;
  tone?: 'primary' | 'danger';
  disabled?: boolean;
  onConfirm?: () => void;
  confirmTestId?: string;
  children: ReactNode;
}) {
  return (
    <div className="modal-actions">
      <button type="button" className="btn btn-secondary" onClick={props.onCancel ?? closeDialog} disabled={props.cancelDisabled}>
        {props.cancelLabel ?? 'Cancel'}
      </button>
      <button
        type={props.submit ? 'submit' : 'button'}
        className={`btn ${props.tone === 'danger' ? 'btn-danger' : 'btn-primary'}`}
        disabled={props.disabled}
        onClick={props.onConfirm}
        data-testid={props.confirmTestId}
      >
        {props.children}
      </button>
    </div>
  );
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
      <ModalButtons
        tone={props.tone}
        disabled={props.busy || props.disabled}
        onConfirm={props.onConfirm}
        confirmTestId={props.confirmTestId}
      >
        {props.icon}
        {props.busy ? props.busyLabel : props.label}
      </ModalButtons>
    </>
  );
}
