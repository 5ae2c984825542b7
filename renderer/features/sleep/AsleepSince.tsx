import type { HostStatus } from '../../../preload/api.js';
import { fmtDuration, fmtWhen } from './labels.js';

const PLANNED_NOTE =
  'Nobody was connected when it went to sleep: its agent had planned to suspend at this time, and it has not answered since.';

/**
 * "Asleep since ..." for a card or the host page. A sleep the agent announced is stated; one inferred
 * from the agent's last plan says "presumably" and why, so a box that crashed at that hour is not passed
 * off as certainly asleep.
 */
export function AsleepSince({ status, className, capital = true }: { status: HostStatus; className: string; capital?: boolean }) {
  const planned = status.asleepBasis === 'planned';
  const lead = planned ? 'Presumably asleep since' : 'Asleep since';
  const text = capital ? lead : lead.charAt(0).toLowerCase() + lead.slice(1);
  return (
    <span className={className} data-testid={`asleep-since-${status.name}`} title={planned ? PLANNED_NOTE : 'Its agent announced the suspend.'}>
      {text} {fmtWhen(status.since)} <span className="muted">· {fmtDuration(Date.now() - status.since)}</span>
      {planned ? <span className="muted sleep-basis"> · as planned by its agent, not heard since</span> : null}
    </span>
  );
}
