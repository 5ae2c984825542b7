/**
 * One server as an installer sees it: commands as the SSH user or with the install's privilege
 * (root directly, `sudo -n`, or `sudo -S` with the password on stdin), and SFTP transfers.
 */
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type { SftpSession } from '../ssh/channels.js';
import type { ExecResult, HostConnection } from '../ssh/connection.js';
import { checksumMismatch, sha256CheckScript } from './checksum.js';
import { shq, shScript } from './shell.js';

/** What deploy needs of a HostConnection (a test double can provide just these). */
export type RemoteConn = Pick<HostConnection, 'exec' | 'ready'>;

/**
 * How commands that need root run: 'self' (we are root, or user mode where nothing needs root),
 * 'sudo-n' (passwordless sudo), 'sudo-S' (sudo reading the password from stdin).
 */
export type Privilege = 'self' | 'sudo-n' | 'sudo-S';

export class RemoteCommandError extends Error {
  constructor(
    message: string,
    readonly result: ExecResult,
  ) {
    super(message);
    this.name = 'RemoteCommandError';
  }
}

const DEFAULT_TIMEOUT_MS = 60_000;

/** The command line that runs `script` with privilege `priv`; the password is never part of it. */
export function privilegedCommand(script: string, priv: Privilege): string {
  switch (priv) {
    case 'self':
      return shScript(script);
    case 'sudo-n':
      return `sudo -n ${shScript(script)}`;
    case 'sudo-S':
      // -S: password from stdin; -p '': no prompt text in stderr.
      return `sudo -S -p '' ${shScript(script)}`;
  }
}

export function tempName(finalPath: string): string {
  return posix.join(posix.dirname(finalPath), `.${posix.basename(finalPath)}.tmp-${randomBytes(4).toString('hex')}`);
}

export class Remote {
  private sftpP: Promise<SftpSession> | undefined;
  /** User-writable staging dir for sudo mode (created on demand, removed by close()). */
  private staging: string | undefined;

  constructor(
    readonly conn: RemoteConn,
    /** Privilege of `priv*()` calls. */
    public privilege: Privilege = 'self',
    /** Only for 'sudo-S'; held in memory for this deploy only, never logged. */
    private password: string | null = null,
  ) {}

  setPrivilege(priv: Privilege, password: string | null = null): void {
    this.privilege = priv;
    this.password = priv === 'sudo-S' ? password : null;
  }

