import type { ApiResult, FleetApi, FleetMethod } from '../../preload/api.js';
import { toApiError } from './errors.js';

/**
 * One contract call from a front (IPC, the harness socket) into the core, answered as the ApiResult
 * that crosses the boundary: errors travel as data so their code and field survive.
 */
export async function invokeFleetMethod(fleet: FleetApi, method: FleetMethod, args: unknown[]): Promise<ApiResult<unknown>> {
  try {
    const fn = fleet[method] as (...a: unknown[]) => Promise<unknown>;
    return { ok: true, value: await fn.apply(fleet, args) };
  } catch (err) {
    return { ok: false, error: toApiError(err) };
  }
}
