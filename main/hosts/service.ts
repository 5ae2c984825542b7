import { join } from 'node:path';
import type { HostInput, HostStatus, HostsApi, HostView, ImportPreview, ImportResult } from '../../preload/api.js';
import type { FleetContext } from '../core/context.js';
import { FleetError, toApiError } from '../core/errors.js';
import { previewImport } from './import.js';
import { checkLocalFile } from './local-files.js';
import type { FleetData } from '../store/types.js';
import type { HostRecord } from './types.js';
import { expandHome, validateHostInput } from './validation.js';

/**
 * What other features keep per host, told when a host is renamed or removed. The calls come in a
 * fixed order around the host's connection closing, because closing it publishes one last status
 * that the features still see.
 */
export interface HostLifecycle {
  /** Renamed in the store, before its old connection closes: per-host memory moves to the new name. */
  renamed(from: string, to: string): void;
  /** Removed from the store, before its connection closes. */
  removing(name: string): void;
  /** The connection of a removed or renamed host has closed (under the name it had): drop what followed it. */
  gone(name: string): void;
}

export interface HostsServiceDeps {
  lifecycle: HostLifecycle;
  /** The status as published (asleep / waking laid over the SSH state, canWake computed). */
  overlay(s: HostStatus): HostStatus;
}

/** The host `name` in `data`, or the not-found error getHost gives. */
function findHost(data: FleetData, name: string): HostRecord {
  const host = data.hosts.find((h) => h.name === name);
  if (host) return host;
  const names = data.hosts.map((h) => h.name);
  throw new FleetError('not-found', `No host named "${name}". ${names.length ? `Known hosts: ${names.join(', ')}.` : 'Add one first.'}`, 'name');
}

/** The host records: list, add, edit (rename included), remove, and import from ~/.ssh/config. */
export class HostsService implements HostsApi {
  constructor(
    private readonly ctx: FleetContext,
    private readonly deps: HostsServiceDeps,
  ) {}

  async listHosts(): Promise<HostView[]> {
    return this.ctx.data().hosts.map((h) => this.ctx.view(h));
  }

  private validate(input: unknown, existing: HostRecord[], editing?: string): HostRecord {
    const homeDir = this.ctx.deps.homeDir;
    const vctx = editing === undefined ? { existing, homeDir } : { existing, editing, homeDir };
    return validateHostInput(input, vctx);
  }

  /** Read-modify-write under the store's lock, so the CLI and the app never undo each other. */
  private update(change: (data: FleetData) => FleetData): FleetData {
    return this.ctx.deps.store.update(change);
  }

  /**
   * The front's rule for local files the renderer names (the key file, extra known_hosts files); one
   * the host already has is not checked again.
   */
  private checkKeyFile(input: unknown, current?: Pick<HostRecord, 'identityFile' | 'knownHostsFiles'>): void {
    const { homeDir, localFiles } = this.ctx.deps;
    const fields = (input ?? {}) as { identityFile?: unknown; knownHostsFiles?: unknown };
    const file = fields.identityFile;
    if (typeof file === 'string' && file.trim() && !(current?.identityFile && expandHome(file.trim(), homeDir) === current.identityFile)) {
      checkLocalFile(localFiles, file, 'identityFile', 'Key file', homeDir);
    }
    if (!Array.isArray(fields.knownHostsFiles)) return;
    for (const f of fields.knownHostsFiles) {
      if (typeof f !== 'string' || !f.trim() || current?.knownHostsFiles.includes(expandHome(f.trim(), homeDir))) continue;
      checkLocalFile(localFiles, f, 'knownHostsFiles', 'Known hosts file', homeDir);
    }
  }

  async addHost(input: HostInput): Promise<HostView> {
    this.checkKeyFile(input);
    let host!: HostRecord;
    // Validated against the data as it is on disk now (another process may have added that name).
    this.update((data) => {
      host = this.validate(input, data.hosts);
      return { ...data, hosts: [...data.hosts, host] };
    });
    this.ctx.publishHosts();
    if (this.ctx.keepConnected) this.ctx.pool.get(host.name).start();
    return this.ctx.view(host);
  }

