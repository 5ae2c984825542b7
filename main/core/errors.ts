import type { ApiError, ErrorCode } from '../../preload/api.js';

/** The one error type the Fleet core throws at its fronts: a code, a message that says how to fix it, and the bad field. */
export class FleetError extends Error implements ApiError {
  readonly code: ErrorCode;
  readonly field?: string;
  constructor(code: ErrorCode, message: string, field?: string) {
    super(message);
    this.name = 'FleetError';
    this.code = code;
    if (field !== undefined) this.field = field;
  }
}

export const invalidInput = (field: string, message: string) => new FleetError('invalid-input', message, field);

export function toApiError(err: unknown): ApiError {
  if (err instanceof FleetError) {
    return err.field !== undefined
      ? { code: err.code, message: err.message, field: err.field }
      : { code: err.code, message: err.message };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'failed', message };
}
