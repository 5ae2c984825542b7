import { useFleet, type FleetState } from '../state/store.js';
import type { DialogState } from './slice.js';

export function openDialog(dialog: DialogState): void {
  useFleet.setState({ dialog });
}
export function closeDialog(): void {
  useFleet.setState({ dialog: null });
}

export function openEnergy(): void {
  useFleet.setState((s) => (s.route.page === 'energy' ? s : { route: { page: 'energy' } }));
}
export function openHost(name: string): void {
  useFleet.setState((s) => (s.route.page === 'host' && s.route.name === name ? s : { route: { page: 'host', name } }));
}
export function openFleet(): void {
  useFleet.setState((s) => (s.route.page === 'fleet' ? s : { route: { page: 'fleet' } }));
}

export function dismissStoreProblems(): void {
  useFleet.setState({ dismissedStoreProblems: true });
}

export const selectRoute = (s: FleetState) => s.route;
