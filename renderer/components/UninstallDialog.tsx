import { useState } from 'react';
import { uninstallAgent } from '../lib/actions.js';
import { errorMessage } from '../lib/states.js';
import { closeDialog } from '../state/store.js';
import { Modal } from './Modal.js';

export function UninstallDialog({ name }: { name: string }) {
  const [purge, setPurge] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const go = async () => {
    setBusy(true);
    setError(null);
    try {
      await uninstallAgent(name, purge);
      closeDialog();
    } catch (err) {
      setError(errorMessage(err));
      setBusy(false);
    }
  };
  return (
    <Modal title={`Uninstall the agent from ${name}?`} eyebrow="Uninstall agent" onClose={closeDialog} testId="uninstall-dialog" size="sm">
      <p className="lead">
        Fleetwake stops the fleetwake-agent service and removes its program files. SSH access and the host entry stay as
        they are; live metrics and history stop until you install it again.
      </p>
      <label className="check check-block">
        <input type="checkbox" checked={purge} onChange={(e) => setPurge(e.target.checked)} data-testid="uninstall-purge" />
        <span>
          Also remove data and config
          <span className="check-hint">Deletes the recorded metrics history and the agent’s config file on the server.</span>
        </span>
      </label>
      {error ? (
        <div className="form-error" role="alert">
          {error}
        </div>
      ) : null}
      <div className="modal-actions">
        <button type="button" className="btn btn-secondary" onClick={closeDialog}>
          Cancel
        </button>
        <button type="button" className="btn btn-danger" disabled={busy} onClick={go}>
          {busy ? 'Uninstalling…' : purge ? 'Uninstall and delete data' : 'Uninstall agent'}
        </button>
      </div>
    </Modal>
  );
}
