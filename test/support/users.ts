/**
 * Test-only Linux accounts for the sshd test bed (root only).
 *
 * Names must start with `fwt` so a test can never modify a real account. Everything is idempotent:
 * several test files (and the benchmarks) call `ensureUser('fwtalice')` and get the same account.
 */
import { execFile } from 'node:child_process';
import { appendFile, chmod, chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestUser {
  name: string;
  home: string;
  uid: number;
  gid: number;
}

export interface EnsureUserOptions {
  /** Set (or reset) this password with chpasswd. Without it the account is made key-only. */
  password?: string;
}

const NAME_RE = /^fwt[a-z0-9_-]{1,28}$/;

function assertTestName(name: string): void {
  if (!NAME_RE.test(name)) {
    throw new Error(`test user names must match ${NAME_RE} (prefix "fwt"), got ${JSON.stringify(name)}`);
  }
}

async function lookup(name: string): Promise<TestUser | null> {
  const passwd = await readFile('/etc/passwd', 'utf8');
  for (const line of passwd.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f.length >= 7) {
      return { name, uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? `/home/${name}` };
    }
  }
  return null;
}

/** The hash field of /etc/shadow for `name` ('' when missing). */
async function shadowHash(name: string): Promise<string> {
  const shadow = await readFile('/etc/shadow', 'utf8');
  const line = shadow.split('\n').find((l) => l.startsWith(`${name}:`));
  return line?.split(':')[1] ?? '';
}

/**
 * /etc/passwd edits take a lock file; parallel test workers may collide ("cannot lock /etc/passwd",
 * exit 10), so retry briefly instead of failing the suite.
 */
async function runLocked(cmd: string, args: string[], input?: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      if (input === undefined) {
        await run(cmd, args);
      } else {
        await new Promise<void>((resolve, reject) => {
          const child = execFile(cmd, args, (err) => (err ? reject(err) : resolve()));
          child.stdin?.end(input);
        });
      }
      return;
    } catch (err) {
      const e = err as { code?: number; stderr?: string };
      if (attempt < 20 && (e.code === 10 || /lock/i.test(String(e.stderr ?? '')))) {
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      throw err;
    }
  }
}

/**
 * Create (if needed) a user with a home directory and /bin/bash, and make sure sshd will let it in.
 *
 * Locking matters: useradd leaves the hash as '!', and with `UsePAM no` sshd treats a hash starting with
 * '!' as a LOCKED account and refuses even public-key logins. A '*' hash means "no password can match"
 * but not "locked", so key-only users get '*'.
 */
export async function ensureUser(name: string, opts: EnsureUserOptions = {}): Promise<TestUser> {
  assertTestName(name);
  if (!(await lookup(name))) {
    try {
      await runLocked('useradd', ['-m', '-s', '/bin/bash', name]);
    } catch (err) {
      // Exit 9 = "already exists": another worker created it between our lookup and useradd.
      if ((err as { code?: number }).code !== 9) throw err;
    }
  }
  const user = await lookup(name);
  if (!user) throw new Error(`ensureUser: ${name} not in /etc/passwd after useradd`);

  if (opts.password !== undefined) {
    await runLocked('chpasswd', [], `${name}:${opts.password}\n`);
  } else {
    const hash = await shadowHash(name);
    if (hash === '' || hash.startsWith('!')) await runLocked('usermod', ['-p', '*', name]);
  }

  // useradd -m normally made the home; recreate it if something removed it.
  await mkdir(user.home, { recursive: true });
  await chown(user.home, user.uid, user.gid);
  const sshDir = `${user.home}/.ssh`;
  await mkdir(sshDir, { recursive: true });
  await chmod(sshDir, 0o700);
  await chown(sshDir, user.uid, user.gid);
  return user;
}

/** Append a public key line to ~user/.ssh/authorized_keys (0600, owned by the user), once. */
export async function authorizeKey(name: string, publicKeyLine: string): Promise<void> {
  assertTestName(name);
  const user = await lookup(name);
  if (!user) throw new Error(`authorizeKey: no such user ${name}; call ensureUser first`);
  const sshDir = `${user.home}/.ssh`;
  await mkdir(sshDir, { recursive: true, mode: 0o700 });
  await chown(sshDir, user.uid, user.gid);
  const file = `${sshDir}/authorized_keys`;
  const line = publicKeyLine.trim();
  const existing = await readFile(file, 'utf8').catch(() => '');
  if (!existing.split('\n').some((l) => l.trim() === line)) {
    // Append (O_APPEND), never rewrite: parallel test files authorizing keys for the same user must not
    // lose each other's lines (the worst a race can do now is a duplicate line, which sshd ignores).
    const sep = existing === '' || existing.endsWith('\n') ? '' : '\n';
    await appendFile(file, `${sep}${line}\n`);
  }
  await chmod(file, 0o600);
  await chown(file, user.uid, user.gid);
}

/**
 * Passwordless sudo for a test user: /etc/sudoers.d/<name> (0440). Returns the function that takes it
 * away again. Needs sudo installed (scripts/test.sh installs it).
 */
export async function grantPasswordlessSudo(name: string): Promise<() => Promise<void>> {
  assertTestName(name);
  if (!(await lookup(name))) throw new Error(`grantPasswordlessSudo: no such user ${name}; call ensureUser first`);
  const file = `/etc/sudoers.d/${name}`;
  await mkdir('/etc/sudoers.d', { recursive: true, mode: 0o750 });
  await writeFile(file, `${name} ALL=(ALL) NOPASSWD: ALL\n`, { mode: 0o440 });
  await chmod(file, 0o440);
  return () => rm(file, { force: true });
}
