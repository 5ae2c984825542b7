import { closeDialog } from '../../app/navigation.js';
import { DialogActions, useDialogAction } from '../../ui/DialogActions.js';
import { Modal } from '../../ui/Modal.js';
import { removeHost } from './actions.js';

export function RemoveDialog({ name }: { name: string }) {
  const { busy, error, run } = useDialogAction();
  return (
    <Modal title={`Remove ${name}?`} eyebrow="Remove host" onClose={closeDialog} testId="remove-dialog" size="sm">
      <p className="lead">
        Fleetwake forgets this host, its trusted key and any saved password or passphrase. Nothing on the server is
        changed, and you can add it again later.
      </p>
      <DialogActions
        error={error}
        busy={busy}
        tone="danger"
        label="Remove host"
        busyLabel="Removing…"
        onConfirm={() => void run(() => removeHost(name))}
      />
    </Modal>
  );
}
