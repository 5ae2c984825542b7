import { useFleet } from '../state/store.js';
import { Banners } from './Banners.js';
import { FleetView } from './FleetView.js';
import { HostDialog } from './HostDialog.js';
import { HostKeyDialog } from './HostKeyDialog.js';
import { ImportDialog } from './ImportDialog.js';
import { PromptHost } from './PromptDialog.js';
import { RemoveDialog } from './RemoveDialog.js';
import { UninstallDialog } from './UninstallDialog.js';
import { SuspendDialog } from './Wake.js';

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
