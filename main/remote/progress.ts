/** Step-by-step progress of a remote operation, and the error helpers its steps share. */
import type { DeployProgress } from '../../preload/api.js';
import { FleetError } from '../core/errors.js';

export type ProgressUpdate = Omit<DeployProgress, 'name' | 'operation' | 'at'>;

export type StepState = ProgressUpdate['state'];

/** Reports the steps of one remote operation (deploy, upgrade, uninstall) to the UI. */
export class Progress {
  constructor(private readonly ctx: { onProgress: (p: ProgressUpdate) => void }) {}
  emit(step: string, state: StepState, message: string): void {
    try {
      this.ctx.onProgress({ step, state, message });
    } catch {
      /* a listener's bug must not break a deploy half-way */
    }
  }
  /** Report `running`, then `done` (or the state fn returns) / `failed` with the error's message. */
  async step<T>(step: string, running: string, fn: () => Promise<{ value: T; message: string; state?: StepState }>): Promise<T> {
    this.emit(step, 'running', running);
    try {
      const r = await fn();
      this.emit(step, r.state ?? 'done', r.message);
      return r.value;
    } catch (e) {
      this.emit(step, 'failed', errMessage(e));
      throw e;
    }
  }
}

export function errMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A failed remote step, in the words the user sees. */
export const fail = (message: string) => new FleetError('failed', message);

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}
