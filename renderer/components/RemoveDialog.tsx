import { getBridge } from '../bridge/index.js';
import { closeDialog } from '../state/store.js';
import { DialogActions, useDialogAction } from './DialogActions.js';
import { Modal } from './Modal.js';

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
        onConfirm={() => void run(() => getBridge().removeHost(name))}
      />
    </Modal>
  );
}
