import { useState } from 'react';
import { closeDialog } from '../../app/navigation.js';
import { DialogActions, useDialogAction } from '../../ui/DialogActions.js';
import { Modal } from '../../ui/Modal.js';
import { uninstallAgent } from './actions.js';

export function UninstallDialog({ name }: { name: string }) {
  const [purge, setPurge] = useState(false);
  const { busy, error, run } = useDialogAction();
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
      <DialogActions
        error={error}
        busy={busy}
        tone="danger"
        label={purge ? 'Uninstall and delete data' : 'Uninstall agent'}
        busyLabel="Uninstalling…"
        onConfirm={() => void run(() => uninstallAgent(name, purge).then(() => undefined))}
      />
    </Modal>
  );
}
