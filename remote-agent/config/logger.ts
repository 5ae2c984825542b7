/**
 * One line per event: `2025-01-01T00:00:00.000Z info message key=value`, to stderr and, when
 * logging.file is set, appended to that file. Callers pass only non-secret fields.
 */
import { appendFileSync } from 'node:fs';
import type { LogLevel } from './schema.js';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  configure(opts: { level?: LogLevel; file?: string | null }): void;
}

function fmt(v: unknown): string {
  if (v instanceof Error) v = v.message;
  const s = typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
  const oneLine = s.replace(/[\r\n]+/g, ' ').slice(0, 500);
  return /[\s"=]/.test(oneLine) || oneLine === '' ? JSON.stringify(oneLine) : oneLine;
}

export function createLogger(opts: {
  level?: LogLevel;
  file?: string | null;
  write?: (line: string) => void;
  now?: () => number;
} = {}): Logger {
  let level: LogLevel = opts.level ?? 'info';
  let file: string | null = opts.file ?? null;
  let fileFailed = false;
  const write = opts.write ?? ((line: string) => {
    try {
      process.stderr.write(line);
    } catch {
      /* stderr gone: nothing to do */
    }
  });
  const now = opts.now ?? Date.now;
  const log = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (RANK[lvl] < RANK[level]) return;
    let line = `${new Date(now()).toISOString()} ${lvl} ${msg.replace(/[\r\n]+/g, ' ')}`;
    if (fields) for (const [k, v] of Object.entries(fields)) if (v !== undefined) line += ` ${k}=${fmt(v)}`;
    line += '\n';
    write(line);
    if (file) {
      try {
        appendFileSync(file, line, { mode: 0o640 });
        fileFailed = false;
      } catch (err) {
        if (!fileFailed) write(`${new Date(now()).toISOString()} warn cannot write log file ${file}: ${(err as Error).message}\n`);
        fileFailed = true;
      }
    }
  };
  return {
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
    configure(o) {
      if (o.level) level = o.level;
      if (o.file !== undefined) file = o.file;
    },
  };
}
