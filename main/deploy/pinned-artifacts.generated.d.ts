// The type of main/deploy/pinned-artifacts.generated.ts, which the build writes (scripts/pin-artifacts.mjs)
// and git ignores: with it a clean clone typechecks before its first build. main/deploy/pins.ts loads
// the module, and reads "no pins" when it is missing.
import type { ArtifactPins } from './pins.js';

export declare const PINNED_ARTIFACTS: ArtifactPins;
