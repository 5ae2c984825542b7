import type { FleetBridge, HostView, MetricsBatch } from '../../preload/api.js';
import { isObservableBridge } from '../bridge/index.js';
import { applyAgentStatus, applyAgentStatuses, applyDeployProgress } from '../features/agent/store.js';
import { applyHosts, applyStatus } from '../features/hosts/store.js';
import { applyMetricsBatch } from '../features/metrics/store.js';
import { pushPrompt, removePrompt } from '../features/prompts/store.js';
import { applyIdle, applyWakeProgress } from '../features/sleep/store.js';
import { useFleet } from '../state/store.js';

/** Subscribe to the core's events, then load the initial state. Returns an unsubscribe function. */
export function startFleetSync(bridge: FleetBridge): () => void {
  const offs = [
    bridge.on('hosts-changed', applyHosts),
    bridge.on('host-status', applyStatus),
    bridge.on('prompt', pushPrompt),
    bridge.on('prompt-closed', ({ id }) => removePrompt(id)),
    bridge.on('agent-status', applyAgentStatus),
    bridge.on('deploy-progress', applyDeployProgress),
    bridge.on('metrics', applyMetricsBatch),
    bridge.on('wake-progress', applyWakeProgress),
    bridge.on('idle-status', applyIdle),
  ];
  if (isObservableBridge(bridge)) {
    useFleet.setState({ connection: bridge.connectionState() });
    offs.push(bridge.onConnectionChange((connection) => useFleet.setState({ connection })));
  } else {
    useFleet.setState({ connection: 'open' });
  }
  void (async () => {
    try {
      const [appInfo, hosts, statuses] = await Promise.all([
        bridge.getAppInfo(),
        bridge.listHosts(),
        bridge.getStatuses(),
      ]);
      useFleet.setState({ appInfo });
      applyHosts(hosts);
      for (const st of statuses) applyStatus(st);
      useFleet.setState({ loaded: true, loadError: null });
      await loadAgentsAndMetrics(bridge, hosts);
    } catch (err) {
      useFleet.setState({ loaded: true, loadError: err instanceof Error ? err.message : String(err) });
    }
  })();
  return () => offs.forEach((off) => off());
}

/** Agents and the latest samples are extras: a failure here never hides the fleet. */
async function loadAgentsAndMetrics(bridge: FleetBridge, hosts: HostView[]): Promise<void> {
  try {
    applyAgentStatuses(await bridge.getAgentStatuses());
  } catch (err) {
    console.warn('fleet: could not load agent statuses', err);
  }
  const results = await Promise.allSettled(hosts.map((h) => bridge.getLatestMetrics(h.name)));
  const samples: MetricsBatch['samples'] = [];
  results.forEach((r, i) => {
    if (r.status === 'fulfilled' && r.value) samples.push({ name: hosts[i]!.name, sample: r.value });
  });
  applyMetricsBatch({ samples });
}
