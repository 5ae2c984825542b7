/**
 * User preferences (contract 1's Preferences): defaults, validation with per-field errors, merging.
 *
 * Stored in FleetData.preferences (store schema v2). Pure: no I/O here; the Fleet core reads and writes
 * them through the store (see applyPreferences for getPreferences / setPreferences).
 */
import type { NotificationKind, Preferences } from '../../preload/api.js';
import { invalidInput } from '../core/errors.js';

export const NOTIFICATION_KINDS: readonly NotificationKind[] = ['slept', 'woke', 'wake-timeout', 'host-key-changed', 'agent-unreachable'];

export const DEFAULT_PREFERENCES: Readonly<Preferences> = Object.freeze({
  notifications: Object.freeze({
    slept: true,
    woke: true,
    'wake-timeout': true,
    'host-key-changed': true,
    'agent-unreachable': true,
  }) as Record<NotificationKind, boolean>,
  baselineWatts: 150,
  sleepWatts: 5,
  pricePerKwh: null,
  currency: 'EUR',
});

/** A fresh, mutable copy of the defaults. */
export function defaultPreferences(): Preferences {
  return { ...DEFAULT_PREFERENCES, notifications: { ...DEFAULT_PREFERENCES.notifications } };
}

/** Largest plausible draw of one server, in watts (a DGX H200 is about 10 kW). */
export const MAX_WATTS = 20_000;
export const MAX_PRICE_PER_KWH = 100;
/** ISO 4217 style code (EUR, USD, CHF) or a short symbol (€, $, kr). */
const CURRENCY = /^(?:[A-Z]{3}|[^\s\d]{1,3})$/u;

const PREF_KEYS: readonly (keyof Preferences)[] = ['notifications', 'baselineWatts', 'sleepWatts', 'pricePerKwh', 'currency'];

export interface PreferenceProblem {
  /** e.g. baselineWatts, notifications.woke */
  field: string;
  message: string;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * Every problem with a partial update (unknown keys included), in field order. `current` is what the
 * update applies to, so cross-field checks (sleep below baseline) see the merged values.
 */
export function preferenceProblems(patch: unknown, current: Preferences = defaultPreferences()): PreferenceProblem[] {
  const out: PreferenceProblem[] = [];
  if (!isObj(patch)) return [{ field: 'preferences', message: 'Preferences must be an object.' }];
  for (const key of Object.keys(patch)) {
    if (!(PREF_KEYS as readonly string[]).includes(key)) out.push({ field: key, message: `Unknown preference "${key}".` });
  }
  if ('notifications' in patch) {
    const n = patch.notifications;
    if (!isObj(n)) out.push({ field: 'notifications', message: 'notifications must map each kind to true or false.' });
    else
      for (const [k, v] of Object.entries(n)) {
        if (!(NOTIFICATION_KINDS as readonly string[]).includes(k))
          out.push({ field: `notifications.${k}`, message: `Unknown notification kind "${k}" (known: ${NOTIFICATION_KINDS.join(', ')}).` });
        else if (typeof v !== 'boolean') out.push({ field: `notifications.${k}`, message: `notifications.${k} must be true or false.` });
      }
  }
  const watts = (field: 'baselineWatts' | 'sleepWatts', what: string) => {
    if (!(field in patch)) return;
    const v = patch[field];
    if (!isNum(v)) out.push({ field, message: `${what} must be a number of watts.` });
    else if (v < 0) out.push({ field, message: `${what} cannot be negative.` });
    else if (v > MAX_WATTS) out.push({ field, message: `${what} must be at most ${MAX_WATTS} W.` });
  };
  watts('baselineWatts', 'Idle power (baseline)');
  watts('sleepWatts', 'Sleep power');
  const baseline = isNum(patch.baselineWatts) ? patch.baselineWatts : current.baselineWatts;
  const sleep = isNum(patch.sleepWatts) ? patch.sleepWatts : current.sleepWatts;
  if (('baselineWatts' in patch || 'sleepWatts' in patch) && !out.some((p) => p.field === 'baselineWatts' || p.field === 'sleepWatts') && sleep > baseline) {
    out.push({
      field: 'sleepWatts' in patch ? 'sleepWatts' : 'baselineWatts',
      message: `Sleep power (${sleep} W) cannot be more than idle power (${baseline} W): a sleeping box draws less than an idle one.`,
    });
  }
  if ('pricePerKwh' in patch) {
    const v = patch.pricePerKwh;
    if (v !== null && !isNum(v)) out.push({ field: 'pricePerKwh', message: 'Price per kWh must be a number, or empty to hide money.' });
    else if (isNum(v) && v < 0) out.push({ field: 'pricePerKwh', message: 'Price per kWh cannot be negative.' });
    else if (isNum(v) && v > MAX_PRICE_PER_KWH) out.push({ field: 'pricePerKwh', message: `Price per kWh must be at most ${MAX_PRICE_PER_KWH}.` });
  }
  if ('currency' in patch) {
    const v = patch.currency;
    if (typeof v !== 'string' || !CURRENCY.test(v.trim()))
      out.push({ field: 'currency', message: 'Currency must be a 3-letter code such as EUR or USD, or a symbol such as €.' });
  }
  return out;
}

/**
 * Applies a partial update to `current` and returns the new preferences. Throws FleetError
 * invalid-input naming the first bad field (the renderer shows it next to that field).
 */
export function applyPreferences(current: Preferences, patch: unknown): Preferences {
  const problems = preferenceProblems(patch, current);
  const first = problems[0];
  if (first) throw invalidInput(first.field, first.message);
  const p = patch as Partial<Preferences>;
  return {
    notifications: { ...current.notifications, ...(p.notifications ?? {}) },
    baselineWatts: p.baselineWatts ?? current.baselineWatts,
    sleepWatts: p.sleepWatts ?? current.sleepWatts,
    pricePerKwh: 'pricePerKwh' in p ? (p.pricePerKwh ?? null) : current.pricePerKwh,
    currency: typeof p.currency === 'string' ? normalizeCurrency(p.currency) : current.currency,
  };
}

function normalizeCurrency(c: string): string {
  const t = c.trim();
  return /^[a-z]{3}$/i.test(t) ? t.toUpperCase() : t;
}

/** Whether a stored value is a complete, valid Preferences (the store schema uses it). */
export function checkStoredPreferences(value: unknown): PreferenceProblem | null {
  if (!isObj(value)) return { field: 'preferences', message: 'preferences must be an object.' };
  for (const key of PREF_KEYS) if (!(key in value)) return { field: `preferences.${key}`, message: `preferences is missing ${key}.` };
  const n = value.notifications;
  if (isObj(n)) {
    for (const k of NOTIFICATION_KINDS) if (!(k in n)) return { field: `preferences.notifications.${k}`, message: `preferences.notifications is missing ${k}.` };
  }
  const first = preferenceProblems(value)[0];
  return first ? { field: `preferences.${first.field}`, message: `preferences.${first.field}: ${first.message}` } : null;
}
