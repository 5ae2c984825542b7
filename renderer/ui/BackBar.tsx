import { openFleet } from '../app/navigation.js';
import { BackIcon } from './Icons.js';

/** "All hosts", above a page that took the grid's place. */
export function BackBar({ testId }: { testId: string }) {
  return (
    <div className="back-bar">
      <button className="btn btn-ghost btn-sm back-btn" onClick={openFleet} data-testid={testId}>
        <BackIcon size={15} />
        All hosts
      </button>
    </div>
  );
}
