import type { EnergyReport, Preferences } from '../../../preload/api.js';

export interface EnergySlice {
  energy: EnergyReport | null;
  preferences: Preferences | null;
}

export const energyInitial: EnergySlice = { energy: null, preferences: null };
