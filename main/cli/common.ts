/** What every command of the CLI shares: exit codes, the io, argument parsing, labels and tables. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { HostStatus } from '../../preload/api.js';
import type { Fleet } from '../fleet.js';
import type { Terminal } from './terminal.js';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export interface CliIo {
  out: (s: string) => void;
  err: (s: string) => void;
  terminal: Terminal | null;
  env: NodeJS.ProcessEnv;
  version: string;
}

export class UsageError extends Error {}

const GLOBAL_OPTIONS = {
  home: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export function parse<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O) {
  try {
    return parseArgs({ args, options: { ...GLOBAL_OPTIONS, ...options }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/^TypeError \[\w+\]: /, ''));
  }
}

export const STATE_LABEL: Record<HostStatus['state'], string> = {
  connecting: 'connecting',
  online: 'online',
  offline: 'offline',
  'auth-failed': 'auth failed',
  'host-key-unknown': 'host key unknown',
  'host-key-changed': 'HOST KEY CHANGED',
  error: 'error',
  asleep: 'asleep',
  waking: 'waking',
};

export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

export function statusJson(s: HostStatus) {
  const o: {
    name: string;
    state: string;
    error?: string;
    fingerprint?: string;
    keyType?: string;
    expectedFingerprint?: string;
    asleepSince?: string;
    asleepBasis?: 'announced' | 'planned';
  } = {
    name: s.name,
    state: s.state,
  };
  if (s.error) o.error = s.error;
  if (s.state === 'asleep') {
    o.asleepSince = new Date(s.since).toISOString();
    o.asleepBasis = s.asleepBasis ?? 'announced';
  }
  if (s.state === 'host-key-unknown' || s.state === 'host-key-changed') {
    if (s.fingerprint) o.fingerprint = s.fingerprint;
    if (s.keyType) o.keyType = s.keyType;
    if (s.expectedFingerprint) o.expectedFingerprint = s.expectedFingerprint;
  }
  return o;
}

export type Open = (home: string | undefined) => Fleet;
