import { describe, expect, it } from 'vitest';
import { FleetError } from '../../main/core/errors.js';
import { isCanonicalMac, isValidMac, normalizeMac } from '../../main/hosts/mac.js';

describe('normalizeMac', () => {
  it.each([
    ['aa:bb:cc:dd:ee:0f', 'aa:bb:cc:dd:ee:0f'],
    ['AA-BB-CC-DD-EE-0F', 'aa:bb:cc:dd:ee:0f'],
    ['aabb.ccdd.ee0f', 'aa:bb:cc:dd:ee:0f'],
    ['AABBCCDDEE0F', 'aa:bb:cc:dd:ee:0f'],
    ['  aa:BB:cc:DD:ee:0f\n', 'aa:bb:cc:dd:ee:0f'],
    ['01:23:45:67:89:ab', '01:23:45:67:89:ab'],
  ])('accepts %j', (raw, expected) => {
    expect(normalizeMac(raw)).toBe(expected);
  });

  it.each(['', 'aa:bb:cc:dd:ee', 'aa:bb:cc:dd:ee:ff:00', 'aa:bb-cc:dd:ee:ff', 'gg:bb:cc:dd:ee:ff', 'aabb.ccdd.eef', 'a:b:c:d:e:f', 'aa bb cc dd ee ff'])(
    'rejects %j with a message that shows the accepted forms',
    (raw) => {
      try {
        normalizeMac(raw);
        expect.unreachable();
      } catch (err) {
        expect(err).toBeInstanceOf(FleetError);
        expect((err as FleetError).code).toBe('invalid-input');
        expect((err as FleetError).field).toBe('mac');
        expect((err as FleetError).message).toContain('aa:bb:cc:dd:ee:ff');
        expect((err as FleetError).message).toContain(`got ${JSON.stringify(raw)}`);
      }
    },
  );

  it('refuses broadcast and all-zero, which are no network card', () => {
    expect(() => normalizeMac('FF-FF-FF-FF-FF-FF')).toThrow(/broadcast/);
    expect(() => normalizeMac('000000000000')).toThrow(/not a real network card/);
  });

  it('isValidMac mirrors normalizeMac; isCanonicalMac only accepts the stored form', () => {
    expect(isValidMac('AABB.CCDD.EEFF')).toBe(true);
    expect(isValidMac('ff:ff:ff:ff:ff:ff')).toBe(false);
    expect(isValidMac(42)).toBe(false);
    expect(isCanonicalMac('aa:bb:cc:dd:ee:0f')).toBe(true);
    expect(isCanonicalMac('AA:BB:CC:DD:EE:0F')).toBe(false);
    expect(isCanonicalMac('aa-bb-cc-dd-ee-0f')).toBe(false);
    expect(isCanonicalMac('00:00:00:00:00:00')).toBe(false);
  });
});
