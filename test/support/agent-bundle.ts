/**
 * vitest globalSetup: the agent bundle is built once per test run, into a folder of its own, and
 * handed to every test file through vitest's `inject('agentBundle')`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { buildAgent } from '../../scripts/build-agent.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    agentBundle: string;
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const dir = mkdtempSync(join(tmpdir(), 'fwt-agent-bundle-'));
  const { outfile } = await buildAgent({ outDir: dir, quiet: true });
  project.provide('agentBundle', outfile);
  return () => rmSync(dir, { recursive: true, force: true });
}
