import { useState } from 'react';
import { errorMessage } from './format.js';

/**
 * One user action at a time: `busy` while it runs, its error kept for display until the next run.
 * `onDone` runs after a success (a confirm dialog closes itself there).
 */
export function useAction(onDone?: () => void) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async (fn: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
      onDone?.();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, setError, run };
}
