/**
 * The one zustand store, composed from the features' slices. Each slice file holds only its shape and
 * initial value, so this module never imports a feature's update functions (they import it).
 */
import { create } from 'zustand';
import { appInitial, type AppSlice } from '../app/slice.js';
import { agentInitial, type AgentSlice } from '../features/agent/slice.js';
import { energyInitial, type EnergySlice } from '../features/energy/slice.js';
import { hostsInitial, type HostsSlice } from '../features/hosts/slice.js';
import { metricsInitial, type MetricsSlice } from '../features/metrics/slice.js';
import { promptsInitial, type PromptsSlice } from '../features/prompts/slice.js';
import { sleepInitial, type SleepSlice } from '../features/sleep/slice.js';

export type FleetState = AppSlice & HostsSlice & PromptsSlice & AgentSlice & MetricsSlice & SleepSlice & EnergySlice;

const initial = (): FleetState => ({
  ...appInitial,
  ...hostsInitial,
  ...promptsInitial,
  ...agentInitial,
  ...metricsInitial,
  ...sleepInitial,
  ...energyInitial,
});

export const useFleet = create<FleetState>()(initial);

export function resetFleetStore(): void {
  useFleet.setState(initial(), true);
}
