/**
 * agent.yaml while the agent runs: the last good config, reloaded when the file changes (mtime, size,
 * inode; checked each tick and, where inotify works, on a folder watch). An invalid file keeps the last
 * good config and reports the problem. Whoever owns it hears of a new config through `onChange`.
 */
import { statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from './logger.js';
import { loadConfig, type AgentConfig } from './schema.js';

function fingerprint(path: string): string {
  try {
    const st = statSync(path);
    return `${st.mtimeMs}:${st.size}:${st.ino}`;
  } catch (err) {
    return `missing:${(err as NodeJS.ErrnoException).code ?? ''}`;
  }
}

export interface LiveConfigOptions {
  path: string;
  log: Logger;
  /** A valid config replaced `old`; runs before the log is reconfigured and "config loaded" is logged. */
  onChange(next: AgentConfig, old: AgentConfig): void;
}

export class LiveConfig {
  config: AgentConfig;
  error: string | null;
  private seen: string;
  private watcher: FSWatcher | null = null;
  private debounce: NodeJS.Timeout | null = null;

  constructor(private readonly opts: LiveConfigOptions) {
    const loaded = loadConfig(opts.path);
    this.config = loaded.config;
    this.error = loaded.error;
    this.seen = fingerprint(opts.path);
    opts.log.configure({ level: this.config.logging.level, file: this.config.logging.file });
  }

  changedOnDisk(): boolean {
    return fingerprint(this.opts.path) !== this.seen;
  }

  /** Re-reads the file; keeps the last good config when it is invalid. Returns the problem, or null. */
  reload(): string | null {
    const { log, path } = this.opts;
    this.seen = fingerprint(path);
    const loaded = loadConfig(path);
    if (loaded.error) {
      if (loaded.error !== this.error) log.warn('config invalid, keeping the last good config', { error: loaded.error });
      this.error = loaded.error;
      return loaded.error;
    }
    const old = this.config;
    this.config = loaded.config;
    this.opts.onChange(loaded.config, old);
    if (this.error) log.info('config valid again');
    this.error = null;
    log.configure({ level: loaded.config.logging.level, file: loaded.config.logging.file });
    log.info('config loaded', { interval: loaded.config.metrics.intervalSeconds, exists: loaded.exists });
    return null;
  }

  /** Calls `onEvent` (debounced) when something in the file's folder touches it. */
  watch(onEvent: () => void): void {
    const name = basename(this.opts.path);
    try {
      this.watcher = watch(dirname(this.opts.path), { persistent: false }, (_event, file) => {
        if (file !== null && file !== name) return;
        if (this.debounce) clearTimeout(this.debounce);
        this.debounce = setTimeout(() => {
          this.debounce = null;
          onEvent();
        }, 100);
        this.debounce.unref();
      });
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = null;
      });
    } catch {
      // No folder yet, or no inotify: the check on every tick covers it.
      this.watcher = null;
    }
  }

  unwatch(): void {
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = null;
    this.watcher?.close();
    this.watcher = null;
  }
}
