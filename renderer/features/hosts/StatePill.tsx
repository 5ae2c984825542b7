import type { HostState } from '../../../preload/api.js';
import { MoonIcon, SunriseIcon } from '../../ui/Icons.js';
import { STATE_INFO } from './states.js';

export function StatePill({ name, state }: { name: string; state: HostState }) {
  const info = STATE_INFO[state];
  return (
    <span className={`pill pill-${info.tone} pill-state-${state}`} data-testid={`host-state-${name}`} data-state={state}>
      {state === 'asleep' ? (
        <MoonIcon size={13} />
      ) : state === 'waking' ? (
        <SunriseIcon size={13} />
      ) : (
        <span className="pill-dot" aria-hidden="true" />
      )}
      {info.label}
    </span>
  );
}
