import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKey, type GeneratedKey } from '../support/keys.js';
import { freePort } from '../support/ports.js';
import { requireTools } from '../support/require-tools.js';
import { startSshd, type SshdHandle } from '../support/sshd.js';
import { authorizeKey, ensureUser } from '../support/users.js';

const ROOT = join(import.meta.dirname, '..', '..');
// What `npx fleetwake` runs: the bin, which runs the built CLI (out/cli/fleetwake.cjs, rebuilt by this
// project's globalSetup) and would say on stderr if it fell back to the sources.
const BIN = join(ROOT, 'bin', 'fleetwake.cjs');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(home: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { PATH: process.env.PATH, HOME: join(home, 'home'), FLEETWAKE_HOME: join(home, 'data'), ...env }, timeout: 30_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

let key: GeneratedKey;
let s1: SshdHandle;
let s2: SshdHandle;
const PW = 'cli-Pass-77';

beforeAll(async () => {
  requireTools();
  const dir = mkdtempSync(join(tmpdir(), 'fleetwake-cli-'));
  key = await generateKey(dir, { type: 'ed25519', name: 'cli' });
  await ensureUser('fwtcli');
  await ensureUser('fwtclipw', { password: PW });
  await authorizeKey('fwtcli', key.publicKey);
  [s1, s2] = await Promise.all([startSshd({ allowUsers: ['fwtcli'] }), startSshd({ allowUsers: ['fwtclipw'], hostKeyType: 'rsa' })]);
});

afterAll(async () => {
  await Promise.all([s1?.destroy(), s2?.destroy()]);
});

describe('the built CLI', () => {
  it('is there after the build, fresh, and answers --version and hosts ls without the sources', async () => {
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    const built = await new Promise<Run>((resolve) =>
      execFile(process.execPath, [join(ROOT, 'out', 'cli', 'fleetwake.cjs'), '--version'], (err, stdout, stderr) =>
        resolve({ code: err ? 1 : 0, stdout, stderr }),
      ),
    );
    expect(built).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    const home = mkdtempSync(join(tmpdir(), 'fleetwake-clihome-'));
    // Through the bin: no "running the TypeScript sources" note, so the build was fresh and used.
    const v = await cli(home, ['--version']);
    expect(v).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    expect(await cli(home, ['hosts', 'add', 'a', '--host', '10.0.0.1', '--mac', 'aa:bb:cc:dd:ee:ff'])).toMatchObject({ code: 0, stderr: '' });
    const ls = await cli(home, ['hosts', 'ls']);
    expect(ls).toMatchObject({ code: 0, stderr: '' });
    expect(ls.stdout).toMatch(/^NAME +ADDRESS +USER +JUMP +MAC\na +10\.0\.0\.1:22 +\S+ +- +aa:bb:cc:dd:ee:ff\n$/);
  });
});

describe('fleetwake CLI against real sshd', () => {
  it('adds, lists, trusts, checks status and removes hosts, with scriptable exit codes', async () => {
    const home = mkdtempSync(join(tmpdir(), 'fleetwake-clihome-'));
    const add = await cli(home, ['hosts', 'add', 'one', '--host', s1.host, '--port', String(s1.port), '--user', 'fwtcli', '--identity', key.privatePath, '--mac', 'AA-BB-CC-00-11-22']);
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    const pw = await cli(home, ['hosts', 'add', 'two', '--host', s2.host, '--port', String(s2.port), '--user', 'fwtclipw', '--password-env', 'TWO_PW', '--jump', 'one']);
    expect(pw.code).toBe(0);

    const ls = await cli(home, ['hosts', 'ls', '--json']);
    expect(ls.code).toBe(0);
    const hosts = JSON.parse(ls.stdout);
    expect(hosts).toEqual([
      expect.objectContaining({ name: 'one', host: s1.host, port: s1.port, user: 'fwtcli', mac: 'aa:bb:cc:00:11:22', jump: null }),
      expect.objectContaining({ name: 'two', port: s2.port, user: 'fwtclipw', jump: 'one', passwordEnv: 'TWO_PW' }),
    ]);
    // The variable's name is stored, never a secret.
    expect(readFileSync(join(home, 'data', 'fleetwake.json'), 'utf8')).not.toContain(PW);

    // Unknown keys: status says so with the fingerprint; trust without a terminal refuses.
    const before = await cli(home, ['status', '--json'], { TWO_PW: PW });
    expect(before.code).toBe(1);
    const st = JSON.parse(before.stdout);
    expect(st[0]).toMatchObject({ name: 'one', state: 'host-key-unknown', fingerprint: s1.hostKeyFingerprint });
    const refused = await cli(home, ['trust', 'one']);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toContain(s1.hostKeyFingerprint);
    expect(refused.stderr).toMatch(/no terminal/);

    expect((await cli(home, ['trust', 'one', '--yes'])).code).toBe(0);
    expect((await cli(home, ['trust', 'two', '--fingerprint', s2.hostKeyFingerprint], { TWO_PW: PW })).code).toBe(0);
    const after = await cli(home, ['status', '--json'], { TWO_PW: PW });
    expect(JSON.parse(after.stdout)).toEqual([
      { name: 'one', state: 'online' },
      { name: 'two', state: 'online' },
    ]);
    expect(after.code).toBe(0);

    // Without the password variable, two is auth-failed; one is unaffected.
    const noPw = JSON.parse((await cli(home, ['status', '--json'])).stdout);
    expect(noPw[1]).toMatchObject({ name: 'two', state: 'auth-failed' });

    // A changed key: --yes never accepts it; the new fingerprint does.
    await s1.rotateHostKey();
    const changed = JSON.parse((await cli(home, ['status', 'one', '--json'])).stdout);
    expect(changed).toEqual([expect.objectContaining({ name: 'one', state: 'host-key-changed', fingerprint: s1.hostKeyFingerprint })]);
    const yes = await cli(home, ['trust', 'one', '--yes']);
    expect(yes.code).toBe(1);
    expect(yes.stderr).toMatch(/HOST KEY CHANGED/);
    expect((await cli(home, ['trust', 'one', '--fingerprint', s1.hostKeyFingerprint])).code).toBe(0);

    // Removing a jump host in use is refused; the dependent first, then it.
    const rmJump = await cli(home, ['hosts', 'rm', 'one']);
    expect(rmJump.code).toBe(2);
    expect(rmJump.stderr).toMatch(/jump host for two/);
    expect((await cli(home, ['hosts', 'rm', 'two'])).code).toBe(0);
    expect((await cli(home, ['hosts', 'rm', 'one'])).code).toBe(0);
    expect(JSON.parse((await cli(home, ['hosts', 'ls', '--json'])).stdout)).toEqual([]);
  });

  it('bad usage and invalid input exit 2 with a message, and change nothing', async () => {
    const home = mkdtempSync(join(tmpdir(), 'fleetwake-clihome-'));
    await cli(home, ['hosts', 'add', 'keep', '--host', '127.0.0.1']);
    const file = join(home, 'data', 'fleetwake.json');
    const before = readFileSync(file, 'utf8');
    const cases: [string[], RegExp][] = [
      [['hosts', 'add', 'x', '--host', '127.0.0.1', '--port', '0'], /Port must be/],
      [['hosts', 'add', 'bad/name', '--host', '127.0.0.1'], /name/i],
      [['hosts', 'add', 'y', '--host', '127.0.0.1', '--mac', 'zz:zz'], /MAC/],
      [['hosts', 'add', 'y', '--host', '127.0.0.1', '--identity', '/nope/id_rsa'], /\/nope\/id_rsa/],
      [['hosts', 'add', 'y', '--host', '127.0.0.1', '--jump', 'ghost'], /ghost/],
      [['hosts', 'add', 'y'], /--host/],
      [['hosts', 'add', 'y', '--host', '127.0.0.1', '--bogus'], /bogus/],
      [['hosts', 'rm', 'ghost'], /No host named "ghost"/],
      [['trust', 'keep', '--fingerprint', 'SHA256:short'], /not a SHA256/],
      [['frobnicate'], /Unknown command/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(home, args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('reports an unreachable host offline within 10 s, in parallel with the others', async () => {
    const home = mkdtempSync(join(tmpdir(), 'fleetwake-clihome-'));
    const closed = await freePort();
    await cli(home, ['hosts', 'add', 'down', '--host', '127.0.0.1', '--port', String(closed)]);
    await cli(home, ['hosts', 'add', 'up', '--host', s2.host, '--port', String(s2.port), '--user', 'fwtclipw', '--password-env', 'P']);
    await cli(home, ['trust', 'up', '--yes']);
    const t0 = Date.now();
    const r = await cli(home, ['status', '--json'], { P: PW });
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(JSON.parse(r.stdout)).toEqual([
      expect.objectContaining({ name: 'down', state: 'offline', error: expect.stringMatching(/refused/) }),
      { name: 'up', state: 'online' },
    ]);
  });

  it('imports ~/.ssh/config after review; Match exec never runs', async () => {
    const home = mkdtempSync(join(tmpdir(), 'fleetwake-clihome-'));
    const marker = join(home, 'match-exec-ran');
    const cfg = join(home, 'ssh_config');
    writeFileSync(
      cfg,
      [
        'Host bastion',
        `  HostName ${s1.host}`,
        `  Port ${s1.port}`,
        '  User fwtcli',
        `  IdentityFile ${key.privatePath}`,
        'Host inner',
        `  HostName ${s2.host}`,
        `  Port ${s2.port}`,
        '  ProxyJump bastion',
        `Match exec "touch ${marker}"`,
        '  User root',
        'Host *',
        '  User fwtclipw',
      ].join('\n'),
    );
    const dry = await cli(home, ['hosts', 'import-ssh-config', '--file', cfg]);
    expect(dry.code).toBe(2);
    expect(dry.stdout).toMatch(/bastion/);
    expect(dry.stderr).toMatch(/--yes/);
    expect(JSON.parse((await cli(home, ['hosts', 'ls', '--json'])).stdout)).toEqual([]);

    const r = await cli(home, ['hosts', 'import-ssh-config', '--file', cfg, '--yes', '--json']);
    expect(r.code).toBe(0);
    const ls = JSON.parse((await cli(home, ['hosts', 'ls', '--json'])).stdout);
    expect(ls).toEqual([
      expect.objectContaining({ name: 'bastion', user: 'fwtcli', port: s1.port }),
      expect.objectContaining({ name: 'inner', user: 'fwtclipw', port: s2.port, jump: 'bastion' }),
    ]);
    expect(() => readFileSync(marker)).toThrow();
  });
});
