/**
 * bin/fleetwake.cjs runs the built CLI only when it may: never a stale or missing build without saying
 * so. Each case is a throw-away copy of the layout (bin/, out/cli/, main/cli/) whose "build" and
 * "sources" print which of them ran.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const dirs: string[] = [];

interface Layout {
  dir: string;
  run(): Promise<{ code: number; stdout: string; stderr: string }>;
}

/** A checkout copy whose build was made at `builtAt` from main/cli/index.ts and main/cli/other.ts. */
function layout(opts: { sources?: boolean; bundle?: boolean; tsx?: boolean } = {}): Layout {
  const dir = mkdtempSync(join(tmpdir(), 'fleetwake-bin-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'bin'));
  // As the checkout's: the sources are ES modules.
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  copyFileSync(join(ROOT, 'bin', 'fleetwake.cjs'), join(dir, 'bin', 'fleetwake.cjs'));
  mkdirSync(join(dir, 'out', 'cli'), { recursive: true });
  const builtAt = Date.now() - 60_000;
  if (opts.bundle ?? true) writeFileSync(join(dir, 'out', 'cli', 'fleetwake.cjs'), "process.stdout.write('BUILT ' + process.argv.slice(2).join(' '));\n");
  writeFileSync(join(dir, 'out', 'cli', 'fleetwake.inputs.json'), JSON.stringify({ builtAt, inputs: ['main/cli/index.ts', 'main/cli/other.ts'] }));
  if (opts.sources ?? true) {
    mkdirSync(join(dir, 'main', 'cli'), { recursive: true });
    for (const f of ['index.ts', 'other.ts']) {
      writeFileSync(join(dir, 'main', 'cli', f), "const from: string = 'SOURCES';\nprocess.stdout.write(from + ' ' + process.argv.slice(2).join(' '));\n");
      // Older than the build, as after `npm run build`.
      utimesSync(join(dir, 'main', 'cli', f), new Date(builtAt - 60_000), new Date(builtAt - 60_000));
    }
  }
  // tsx is found through node_modules next to the copy, as in a checkout.
  if (opts.tsx ?? true) symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return {
    dir,
    run: () =>
      new Promise((resolve) =>
        execFile(process.execPath, [join(dir, 'bin', 'fleetwake.cjs'), 'hosts', 'ls'], { timeout: 30_000 }, (err, stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        ),
      ),
  };
}

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('bin/fleetwake.cjs', () => {
  it('runs the build, silently, when every source it was built from is older and still there', async () => {
    expect(await layout().run()).toEqual({ code: 0, stdout: 'BUILT hosts ls', stderr: '' });
  });

  it('runs the sources through tsx, and says why, when a source changed after the build', async () => {
    const l = layout();
    writeFileSync(join(l.dir, 'main', 'cli', 'other.ts'), '// edited\n');
    const r = await l.run();
    expect(r.stdout).toBe('SOURCES hosts ls');
    expect(r.stderr).toMatch(/running the TypeScript sources through tsx.*main\/cli\/other\.ts changed after the build.*npm run build:cli/);
  });

  it('says so when a source the build came from was removed', async () => {
    const l = layout();
    rmSync(join(l.dir, 'main', 'cli', 'other.ts'));
    const r = await l.run();
    expect(r.stdout).toBe('SOURCES hosts ls');
    expect(r.stderr).toMatch(/main\/cli\/other\.ts was removed after the build/);
  });

  it('says so when there is no build', async () => {
    const r = await layout({ bundle: false }).run();
    expect(r.stdout).toBe('SOURCES hosts ls');
    expect(r.stderr).toMatch(/out\/cli\/fleetwake\.cjs is missing/);
  });

  it('fails with the fix when the build cannot be used and tsx is not installed', async () => {
    const l = layout({ tsx: false });
    writeFileSync(join(l.dir, 'main', 'cli', 'index.ts'), '// edited\n');
    const r = await l.run();
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/built CLI cannot be used \(main\/cli\/index\.ts changed after the build\), and tsx.*is not installed.*npm run build:cli/);
  });

  it('runs the build as it is where there are no sources (an installed package)', async () => {
    expect(await layout({ sources: false, tsx: false }).run()).toEqual({ code: 0, stdout: 'BUILT hosts ls', stderr: '' });
  });
});
