import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openFleetStore } from '../../main/store/fleet-store.js';
import { makeTestFleet } from '../support/fleet.js';

describe('preferences and energy through the core', () => {
  it('keeps preferences, refuses bad ones by field without changing anything', async () => {
    const t = makeTestFleet({ keepConnected: false });
    try {
      const prefs = await t.fleet.getPreferences();
      expect(prefs.notifications.slept).toBe(true);
      const file = join(t.dataDir, 'fleetwake.json');
      await t.fleet.setPreferences({ baselineWatts: 300, pricePerKwh: 0.3 });
      const before = readFileSync(file, 'utf8');
      await expect(t.fleet.setPreferences({ baselineWatts: -5 })).rejects.toMatchObject({ code: 'invalid-input', field: 'baselineWatts' });
      expect(readFileSync(file, 'utf8')).toBe(before);
      expect(await t.fleet.getPreferences()).toMatchObject({ baselineWatts: 300, pricePerKwh: 0.3 });
    } finally {
      await t.fleet.close();
    }
  });

  it('reports hours asleep and the energy saved from the sleep log', async () => {
    const t = makeTestFleet({ keepConnected: false });
    try {
      await t.fleet.addHost({ name: 'box', host: '127.0.0.1', port: 2222 });
      await t.fleet.setPreferences({ baselineWatts: 205, sleepWatts: 5, pricePerKwh: 0.5 });
      const store = openFleetStore(t.dataDir);
      const data = store.read();
      const now = Date.now();
      const h = 3_600_000;
      store.write({
        ...data,
        sleepLog: { box: [{ suspendedAt: now - 10 * h, resumedAt: now - 4 * h, reason: 'idle', wolArmed: true, wolMessage: '' }] },
      });
      const report = await t.fleet.getEnergyReport();
      const box = report.hosts.find((x) => x.name === 'box')!;
      expect(box.hoursAsleep).toBeCloseTo(6, 2);
      // 6 h x (205 - 5) W = 1.2 kWh, at 0.5 a kWh.
      expect(box.kwhSaved).toBeCloseTo(1.2, 2);
      expect(report.totalMoneySaved).toBeCloseTo(0.6, 2);
      expect(box.measured).toBe(false);
      // Removing the host drops its log with it.
      await t.fleet.removeHost('box');
      expect(openFleetStore(t.dataDir).read().sleepLog.box).toBeUndefined();
    } finally {
      await t.fleet.close();
    }
  });
});
