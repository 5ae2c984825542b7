/**
 * Deploying the agent to a server (ARCHITECTURE.md, "The agent on a server"). The core builds a
 * DeployContext from `fleet.connection(name)` and turns `askSudoPassword` into a 'sudo-password' prompt.
 */
export {
  deployAgent,
  formatBytes,
  probeHost,
  readManifest,
  readManifests,
  upgradeAgent,
  type DeployContext,
  type DeployOptions,
  type InstalledManifests,
  type ProgressUpdate,
} from './deploy.js';
export { bundledAgentVersion, defaultAgentBundle, defaultRuntimeDir, resourcesDir, runtimeArtifact, type RuntimeArtifact } from './artifacts.js';
export { NO_PINS, pinnedArtifacts, type ArtifactPin, type ArtifactPins, type RuntimePin } from './pins.js';
export { uninstallAgent } from './uninstall.js';
export { stopScript } from '../remote/agent-process.js';
