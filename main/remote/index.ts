/**
 * What an agent install is on a server and how to change it: shell quoting, install.json, the layout
 * of an install, the host probe, privileged commands and file placement over one SSH connection, and
 * the install / upgrade / rollback steps. Nothing about the app's own files or flows: main/deploy
 * orchestrates these steps into deploy, upgrade and uninstall.
 */
export { privilegedCommand, outputTail, Remote, RemoteCommandError, tempName, type Privilege, type RemoteConn } from './host.js';
export { AGENT_FILE, agentCommand, agentEnv, layoutFor, renderUnit, renderWrapper, SYSTEM_GROUP, UNIT_NAME, type Layout, type Supervisor } from './layout.js';
export { MANIFEST_LOCATIONS, ManifestError, manifestProblem, readInstallManifests, readManifest, type InstalledManifests, type InstallManifest } from './manifest.js';
export { DEFAULT_NODE_CANDIDATES, freeBytesFor, parseProbeOutput, probeScript, type HostProbe, type NodeCandidate, type RuntimeArch, type SudoState } from './probe.js';
export { envPrefix, shq, shScript, systemdQuote } from './shell.js';
export { compareVersions, MIN_GLIBC_FOR_RUNTIME, MIN_NODE_VERSION, parseVersion, versionAtLeast } from './version.js';
export { isAgentRunning, startAgent, stopAgent, stopScript, systemctl, verifyAgent } from './agent-process.js';
export { installSupport, remoteState, rollback, uploadRuntime, type RemoteState } from './install.js';
export { takeLock, type HeldLock } from './lock.js';
export { acquirePrivilege } from './privilege.js';
export { errMessage, fail, formatBytes, Progress, type ProgressUpdate, type StepState } from './progress.js';
