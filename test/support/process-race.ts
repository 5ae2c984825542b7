/**
 * Several real Node processes running one TypeScript script at the same moment, for races across
 * processes (the CLI and the app on one data folder). Each process signals that it is loaded and then
 * waits for a shared start signal, so the race begins only once all of them are ready: tsx takes a
 * while to load, and a fixed head start would be a guess.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait-for.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A repository module's path as a string literal for a script's import line. */
export const repoModule = (...p: string[]) => JSON.stringify(path.join(REPO_ROOT, ...p));

/** Put this in a script (with `import fs from 'node:fs'`) where the race starts. */
export const AWAIT_START = `fs.writeFileSync(process.env.FWT_READY, ''); while (!fs.existsSync(process.env.FWT_GO)) await new Promise((r) => setTimeout(r, 2));`;

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `source` once per argument list, all started together; resolves when every process has exited. */
export async function raceProcesses(dir: string, source: string, argLists: string[][]): Promise<ProcessResult[]> {
  const script = path.join(dir, 'race.mts');
  fs.writeFileSync(script, source);
  const go = path.join(dir, 'race.go');
  const ready = argLists.map((_, i) => path.join(dir, `race.ready.${i}`));
  const runs = argLists.map(
    (args, i) =>
      new Promise<ProcessResult>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
          cwd: REPO_ROOT,
          stdio: ['ignore', 'pipe', 'pipe'],
          env: { ...process.env, FWT_READY: ready[i], FWT_GO: go },
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c) => (stdout += c));
        child.stderr.on('data', (c) => (stderr += c));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      }),
  );
  // A process that dies before it is ready must fail the wait, not hang it.
  let exited = 0;
  for (const r of runs) void r.then(() => exited++);
  await waitFor('every racing process to load', () => {
    if (ready.every((f) => fs.existsSync(f))) return true;
    if (exited > 0) throw new Error('a racing process exited before it was ready');
    return false;
  }, { timeoutMs: 60_000, intervalMs: 20 }).catch(async (err: Error) => {
    fs.writeFileSync(go, '');
    const results = await Promise.all(runs);
    throw new Error(`${err.message}\n${results.map((r) => r.stderr).join('\n')}`);
  });
  fs.writeFileSync(go, '');
  return Promise.all(runs);
}
