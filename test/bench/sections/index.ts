/**
 * Every benchmark section, in the order `npm run bench` runs them. Add a new section (agent CPU/RSS vs
 * prometheus-node-exporter, metrics RPC latency, deploy time, wake latency, ...) as a file in this
 * folder exporting a BenchSection, and list it here.
 */
import type { BenchSection } from '../types.js';
import { agentFootprintSection, agentRpcSection } from './agent.js';
import { cliSection } from './cli.js';
import { deploySection } from './deploy.js';
import { idleTracesSection, wakeSection } from './sleep.js';
import { connectSection, execSection, statusSection } from './ssh.js';

export const SECTIONS: BenchSection[] = [cliSection, connectSection, execSection, statusSection, agentFootprintSection, agentRpcSection, deploySection, wakeSection, idleTracesSection];
