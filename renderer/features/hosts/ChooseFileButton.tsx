import type { LocalFilePurpose } from '../../../preload/api.js';
import { useFleet } from '../../state/store.js';
import { errorMessage } from '../../ui/format.js';
import { chooseLocalFile } from './actions.js';

/**
 * "Choose…" beside a path field: the native file dialog, the only way (besides ~/.ssh) the desktop app
 * lets the UI name a local file. Absent where there is no dialog (the browser harness).
 */
export function ChooseFileButton({
  purpose,
  label,
  onChosen,
  onError,
}: {
  purpose: LocalFilePurpose;
  label: string;
  onChosen: (path: string) => void;
  onError: (message: string) => void;
}) {
  const available = useFleet((s) => s.appInfo?.fileDialog === true);
  if (!available) return null;
  const choose = async () => {
    try {
      const file = await chooseLocalFile(purpose);
      if (file !== null) onChosen(file);
    } catch (err) {
      onError(errorMessage(err));
    }
  };
  return (
    <button type="button" className="btn btn-secondary btn-sm choose-file" onClick={() => void choose()} aria-label={label} data-testid={`choose-file-${purpose}`}>
      Choose…
    </button>
  );
}