  async updateHost(name: string, input: HostInput): Promise<HostView> {
    const { ctx } = this;
    let before!: HostRecord;
    let host!: HostRecord;
    let renamed = false;
    let data!: FleetData;
    this.update((fresh) => {
      data = fresh;
      before = findHost(fresh, name);
      this.checkKeyFile(input, before);
      host = this.validate(input, fresh.hosts, name);
      renamed = host.name !== name;
      const hosts = fresh.hosts.map((h) => {
        if (h.name === name) return host;
        // A rename carries the hosts that jump through it along.
        if (renamed && h.jump === name) return { ...h, jump: host.name };
        return h;
      });
      // The host's sleep log is kept in the same store write, so it moves with the rename.
      let sleepLog = fresh.sleepLog;
      if (renamed && Object.hasOwn(sleepLog, name)) {
        const { [name]: moved, ...rest } = sleepLog;
        sleepLog = { ...rest, [host.name]: moved! };
      }
      return { ...fresh, hosts, sleepLog };
    });
    if (renamed) {
      ctx.deps.secrets.rename(name, host.name);
      this.deps.lifecycle.renamed(name, host.name);
    }

    const reachChanged =
      renamed ||
      (['host', 'port', 'user', 'identityFile', 'passwordEnv', 'jump'] as const).some((k) => before[k] !== host[k]) ||
      before.knownHostsFiles.join('\n') !== host.knownHostsFiles.join('\n');
    if (reachChanged) {
      const affected = [name, ...ctx.pool.dependents(name, data.hosts)];
      for (const n of affected) ctx.pool.remove(n);
      if (renamed) this.deps.lifecycle.gone(name);
      ctx.publishHosts();
      if (ctx.keepConnected) for (const n of affected) ctx.pool.get(n === name ? host.name : n).start();
      else if (renamed) ctx.emit('host-status', this.deps.overlay(ctx.pool.statusOf(host.name)));
    } else {
      ctx.publishHosts();
      // A MAC added or removed changes whether the host can be woken.
      if (before.mac !== host.mac) ctx.emit('host-status', this.deps.overlay(ctx.pool.statusOf(host.name)));
    }
    return ctx.view(host);
  }

  async removeHost(name: string): Promise<void> {
    const { ctx } = this;
    this.update((data) => {
      findHost(data, name);
      const users = data.hosts.filter((h) => h.jump === name).map((h) => h.name);
      if (users.length) {
        throw new FleetError(
          'conflict',
          `${name} is the jump host for ${users.join(', ')}. Change or clear their jump host first; nothing was removed.`,
          'name',
        );
      }
      const { [name]: _dropped, ...sleepLog } = data.sleepLog;
      return { ...data, hosts: data.hosts.filter((h) => h.name !== name), sleepLog };
    });
    this.deps.lifecycle.removing(name);
    ctx.pool.remove(name);
    this.deps.lifecycle.gone(name);
    ctx.deps.secrets.delete(name);
    ctx.publishHosts();
  }

  async previewSshConfigImport(file?: string): Promise<ImportPreview> {
    const { homeDir } = this.ctx.deps;
    const path = file && file.trim() ? file.trim() : join(homeDir, '.ssh', 'config');
    if (file && file.trim()) checkLocalFile(this.ctx.deps.localFiles, path, 'file', 'The ssh config file', homeDir);
    return previewImport(path, { existing: this.ctx.data().hosts, homeDir });
  }

  async importHosts(inputs: HostInput[]): Promise<ImportResult> {
    if (!Array.isArray(inputs)) throw new FleetError('invalid-input', 'Import expects a list of hosts.', 'hosts');
    let added: HostRecord[] = [];
    let failed: ImportResult['failed'] = [];
    // One locked read-modify-write: every name is checked against the data on disk now.
    const plan = (fresh: FleetData): FleetData => {
      // Jump hosts first, so a host can jump through another one from the same import.
      const pending = [...inputs];
      added = [];
      failed = [];
      let data = fresh;
      let progress = true;
      while (pending.length && progress) {
        progress = false;
        for (const input of [...pending]) {
          const jump = typeof input?.jump === 'string' ? input.jump.trim() : '';
          const waitsForJump = jump && !data.hosts.some((h) => h.name === jump) && pending.some((p) => p !== input && p?.name === jump);
          if (waitsForJump) continue;
          pending.splice(pending.indexOf(input), 1);
          progress = true;
          try {
            this.checkKeyFile(input);
            const host = this.validate(input, data.hosts);
            data = { ...data, hosts: [...data.hosts, host] };
            added.push(host);
          } catch (e) {
            const err = toApiError(e);
            failed.push({ name: String(input?.name ?? ''), error: { field: err.field ?? 'name', message: err.message } });
          }
        }
      }
      for (const input of pending) {
        failed.push({ name: String(input?.name ?? ''), error: { field: 'jump', message: `Jump hosts loop through ${input.jump}.` } });
      }
      return data;
    };
    this.update(plan);
    if (added.length) {
      this.ctx.publishHosts();
      if (this.ctx.keepConnected) for (const h of added) this.ctx.pool.get(h.name).start();
    }
    return { added: added.map((h) => this.ctx.view(h)), failed };
  }
}
