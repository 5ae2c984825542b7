import type { Prompt } from '../../../preload/api.js';
import { useFleet } from '../../state/store.js';

export function pushPrompt(p: Prompt): void {
  useFleet.setState((s) => ({ prompts: [...s.prompts.filter((q) => q.id !== p.id), p] }));
}
export function removePrompt(id: string): void {
  useFleet.setState((s) => (s.prompts.some((p) => p.id === id) ? { prompts: s.prompts.filter((p) => p.id !== id) } : s));
}
