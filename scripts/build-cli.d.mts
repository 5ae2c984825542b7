// Types for scripts/build-cli.mjs, so TypeScript tests and the integration globalSetup can call it.
export declare const CLI_BUNDLE: string;
export declare const CLI_INPUTS: string;
export declare function buildCli(options?: { quiet?: boolean }): Promise<{ outfile: string; inputs: string[]; bytes: number; ms: number }>;
