import type { Prompt } from '../../../preload/api.js';

export interface PromptsSlice {
  /** Pending questions from the core, oldest first; the dialog shows the first. */
  prompts: Prompt[];
}

export const promptsInitial: PromptsSlice = { prompts: [] };
