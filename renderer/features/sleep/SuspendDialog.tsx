import { closeDialog } from '../../app/navigation.js';
import { DialogActions, useDialogAction } from '../../ui/DialogActions.js';
import { MoonIcon } from '../../ui/Icons.js';
import { Modal } from '../../ui/Modal.js';
import { suspendHost } from './actions.js';

export function SuspendDialog({ name }: { name: string }) {
  const { busy, error, run } = useDialogAction();
  return (
    <Modal title={`Suspend ${name} now?`} eyebrow="Suspend" onClose={closeDialog} testId="suspend-dialog" size="sm">
      <p className="lead">
        The agent runs its suspend command right away, whatever the idle checks say. Anything running on {name} is
        paused until it wakes; SSH sessions to it will drop. Wake it again from Fleetwake with Wake-on-LAN.
      </p>
      <DialogActions
        error={error}
        busy={busy}
        label="Suspend now"
        busyLabel="Suspending…"
        icon={<MoonIcon size={14} />}
        confirmTestId="suspend-confirm"
        onConfirm={() => void run(() => suspendHost(name))}
      />
    </Modal>
  );
}
