import { randomUUID } from 'node:crypto';
import type { Prompt } from '../../preload/api.js';
import type { SecretStore } from '../secrets/types.js';
import type { PromptAnswer, PromptRequest } from '../ssh/auth.js';
import { FleetError } from './errors.js';

const DEFAULT_PROMPT_TIMEOUT_MS = 5 * 60_000;

interface PendingPrompt {
  prompt: Prompt;
  resolve: (a: PromptAnswer | null) => void;
  timer: NodeJS.Timeout;
}

export interface PromptBrokerDeps {
  secrets: SecretStore;
  /** How long an unanswered prompt waits before it is cancelled. */
  timeoutMs?: number;
  /** Pushes the 'prompt' event; false when nobody listens, so nobody could answer. */
  publish(prompt: Prompt): boolean;
  /** Pushes 'prompt-closed'. */
  closed(id: string): void;
  /** The fleet is closing: every new question is cancelled at once. */
  shuttingDown(): boolean;
}

/**
 * The questions the core asks the user (SSH passphrases and passwords, keyboard-interactive, sudo):
 * each is pushed as a 'prompt' event and waits for answerPrompt, a timeout or the fleet closing.
 */
export class PromptBroker {
  private readonly pending = new Map<string, PendingPrompt>();

  constructor(private readonly deps: PromptBrokerDeps) {}

  ask(host: string, request: PromptRequest): Promise<PromptAnswer | null> {
    if (this.deps.shuttingDown()) return Promise.resolve(null);
    // A sudo password is used once and never kept.
    const canRemember = request.kind !== 'sudo-password' && this.deps.secrets.canPersist();
    const prompt: Prompt = { id: randomUUID(), host, ...request, canRemember };
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.settle(prompt.id, null), this.deps.timeoutMs ?? DEFAULT_PROMPT_TIMEOUT_MS);
      timer.unref?.();
      this.pending.set(prompt.id, { prompt, resolve, timer });
      // Nobody can answer (a CLI without a terminal): fail now rather than wait out the timeout.
      if (!this.deps.publish(prompt)) this.settle(prompt.id, null);
    });
  }

  async answer(id: string, answers: string[] | null, remember: boolean): Promise<void> {
    const p = this.pending.get(id);
    if (!p) throw new FleetError('not-found', 'That question is no longer waiting for an answer (it timed out or was cancelled).', 'id');
    if (answers !== null) {
      if (!Array.isArray(answers) || answers.length !== p.prompt.prompts.length || answers.some((a) => typeof a !== 'string')) {
        throw new FleetError('invalid-input', `Expected ${p.prompt.prompts.length} answer(s) as text.`, 'answers');
      }
    }
    if (remember && !this.deps.secrets.canPersist()) {
      throw new FleetError(
        'secret-storage-unavailable',
        `Secrets can't be stored safely here (storage: ${this.deps.secrets.state()}). Untick "remember"; it will be used for this session only.`,
        'remember',
      );
    }
    this.settle(id, answers === null ? null : { answers, remember: !!remember });
  }

  /** Cancel every waiting question (the fleet is closing). */
  cancelAll(): void {
    for (const id of [...this.pending.keys()]) this.settle(id, null);
  }

  private settle(id: string, answer: PromptAnswer | null): boolean {
    const p = this.pending.get(id);
    if (!p) return false;
    this.pending.delete(id);
    clearTimeout(p.timer);
    p.resolve(answer);
    this.deps.closed(id);
    return true;
  }
}
