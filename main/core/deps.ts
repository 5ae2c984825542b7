import type { SecretStore } from '../secrets/types.js';
import type { ConnectionOptions } from '../ssh/connection.js';
import type { FleetStore } from '../store/types.js';
import type { LocalFilePolicy } from '../hosts/local-files.js';
import type { LocalFilePurpose } from '../../preload/api.js';
import type { SendOptions, WolTarget } from '../sleep/wake/magic-packet.js';
import type { GuardedTarget, WakeDeps } from '../sleep/wake/wake.js';

/** What a front hands createFleet: where the data lives, how to reach hosts, and test overrides. */
export interface FleetDeps {
  store: FleetStore;
  secrets: SecretStore;
  appVersion: string;
  /** Home folder for `~` expansion, ~/.ssh/config and ~/.ssh/known_hosts. */
  homeDir: string;
  /**
   * Local files that contract calls may name (identityFile, the ssh config to import). The Electron
   * front limits them (~/.ssh and files picked in a native dialog); absent: any file (CLI, harness).
   */
  localFiles?: LocalFilePolicy;
  /**
   * Shows a native open-file dialog and answers the chosen path (null: cancelled); only the Electron
   * front supplies one. The core records the answer in `localFiles.pickedFiles`.
   */
  chooseFile?: (purpose: LocalFilePurpose) => Promise<string | null>;
  /** Opens http(s) links; only the Electron front supplies one. */
  openExternal?: (url: string) => Promise<void>;
  /** ssh-agent socket; defaults to process.env.SSH_AUTH_SOCK. */
  agentSocket?: string;
  /** The desktop app and the harness keep every host connected; the CLI connects on demand. */
  keepConnected?: boolean;
  /** Overrides for deadlines, keepalive and backoff (tests and benchmarks use short ones). */
  connection?: Partial<ConnectionOptions>;
  knownHostsFiles?: string[];
  /** How long an unanswered prompt waits before it is cancelled. */
  promptTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** The agent bundle deploys upload (default resources/agent/fleetwake-agent.cjs). */
  agentBundle?: string;
  /** Absolute node paths deploy tries besides PATH (tests of hosts without node pass []). */
  nodeCandidates?: string[];
  /** Agent manager timings (tests use short ones). */
  agent?: { retryMs?: number; restartIntervalMs?: number; batchIntervalMs?: number };
  /** Wake-on-LAN: tests point every host at loopback and pass a guard that refuses anything else. */
  wake?: {
    /** Sees every target before a packet is sent or relayed; throwing aborts the wake. */
    guard?: (t: GuardedTarget) => void;
    send?: (mac: string, targets: WolTarget[], opts: SendOptions) => Promise<WolTarget[]>;
    networkInterfaces?: WakeDeps['networkInterfaces'];
    tcpProbe?: WakeDeps['tcpProbe'];
    pollIntervalMs?: number;
    /** Where announced suspends and learned MAC/subnet are kept; default <data dir>/wake-state.json, null = memory only. */
    statePath?: string | null;
  };
}
