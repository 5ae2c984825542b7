import { describe, expect, it } from 'vitest';
import { FleetError } from '../../main/core/errors.js';
import { applyPreferences, checkStoredPreferences, defaultPreferences, DEFAULT_PREFERENCES, preferenceProblems } from '../../main/preferences/index.js';

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FleetError);
    expect((err as FleetError).code).toBe('invalid-input');
    return (err as FleetError).field;
  }
  throw new Error('did not throw');
}

describe('preferences', () => {
  it('defaults: every notification on, 150 W idle, 5 W asleep, no price, EUR', () => {
    expect(defaultPreferences()).toEqual({
      notifications: { slept: true, woke: true, 'wake-timeout': true, 'host-key-changed': true, 'agent-unreachable': true },
      baselineWatts: 150,
      sleepWatts: 5,
      pricePerKwh: null,
      currency: 'EUR',
    });
    const copy = defaultPreferences();
    copy.notifications.woke = false;
    expect(DEFAULT_PREFERENCES.notifications.woke).toBe(true);
  });

  it('applies a partial update and keeps the rest', () => {
    const next = applyPreferences(defaultPreferences(), { notifications: { woke: false }, pricePerKwh: 0.32, currency: 'usd' });
    expect(next.notifications).toMatchObject({ woke: false, slept: true });
    expect(next.pricePerKwh).toBe(0.32);
    expect(next.currency).toBe('USD');
    expect(applyPreferences(next, { pricePerKwh: null }).pricePerKwh).toBeNull();
    expect(applyPreferences(next, {}).pricePerKwh).toBe(0.32);
  });

  it('names the bad field', () => {
    const p = defaultPreferences();
    expect(fieldOf(() => applyPreferences(p, { baselineWatts: -1 }))).toBe('baselineWatts');
    expect(fieldOf(() => applyPreferences(p, { baselineWatts: '150' }))).toBe('baselineWatts');
    expect(fieldOf(() => applyPreferences(p, { sleepWatts: Number.NaN }))).toBe('sleepWatts');
    expect(fieldOf(() => applyPreferences(p, { sleepWatts: 200 }))).toBe('sleepWatts');
    expect(fieldOf(() => applyPreferences(p, { baselineWatts: 3 }))).toBe('baselineWatts');
    expect(fieldOf(() => applyPreferences(p, { pricePerKwh: -0.1 }))).toBe('pricePerKwh');
    expect(fieldOf(() => applyPreferences(p, { pricePerKwh: 'free' }))).toBe('pricePerKwh');
    expect(fieldOf(() => applyPreferences(p, { currency: '' }))).toBe('currency');
    expect(fieldOf(() => applyPreferences(p, { currency: 'EURO DOLLARS' }))).toBe('currency');
    expect(fieldOf(() => applyPreferences(p, { notifications: { woke: 'yes' } }))).toBe('notifications.woke');
    expect(fieldOf(() => applyPreferences(p, { notifications: { boom: true } }))).toBe('notifications.boom');
    expect(fieldOf(() => applyPreferences(p, { colour: 'blue' }))).toBe('colour');
    expect(fieldOf(() => applyPreferences(p, null))).toBe('preferences');
  });

  it('reports every problem at once for forms', () => {
    expect(preferenceProblems({ baselineWatts: -1, currency: 7 }).map((x) => x.field)).toEqual(['baselineWatts', 'currency']);
  });

  it('accepts a currency symbol', () => {
    expect(applyPreferences(defaultPreferences(), { currency: ' € ' }).currency).toBe('€');
  });

  it('checks stored preferences strictly (all keys present)', () => {
    expect(checkStoredPreferences(defaultPreferences())).toBeNull();
    const { currency: _c, ...noCurrency } = defaultPreferences();
    expect(checkStoredPreferences(noCurrency)?.field).toBe('preferences.currency');
    const d = defaultPreferences();
    const { woke: _w, ...partial } = d.notifications;
    expect(checkStoredPreferences({ ...d, notifications: partial })?.field).toBe('preferences.notifications.woke');
    expect(checkStoredPreferences({ ...d, sleepWatts: -3 })?.field).toBe('preferences.sleepWatts');
  });
});
