/**
 * vitest globalSetup: the part of `npm run build` that deploys depend on, once per test run: the agent
 * bundle from the current source (resources/agent), the x64 Node runtime (fetched once, then only
 * checked), and the pins of both compiled into the app's code (main/deploy/pinned-artifacts.generated.ts),
 * which the tests' deploys check against like the app's do. The bundle's path reaches every test file
 * through vitest's `inject('agentBundle')`. Then the CLI bundle (out/cli, with those pins compiled in),
 * so the CLI tests run what `fleetwake` runs, built from the source under test.
 */
import type { TestProject } from 'vitest/node';
import { buildAgent } from '../../scripts/build-agent.mjs';
import { buildCli } from '../../scripts/build-cli.mjs';
import { fetchNodeRuntime } from '../../scripts/fetch-node-runtime.mjs';
import { pinArtifacts } from '../../scripts/pin-artifacts.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    agentBundle: string;
  }
}

export default async function setup(project: TestProject): Promise<void> {
  const { outfile } = await buildAgent({ quiet: true });
  await fetchNodeRuntime({ arches: ['x64'], log: () => undefined });
  await pinArtifacts({ quiet: true });
  await buildCli({ quiet: true });
  project.provide('agentBundle', outfile);
}
