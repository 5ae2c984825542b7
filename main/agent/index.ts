export {
  AgentClient,
  AgentRpcError,
  AgentTimeoutError,
  AgentUnavailableError,
  classifyBridgeFailure,
  openAgentClient,
  type AgentClientOptions,
  type AgentHostConnection,
  type AgentUnavailableReason,
  type CallOptions,
  type OpenAgentOptions,
  type OpenedAgent,
} from './client.js';
export { AgentManager, type AgentManagerDeps } from './manager.js';
export { MetricsBatcher, type MetricsBatcherOptions } from './metrics-batcher.js';
export { MANIFEST_LOCATIONS, type InstallManifest } from '../remote/manifest.js';
