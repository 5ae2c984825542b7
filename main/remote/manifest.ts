import type { AgentMode } from '../../remote-agent/protocol.js';
import type { ExecResult } from '../ssh/connection.js';
import { shScript } from './shell.js';

/**
 * What a deploy leaves on the server, at `<installDir>/install.json`, so the app (and an admin) can
 * find the agent again: which node runs it, where its socket is, which build it is.
 * System mode: /opt/fleetwake/install.json. User mode: ~/.local/share/fleetwake/install.json.
 */
export interface InstallManifest {
  /** Agent version string as `fleetwake-agent version` prints it (includes the build hash). */
  version: string;
  protocolVersion: number;
  mode: AgentMode;
  /** Absolute paths on the server. */
  installDir: string;
  agentPath: string;
  /** The node binary that runs the agent: the host's own, or the runtime the app uploaded. */
  nodePath: string;
  /** Whether nodePath is the runtime Fleetwake uploaded. */
  uploadedRuntime: boolean;
  socketPath: string;
  configFile: string;
  stateDir: string;
  /** How it is kept running. */
  supervisor: 'systemd-system' | 'systemd-user' | 'detached';
  installedAt: string;
}

export const MANIFEST_LOCATIONS = {
  system: '/opt/fleetwake/install.json',
  /** Relative to the deploying user's home. */
  user: '.local/share/fleetwake/install.json',
} as const;

export class ManifestError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = 'ManifestError';
  }
}

/** Validate a parsed install.json; returns the problem, or null when it has the InstallManifest shape. */
export function manifestProblem(v: unknown): string | null {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return 'not a JSON object';
  const o = v as Record<string, unknown>;
  const str = (k: string) => (typeof o[k] === 'string' && (o[k] as string).length > 0 ? null : `${k} must be a non-empty string`);
  const abs = (k: string) => str(k) ?? ((o[k] as string).startsWith('/') ? null : `${k} must be an absolute path`);
  const problems = [
    str('version'),
    Number.isInteger(o.protocolVersion) ? null : 'protocolVersion must be an integer',
    o.mode === 'system' || o.mode === 'user' ? null : 'mode must be "system" or "user"',
    abs('installDir'),
    abs('agentPath'),
    abs('nodePath'),
    typeof o.uploadedRuntime === 'boolean' ? null : 'uploadedRuntime must be a boolean',
    abs('socketPath'),
    abs('configFile'),
    abs('stateDir'),
    o.supervisor === 'systemd-system' || o.supervisor === 'systemd-user' || o.supervisor === 'detached'
      ? null
      : 'supervisor must be systemd-system, systemd-user or detached',
    typeof o.installedAt === 'string' ? null : 'installedAt must be a string',
  ].filter((p): p is string => p !== null);
  return problems.length ? problems.join('; ') : null;
}

export interface InstalledManifests {
  system: InstallManifest | null;
  user: InstallManifest | null;
  /** Files that exist but are not valid manifests (a damaged install), system first. */
  problems: ManifestError[];
}

const SEP = '@@fleetwake-install-json@@';

/**
 * The one install.json reader: both locations (system, then the user's) in ONE exec, each checked
 * strictly with manifestProblem(). A missing file is null; a damaged one is null plus a problem.
 */
export async function readInstallManifests(
  conn: { exec(command: string, opts: { timeoutMs?: number; stdin?: string }): Promise<ExecResult> },
  opts: { timeoutMs?: number } = {},
): Promise<InstalledManifests> {
  const files = [MANIFEST_LOCATIONS.system, `$HOME/${MANIFEST_LOCATIONS.user}`];
  const script = files.map((f) => `if [ -e "${f}" ]; then printf '\\n${SEP} %s\\n' "${f}"; cat "${f}"; fi`).join('; ');
  const r = await conn.exec(shScript(script), { timeoutMs: opts.timeoutMs ?? 10_000, stdin: '' });
  const found: InstalledManifests = { system: null, user: null, problems: [] };
  for (const section of r.stdout.split(`\n${SEP} `).slice(1)) {
    const nl = section.indexOf('\n');
    const path = nl < 0 ? section : section.slice(0, nl);
    const body = nl < 0 ? '' : section.slice(nl + 1);
    const which = path === MANIFEST_LOCATIONS.system ? 'system' : 'user';
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (e) {
      found.problems.push(new ManifestError(path, `${path} is not valid JSON (${(e as Error).message}). Redeploy the agent.`));
      continue;
    }
    const problem = manifestProblem(parsed);
    if (problem) found.problems.push(new ManifestError(path, `${path} is not a valid install manifest: ${problem}. Redeploy the agent.`));
    else found[which] ??= parsed as InstallManifest;
  }
  return found;
}

/**
 * The install this SSH user's client talks to: its own (user mode, in its home) when there is one,
 * else the system install. A system agent an administrator installed may be only for group fleetwake,
 * so it must never shadow the user's own agent. Null when neither file exists; throws ManifestError
 * when the chosen one is damaged (redeploy).
 */
export async function readManifest(conn: Parameters<typeof readInstallManifests>[0], opts: { timeoutMs?: number } = {}): Promise<InstallManifest | null> {
  return ownInstall(await readInstallManifests(conn, opts));
}

/** readManifest's choice among both install.json files. */
export function ownInstall(m: InstalledManifests): InstallManifest | null {
  if (m.user) return m.user;
  const ownDamaged = m.problems.find((p) => p.path !== MANIFEST_LOCATIONS.system);
  if (ownDamaged) throw ownDamaged;
  if (m.system) return m.system;
  if (m.problems[0]) throw m.problems[0];
  return null;
}
