/**
 * The Node/V8 options every agent daemon runs with, wherever it is started: the systemd unit's
 * ExecStart (main/remote/layout.ts), the detached daemon (cli/run.ts), the footprint bench. They must be
 * accepted by every Node the agent supports (18 and newer). Chosen by measurement in `npm run bench --
 * --only agent-footprint`; see the commit that set them.
 */
export const AGENT_NODE_FLAGS: readonly string[] = [];
