import { useState } from 'react';
import { getBridge } from '../bridge/index.js';
import { errorMessage } from '../lib/states.js';
import { closeDialog } from '../state/store.js';
import { Modal } from './Modal.js';

export function RemoveDialog({ name }: { name: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const remove = async () => {
    setBusy(true);
    setError(null);
    try {
      await getBridge().removeHost(name);
      closeDialog();
    } catch (err) {
      setError(errorMessage(err));
      setBusy(false);
    }
  };
  return (
    <Modal title={`Remove ${name}?`} eyebrow="Remove host" onClose={closeDialog} testId="remove-dialog" size="sm">
      <p className="lead">
        Fleetwake forgets this host, its trusted key and any saved password or passphrase. Nothing on the server is
        changed, and you can add it again later.
      </p>
      {error ? (
        <div className="form-error" role="alert">
          {error}
        </div>
      ) : null}
      <div className="modal-actions">
        <button type="button" className="btn btn-secondary" onClick={closeDialog}>
          Cancel
        </button>
        <button type="button" className="btn btn-danger" disabled={busy} onClick={remove}>
          {busy ? 'Removing…' : 'Remove host'}
        </button>
      </div>
    </Modal>
  );
}
