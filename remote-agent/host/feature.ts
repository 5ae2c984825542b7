/**
 * Host info: agent.info (version, protocol, mode, paths, config problem, this host's name and primary
 * interface) with every feature's capabilities, and the host's own (systemd, docker, sudo), probed once.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import type { AgentFeature, FeatureContext } from '../kernel/feature.js';
import { resolveOnPath } from '../paths.js';
import { PROTOCOL_VERSION, type AgentCapabilities, type AgentInfo, type NetworkInterfaceInfo } from '../protocol.js';
import { VERSION } from '../version.js';

export interface HostCapabilities {
  systemd: boolean;
  docker: boolean;
  sudo: boolean;
}

export interface HostDeps {
  primaryInterface(): NetworkInterfaceInfo | null;
  /** Defaults to detectHostCapabilities(). */
  detectHost?(): Promise<HostCapabilities>;
  hostname?(): string;
}

/** systemd: /run/systemd/system exists; docker: `docker` on PATH or /var/run/docker.sock; sudo: root or `sudo -n true`. */
export async function detectHostCapabilities(env: NodeJS.ProcessEnv = process.env): Promise<HostCapabilities> {
  const systemd = existsSync('/run/systemd/system');
  const docker = resolveOnPath('docker', env) !== null || existsSync('/var/run/docker.sock');
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  let sudo = root;
  if (!root && resolveOnPath('sudo', env) !== null) {
    sudo = await new Promise<boolean>((resolve) => {
      try {
        execFile('sudo', ['-n', 'true'], { timeout: 3000, killSignal: 'SIGKILL', env }, (err) => resolve(!err));
      } catch {
        resolve(false);
      }
    });
  }
  return { systemd, docker, sudo };
}

export function hostFeature(ctx: FeatureContext<HostDeps>) {
  const { deps, log } = ctx;
  let host: HostCapabilities = { systemd: false, docker: false, sudo: false };
  let probed: Promise<void> = Promise.resolve();

  async function info(): Promise<AgentInfo> {
    const c = await ctx.capabilities();
    // Spelled out so every field has a value and the order stays that of protocol.ts.
    const capabilities: AgentCapabilities = {
      gpu: c.gpu ?? false,
      gpuReason: c.gpuReason ?? null,
      systemd: c.systemd ?? false,
      docker: c.docker ?? false,
      sudo: c.sudo ?? false,
      rapl: c.rapl ?? false,
    };
    let primaryInterface: NetworkInterfaceInfo | null = null;
    try {
      primaryInterface = deps.primaryInterface();
    } catch (err) {
      log.warn('cannot read the primary interface', { error: err });
    }
    return {
      version: VERSION,
      protocolVersion: PROTOCOL_VERSION,
      mode: ctx.paths.mode,
      capabilities,
      hostname: (deps.hostname ?? osHostname)(),
      primaryInterface,
      pid: process.pid,
      startedAt: ctx.startedAt,
      nodeVersion: process.version,
      configPath: ctx.paths.configFile,
      stateDir: ctx.paths.stateDir,
      configError: ctx.configError(),
    };
  }

  return {
    name: 'host',
    methods: { 'agent.info': { params: 'none', handler: info } },

    start(): void {
      probed = (deps.detectHost ?? (() => detectHostCapabilities(ctx.env)))()
        .then((caps) => {
          host = caps;
        })
        .catch((err) => log.warn('host capability check failed', { error: err }));
    },

    async capabilities(): Promise<Partial<AgentCapabilities>> {
      await probed;
      return { ...host };
    },
  } satisfies AgentFeature;
}
