import type { AgentMode } from '../../remote-agent/protocol.js';

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
