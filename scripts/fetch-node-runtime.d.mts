// Types for scripts/fetch-node-runtime.mjs, so TypeScript tests can call it directly.
export interface FetchedRuntime {
  version: string;
  arch: 'x64' | 'arm64';
  /** Of the unpacked binary. */
  sha256: string;
  size: number;
  gzSha256: string;
  gzSize: number;
}
export declare const NODE_RUNTIME_VERSION: string;
export declare const RUNTIME_ARCHES: string[];
export declare const DEFAULT_RUNTIME_DIR: string;
export declare function fetchNodeRuntime(opts?: {
  arches?: string[];
  outDir?: string;
  force?: boolean;
  log?: (s: string) => void;
}): Promise<Record<string, FetchedRuntime>>;
