import type { EnergyReport, Preferences } from '../../../preload/api.js';
import { getBridge } from '../../bridge/index.js';
import { useFleet } from '../../state/store.js';

export function applyEnergy(energy: EnergyReport): void {
  useFleet.setState({ energy });
}

export function applyPreferences(preferences: Preferences): void {
  useFleet.setState({ preferences });
}

export async function loadEnergy(): Promise<void> {
  const bridge = getBridge();
  const [energy, prefs] = await Promise.all([bridge.getEnergyReport(), bridge.getPreferences()]);
  applyEnergy(energy);
  applyPreferences(prefs);
}

/** Save preferences, then refresh the report (watts and price change it). Throws with `field` on a bad value. */
export async function savePreferences(patch: Partial<Preferences>): Promise<void> {
  const bridge = getBridge();
  applyPreferences(await bridge.setPreferences(patch));
  applyEnergy(await bridge.getEnergyReport());
}