  /** Run a POSIX sh script as the SSH user. */
  sh(script: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<ExecResult> {
    return this.conn.exec(shScript(script), { timeoutMs });
  }

  /** Run a POSIX sh script with the install's privilege. */
  priv(script: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<ExecResult> {
    const cmd = privilegedCommand(script, this.privilege);
    if (this.privilege === 'sudo-S') return this.conn.exec(cmd, { timeoutMs, stdin: `${this.password ?? ''}\n` });
    // stdin closed at once, so nothing (sudo included) can wait for input.
    return this.conn.exec(cmd, { timeoutMs, stdin: '' });
  }

  /** Like priv() but throws (with the command's output) on a non-zero exit. */
  async privOk(script: string, what: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<ExecResult> {
    return check(await this.priv(script, timeoutMs), what);
  }

  async shOk(script: string, what: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<ExecResult> {
    return check(await this.sh(script, timeoutMs), what);
  }

  get needsStaging(): boolean {
    return this.privilege !== 'self';
  }

  /** One SFTP session for this Remote, opened on first use. */
  sftp(): Promise<SftpSession> {
    this.sftpP ??= this.conn.ready().then((ch) => ch.sftp());
    return this.sftpP;
  }

  async putFile(localPath: string, remotePath: string): Promise<void> {
    await (await this.sftp()).fastPut(localPath, remotePath).catch((err: Error) => Promise.reject(sftpErr(err, remotePath)));
  }

  async writeFile(remotePath: string, data: string | Buffer, mode = 0o644): Promise<void> {
    await (await this.sftp()).writeFile(remotePath, data, mode).catch((err: Error) => Promise.reject(sftpErr(err, remotePath)));
  }

  async chmod(remotePath: string, mode: number): Promise<void> {
    await (await this.sftp()).chmod(remotePath, mode).catch((err: Error) => Promise.reject(sftpErr(err, remotePath)));
  }

  /** posix-rename@openssh.com: replaces the target atomically (plain SFTP rename fails onto an existing file). */
  async rename(from: string, to: string): Promise<void> {
    await (await this.sftp()).posixRename(from, to).catch((err: Error) => Promise.reject(sftpErr(err, to)));
  }

  /** A private (0700) dir in $HOME for files that sudo then installs; not /tmp (may be noexec, shared). */
  async stagingDir(): Promise<string> {
    if (this.staging) return this.staging;
    const r = await this.shOk('umask 077; mktemp -d "$HOME/.fleetwake-deploy.XXXXXX"', 'create a staging folder in $HOME');
    const dir = r.stdout.trim();
    if (!dir.startsWith('/')) throw new Error(`mktemp gave no path: ${JSON.stringify(r.stdout)}`);
    this.staging = dir;
    return dir;
  }

  /**
   * Put `content` (a local file path, or the bytes) at `finalPath` with `mode`, atomically: written
   * under a temp name next to the target, then renamed over it. With `keepPrev`, an existing target is
   * first hard-linked to `<final>.prev`. With `sha256`, the temp copy is hashed on the host first (with
   * the install's privilege, the copy that will be renamed) and, when it differs, deleted before it
   * replaces anything: ChecksumMismatchError. Returns true when a previous file was kept.
   */
  async place(
    content: { file: string } | { data: string | Buffer },
    finalPath: string,
    mode: number,
    keepPrev = false,
    sha256?: string,
  ): Promise<boolean> {
    const tmp = tempName(finalPath);
    const modeStr = mode.toString(8);
    const prevScript = keepPrev ? `if [ -f ${shq(finalPath)} ]; then ln -f ${shq(finalPath)} ${shq(`${finalPath}.prev`)} && echo KEPT; fi` : ':';
    const checked = (r: ExecResult, what: string): ExecResult => {
      const mismatch = sha256 ? checksumMismatch(r, finalPath, sha256) : null;
      if (mismatch) throw mismatch;
      return check(r, what);
    };
    if (!this.needsStaging) {
      if ('file' in content) await this.putFile(content.file, tmp);
      else await this.writeFile(tmp, content.data, mode);
      try {
        await this.chmod(tmp, mode);
        const verify = sha256 ? `${sha256CheckScript(shq(tmp), sha256, `rm -f ${shq(tmp)}`)}\n` : '';
        const r = checked(await this.priv(`${verify}${prevScript}`), `keep ${finalPath}.prev`);
        await this.rename(tmp, finalPath);
        return r.stdout.includes('KEPT');
      } catch (e) {
        await this.sh(`rm -f ${shq(tmp)}`).catch(() => undefined);
        throw e;
      }
    }
    const staged = posix.join(await this.stagingDir(), posix.basename(tmp));
    if ('file' in content) await this.putFile(content.file, staged);
    else await this.writeFile(staged, content.data, 0o600);
    // The staged file is the SSH user's to change until root has copied it: root checks its own copy.
    const r = checked(
      await this.priv(
        [
          `install -m ${modeStr} -o root -g root ${shq(staged)} ${shq(tmp)} || exit 1`,
          ...(sha256 ? [sha256CheckScript(shq(tmp), sha256, `rm -f ${shq(tmp)}`)] : []),
          `${prevScript} || { rm -f ${shq(tmp)}; exit 1; }`,
          `mv -f ${shq(tmp)} ${shq(finalPath)} || { rm -f ${shq(tmp)}; exit 1; }`,
        ].join('\n'),
      ),
      `install ${finalPath}`,
    );
    await this.sh(`rm -f ${shq(staged)}`).catch(() => undefined);
    return r.stdout.includes('KEPT');
  }

  /** Remove the staging dir and close the SFTP session (never the shared client). */
  async close(): Promise<void> {
    if (this.staging) {
      const dir = this.staging;
      this.staging = undefined;
      await this.sh(`rm -rf ${shq(dir)}`).catch(() => undefined);
    }
    const p = this.sftpP;
    this.sftpP = undefined;
    if (p) {
      try {
        (await p).end();
      } catch {
        /* never opened */
      }
    }
  }
}

function sftpErr(err: Error, path: string): Error {
  return new Error(`SFTP ${path}: ${err.message}`);
}

/** Last lines of a command's output, for error messages. */
export function outputTail(r: Pick<ExecResult, 'stdout' | 'stderr'>, lines = 15): string {
  const text = `${r.stderr}\n${r.stdout}`.trim();
  return text.split('\n').slice(-lines).join('\n');
}

function check(r: ExecResult, what: string): ExecResult {
  if (r.code === 0) return r;
  const why = outputTail(r) || (r.signal ? `killed by ${r.signal}` : `exit code ${r.code}`);
  throw new RemoteCommandError(`Could not ${what}: ${why}`, r);
}
