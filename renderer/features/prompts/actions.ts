import { getBridge } from '../../bridge/index.js';
import { removePrompt } from './store.js';

/** `null` answers cancel the prompt. */
export async function answerPrompt(id: string, answers: string[] | null, remember: boolean): Promise<void> {
  await getBridge().answerPrompt(id, answers, remember);
  removePrompt(id);
}
