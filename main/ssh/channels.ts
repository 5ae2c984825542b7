/**
 * The channels one live SSH session opens, as plain Node streams and promises: the only place besides
 * connection.ts that touches ssh2, so nothing outside main/ssh depends on its types.
 */
import type { Duplex, Readable } from 'node:stream';
import type { Client, ClientChannel, SFTPWrapper } from 'ssh2';

/** An exec'd command's channel: stdin/stdout as the Duplex, `stderr` beside it; emits 'exit' (code, signal) and 'close'. */
export interface ExecChannel extends Duplex {
  readonly stderr: Readable;
  /** Close the channel without waiting for the command (a timeout). */
  close(): void;
}

/** One SFTP session (promisified). Close it with end(); it never closes the SSH connection. */
export interface SftpSession {
  fastPut(localPath: string, remotePath: string): Promise<void>;
  writeFile(remotePath: string, data: string | Buffer, mode: number): Promise<void>;
  chmod(remotePath: string, mode: number): Promise<void>;
  /** posix-rename@openssh.com: replaces the target atomically (plain SFTP rename fails onto an existing file). */
  posixRename(from: string, to: string): Promise<void>;
  end(): void;
}

/**
 * What callers may open on a connected session. The object stays the same for the life of one SSH
 * client, so per-session facts (such as "an exec already ran": FIELD-NOTES) can be keyed on it.
 */
export interface SshChannels {
  /** A session channel running `command` (the raw channel; HostConnection.exec collects the output). */
  exec(command: string): Promise<ExecChannel>;
  /** direct-streamlocal@openssh.com: a stream to a unix socket on the server. */
  streamLocal(socketPath: string): Promise<Duplex>;
  /** direct-tcpip: a stream to `host:port` as seen from the server (jump hosts, tunnels). */
  forwardOut(host: string, port: number): Promise<Duplex>;
  /** A new SFTP session. */
  sftp(): Promise<SftpSession>;
}

/** ssh2 calls may throw synchronously (not connected, closing): turn both ways of failing into a rejection. */
function call<T>(start: (cb: (err: Error | undefined, value: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    try {
      start((err, value) => (err ? reject(err) : resolve(value)));
    } catch (e) {
      reject(e as Error);
    }
  });
}

function done(resolve: () => void, reject: (e: Error) => void) {
  return (err: Error | null | undefined) => (err ? reject(err) : resolve());
}

function sftpSession(s: SFTPWrapper): SftpSession {
  return {
    fastPut: (localPath, remotePath) => new Promise((resolve, reject) => s.fastPut(localPath, remotePath, done(resolve, reject))),
    writeFile: (remotePath, data, mode) => new Promise((resolve, reject) => s.writeFile(remotePath, data, { mode }, done(resolve, reject))),
    chmod: (remotePath, mode) => new Promise((resolve, reject) => s.chmod(remotePath, mode, done(resolve, reject))),
    posixRename: (from, to) => new Promise((resolve, reject) => s.ext_openssh_rename(from, to, done(resolve, reject))),
    end: () => s.end(),
  };
}

/** The channel API of one ssh2 client. */
export function ssh2Channels(client: Client): SshChannels {
  return {
    exec: (command) => call<ClientChannel>((cb) => client.exec(command, cb)),
    streamLocal: (socketPath) => call<ClientChannel>((cb) => client.openssh_forwardOutStreamLocal(socketPath, cb)),
    forwardOut: (host, port) => call<ClientChannel>((cb) => client.forwardOut('127.0.0.1', 0, host, port, cb)),
    sftp: () => call<SFTPWrapper>((cb) => client.sftp(cb)).then(sftpSession),
  };
}
