import type { FleetState } from '../../state/store.js';

export interface SummaryPart {
  count: number;
  text: string;
  tone: 'ok' | 'idle' | 'busy' | 'warn' | 'sleep';
}

/** Fleet counts as one string key, so the header re-renders only when a count changes. */
export function selectSummaryKey(s: FleetState): string {
  let online = 0;
  let offline = 0;
  let connecting = 0;
  let attention = 0;
  let asleep = 0;
  let waking = 0;
  for (const name of s.hostNames) {
    const st = s.statuses[name]?.state ?? 'offline';
    if (st === 'online') online++;
    else if (st === 'offline') offline++;
    else if (st === 'connecting') connecting++;
    else if (st === 'asleep') asleep++;
    else if (st === 'waking') waking++;
    else attention++;
  }
  return `${s.hostNames.length},${online},${offline},${connecting},${attention},${asleep},${waking}`;
}

/** "3 online · 2 asleep · 1 offline · 2 need attention" (online always, the others when not zero). */
export function summaryParts(key: string): SummaryPart[] {
  const [total = 0, online = 0, offline = 0, connecting = 0, attention = 0, asleep = 0, waking = 0] = key.split(',').map(Number);
  if (total === 0) return [];
  const parts: SummaryPart[] = [{ count: online, text: `${online} online`, tone: 'ok' }];
  if (asleep) parts.push({ count: asleep, text: `${asleep} asleep`, tone: 'sleep' });
  if (waking) parts.push({ count: waking, text: `${waking} waking`, tone: 'busy' });
  if (offline) parts.push({ count: offline, text: `${offline} offline`, tone: 'idle' });
  if (connecting) parts.push({ count: connecting, text: `${connecting} connecting`, tone: 'busy' });
  if (attention)
    parts.push({ count: attention, text: `${attention} need${attention === 1 ? 's' : ''} attention`, tone: 'warn' });
  return parts;
}

export const selectSummary = (s: FleetState): string =>
  summaryParts(selectSummaryKey(s))
    .map((p) => p.text)
    .join(' · ') || 'No hosts yet';
