// Types for scripts/build-agent.mjs, so TypeScript tests can call it directly.
export interface BuiltAgent {
  outfile: string;
  sha256file: string;
  bytes: number;
  sha256: string;
  version: string;
}
export declare const MAX_AGENT_BYTES: number;
export declare function buildAgent(options?: { outDir?: string; minify?: boolean; quiet?: boolean }): Promise<BuiltAgent>;
