// Types for scripts/pin-artifacts.mjs, so TypeScript tests can call it directly.
import type { ArtifactPins } from '../main/deploy/pins.js';

export declare const PIN_MODULE: string;
export declare function computePins(opts?: { agentBundle?: string; runtimeDir?: string }): Promise<ArtifactPins>;
export declare function pinArtifacts(opts?: { agentBundle?: string; runtimeDir?: string; outFile?: string; quiet?: boolean }): Promise<ArtifactPins>;
