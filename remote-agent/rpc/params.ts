/**
 * The agent's RPC methods declared from protocol.ts: each method states its param rules and its handler,
 * both typed by AgentMethods, and one shared validator checks every method's params. The rules must name
 * every param of the method, optional exactly where the protocol makes it optional, so a protocol change
 * that the agent does not follow fails the typecheck instead of a client.
 */
import type { AgentMethod, AgentMethods } from '../protocol.js';
import { noParams, type MethodSpec, type RpcConnection } from './server.js';

/** Why a param's value is unacceptable, or null. It gets undefined for a missing required param. */
export type Check = (value: unknown) => string | null;

export interface Rule<Optional extends boolean = boolean> {
  readonly optional: Optional;
  readonly check: Check;
}

export const required = (check: Check): Rule<false> => ({ optional: false, check });
export const optional = (check: Check): Rule<true> => ({ optional: true, check });

export type ParamsOf<M extends AgentMethod> = AgentMethods[M]['params'];
export type ResultOf<M extends AgentMethod> = AgentMethods[M]['result'];

/** One rule per param; `{} extends Pick<P, K>` is true exactly when K is optional in P. */
export type ParamRules<P> = { readonly [K in keyof P]-?: {} extends Pick<P, K> ? Rule<true> : Rule<false> };

/** protocol.ts spells "no params" as Record<string, never>. */
type TakesNoParams<P> = P extends Record<string, never> ? true : false;

export interface AgentMethodDef<M extends AgentMethod> {
  params: TakesNoParams<ParamsOf<M>> extends true ? 'none' : ParamRules<ParamsOf<M>>;
  handler(params: ParamsOf<M>, connection: RpcConnection): ResultOf<M> | Promise<ResultOf<M>>;
}

/** The methods a feature serves; the kernel refuses two features serving the same one. */
export type AgentMethodTable = { [M in AgentMethod]?: AgentMethodDef<M> };

/** The validator of an object of params: no unknown keys, then each rule in order (first problem wins). */
export function objectParams(rules: Readonly<Record<string, Rule>>): (params: unknown) => string | null {
  const entries = Object.entries(rules);
  return (params) => {
    if (typeof params !== 'object' || params === null || Array.isArray(params)) return 'params must be an object';
    const extra = Object.keys(params).find((k) => !Object.prototype.hasOwnProperty.call(rules, k));
    if (extra !== undefined) return `unexpected param "${extra.slice(0, 50)}"`;
    for (const [key, rule] of entries) {
      const value = (params as Record<string, unknown>)[key];
      if (value === undefined && rule.optional) continue;
      const problem = rule.check(value);
      if (problem !== null) return problem;
    }
    return null;
  };
}

export function toMethodSpec(def: AgentMethodDef<AgentMethod>): MethodSpec {
  const rules = def.params as 'none' | Record<string, Rule>;
  return { validate: rules === 'none' ? noParams : objectParams(rules), handler: def.handler };
}

// ---------------------------------------------------------------- shared checks

export function oneOf(name: string, values: readonly string[]): Check {
  return (v) => (typeof v === 'string' && values.includes(v) ? null : `${name} must be one of ${values.join(', ')}`);
}

export function wholeNumber(name: string, min: number, max: number): Check {
  return (v) => (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? null : `${name} must be a whole number from ${min} to ${max}`);
}
