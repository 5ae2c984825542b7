import { UninstallDialog } from '../features/agent/UninstallDialog.js';
import { FleetView } from '../features/fleet/FleetView.js';
import { HostKeyDialog } from '../features/host-key/HostKeyDialog.js';
import { HostDialog } from '../features/hosts/HostDialog.js';
import { RemoveDialog } from '../features/hosts/RemoveDialog.js';
import { ImportDialog } from '../features/import/ImportDialog.js';
import { PromptHost } from '../features/prompts/PromptDialog.js';
import { SuspendDialog } from '../features/sleep/SuspendDialog.js';
import { useFleet } from '../state/store.js';
import { Banners } from './Banners.js';

function Dialogs() {
  const dialog = useFleet((s) => s.dialog);
  if (!dialog) return null;
  switch (dialog.kind) {
    case 'add':
      return <HostDialog />;
    case 'edit':
      return <HostDialog key={dialog.name} editName={dialog.name} />;
    case 'import':
      return <ImportDialog />;
    case 'remove':
      return <RemoveDialog key={dialog.name} name={dialog.name} />;
    case 'host-key':
      return <HostKeyDialog key={dialog.name} name={dialog.name} />;
    case 'uninstall-agent':
      return <UninstallDialog key={dialog.name} name={dialog.name} />;
    case 'suspend':
      return <SuspendDialog key={dialog.name} name={dialog.name} />;
  }
}

export function App() {
  return (
    <div className="app">
      <Banners />
      <FleetView />
      <Dialogs />
      {/* Last, so a prompt raised while another dialog is open stacks on top of it. */}
      <PromptHost />
    </div>
  );
}
