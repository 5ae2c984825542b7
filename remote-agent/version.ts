/**
 * The agent's version. scripts/build-agent.mjs replaces AGENT_VERSION at bundle time (esbuild `define`)
 * with package.json's version plus a content hash ("0.1.0+1a2b3c4d5e6f"), so the app can tell builds apart.
 * Run from source (tests, tsx) it is '0.0.0-dev'.
 */
declare const AGENT_VERSION: string | undefined;

export const VERSION: string = typeof AGENT_VERSION === 'string' ? AGENT_VERSION : '0.0.0-dev';
