/**
 * Deploying the agent to a server (ARCHITECTURE.md, "The agent on a server"). The core builds a
 * DeployContext from `fleet.connection(name)` and turns `askSudoPassword` into a 'sudo-password' prompt.
 */
export {
  deployAgent,
  formatBytes,
  probeHost,
  readManifest,
  stopScript,
  uninstallAgent,
  upgradeAgent,
  type DeployContext,
  type DeployOptions,
  type InstalledManifests,
  type ProgressUpdate,
} from './deploy.js';
export { bundledAgentVersion, defaultAgentBundle, defaultRuntimeDir, resourcesDir, runtimeArtifact, type RuntimeArtifact } from './artifacts.js';
export { DEFAULT_NODE_CANDIDATES, parseProbeOutput, probeScript, type HostProbe, type NodeCandidate, type RuntimeArch, type SudoState } from './probe.js';
export { layoutFor, renderUnit, renderWrapper, type Layout, type Supervisor } from './layout.js';
export { privilegedCommand, type RemoteConn } from './remote.js';
export { envPrefix, shq, systemdQuote } from './shell.js';
export { compareVersions, parseVersion, versionAtLeast } from './version.js';
