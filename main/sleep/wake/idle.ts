/** Small pure pieces of the sleep/idle feature the Fleet core uses: state overlays and input checks. */
import type { HostStatus, IdleSettings } from '../../../preload/api.js';
import { FleetError } from '../../core/errors.js';
import type { SleepMark, SleepPlan } from './wake-state.js';

/** Raw SSH states an overlay may replace; the others (auth, host key, online) need the user or are news. */
const COVERED = new Set<HostStatus['state']>(['offline', 'connecting']);

/**
 * 'waking' while a magic packet was sent and the host is not back; else 'asleep' when the agent
 * announced a suspend and the host has not been reachable since; else 'asleep' (basis 'planned') when
 * the agent's last plan was to suspend by now and the host is unreachable: nobody was connected to hear
 * the announcement (the laptop was closed), but the box went quiet when it said it would; else the SSH
 * state itself. `now` decides whether the plan is due.
 */
export function overlayStatus(
  s: HostStatus,
  asleep: SleepMark | null,
  wakingSince: number | undefined,
  mac: string | null,
  plan: SleepPlan | null = null,
  now = Date.now(),
): HostStatus {
  let out = s;
  if (COVERED.has(s.state)) {
    if (wakingSince !== undefined) out = { ...s, state: 'waking', since: wakingSince };
    else if (asleep) out = { ...s, state: 'asleep', since: asleep.at, asleepBasis: 'announced' };
    else if (plan && plan.suspendAt <= now) out = { ...s, state: 'asleep', since: plan.suspendAt, asleepBasis: 'planned' };
  }
  return { ...out, canWake: canWake(out.state, mac) };
}

/** How a host's sleep is known, in words for the CLI and the UI. */
export function asleepBasisText(s: Pick<HostStatus, 'state' | 'asleepBasis' | 'since'>): string {
  if (s.state !== 'asleep') return '';
  const at = new Date(s.since).toLocaleString();
  return s.asleepBasis === 'planned'
    ? `presumed asleep: its agent planned to suspend at ${at} and it has not answered since`
    : `asleep since ${at}, as its agent announced`;
}

/** The one rule for offering Wake: a host we know is asleep, or an offline one whose MAC we know. */
export const canWake = (state: HostStatus['state'], mac: string | null): boolean => state === 'asleep' || (state === 'offline' && mac !== null);

const NUMERIC: (keyof IdleSettings)[] = ['cpuIdleThreshold', 'gpuIdleThreshold', 'windowSeconds', 'idleTimeoutSeconds', 'minSamples', 'networkThresholdBytesPerSec'];
const KNOWN: (keyof IdleSettings)[] = [...NUMERIC, 'enableSuspend'];

/** Shape check before the agent (which owns the ranges and says what is wrong with a value). */
export function checkIdleSettings(settings: unknown): Partial<IdleSettings> {
  if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) {
    throw new FleetError('invalid-input', 'Idle settings must be an object such as { "enableSuspend": false }.', 'settings');
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(settings)) {
    if (!KNOWN.includes(k as keyof IdleSettings)) {
      throw new FleetError('invalid-input', `Unknown idle setting "${k.slice(0, 40)}" (known: ${KNOWN.join(', ')}).`, k.slice(0, 40));
    }
    if (v === undefined) continue;
    if (k === 'enableSuspend' ? typeof v !== 'boolean' : typeof v !== 'number' || !Number.isFinite(v)) {
      throw new FleetError('invalid-input', `${k} must be ${k === 'enableSuspend' ? 'true or false' : 'a number'} (got ${JSON.stringify(v)}).`, k);
    }
    out[k] = v;
  }
  if (!Object.keys(out).length) throw new FleetError('invalid-input', `Give at least one idle setting to change (${KNOWN.join(', ')}).`, 'settings');
  return out as Partial<IdleSettings>;
}

/**
 * The agent's refusal of idle settings (JSON-RPC invalid params, "invalid params: cpuIdleThreshold must
 * be ...; windowSeconds must be ..."), as the user's input error on the first setting it names, so the
 * form can show it beside that field.
 */
export function idleRefusal(host: string, agentMessage: string): FleetError {
  const text = agentMessage.replace(/^invalid params:\s*/, '');
  const first = /^([A-Za-z]+)\b/.exec(text)?.[1];
  const field = first !== undefined && KNOWN.includes(first as keyof IdleSettings) ? first : 'settings';
  return new FleetError('invalid-input', `${host}: ${text.endsWith('.') ? text : `${text}.`}`, field);
}

/**
 * The agent's refusal of settings its agent.yaml locks (RPC_ERRORS.LOCKED): nothing the user types can
 * fix it, so a conflict, on the first locked field the form has. The agent's message names the keys
 * and the file; `data` is what it sent beside it, trusted only for a known field name.
 */
export function idleLocked(host: string, agentMessage: string, data: unknown): FleetError {
  const locked = (data as { locked?: unknown } | undefined)?.locked;
  const first = Array.isArray(locked) ? locked[0] : undefined;
  const field = typeof first === 'string' && KNOWN.includes(first as keyof IdleSettings) ? first : 'settings';
  return new FleetError('conflict', `${host}: ${agentMessage.endsWith('.') ? agentMessage : `${agentMessage}.`}`, field);
}
