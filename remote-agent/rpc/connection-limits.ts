/**
 * Limits on the agent socket's connections, applied before the RPC server sees them, so that local
 * clients (any process of the user in user mode, the fleetwake group in system mode) cannot grow the
 * agent without bound:
 *
 * - at most `maxConnections` at once; one more gets a JSON-RPC error line and is closed;
 * - a connection without traffic either way for `idleTimeoutMs` gets an error line and is closed
 *   (subscribers receive notifications, so they are never idle);
 * - a request line longer than `maxLineBytes` gets MESSAGE_TOO_LARGE and the connection is closed; the
 *   bytes of an unfinished line are the only input a connection holds, so this bounds its memory.
 */
import type net from 'node:net';
import { Duplex } from 'node:stream';
import { RPC_ERRORS } from '../protocol.js';

export interface ConnectionLimits {
  /** Connections served at once (default 32). */
  maxConnections: number;
  /** Close a connection after this long without reads or writes (default 5 minutes). */
  idleTimeoutMs: number;
  /** Longest request line in bytes, without its newline (default 64 KiB). */
  maxLineBytes: number;
}

export const DEFAULT_CONNECTION_LIMITS: Readonly<ConnectionLimits> = {
  maxConnections: 32,
  idleTimeoutMs: 5 * 60_000,
  maxLineBytes: 64 * 1024,
};

interface LimitLog {
  info(m: string, f?: Record<string, unknown>): void;
  warn(m: string, f?: Record<string, unknown>): void;
}

/** How long a closing connection may take to flush its last line before it is destroyed. */
const CLOSE_GRACE_MS = 1000;

function errorLine(code: number, message: string): string {
  return JSON.stringify({ jsonrpc: '2.0', id: null, error: { code, message } }) + '\n';
}

/**
 * Sends a last error line and half-closes; input is read and dropped until the client closes its side
 * (or CLOSE_GRACE_MS passes), and nothing is kept. Closing at once instead would make a client that is
 * still writing (the rest of a too-long line) fail with EPIPE and drop the answer before reading it.
 */
function closeWith(sock: net.Socket, line: string): void {
  if (sock.destroyed) return;
  sock.removeAllListeners('data');
  sock.on('data', () => undefined);
  sock.on('error', () => undefined);
  sock.resume();
  sock.setTimeout(0);
  if (sock.writable) {
    sock.end(line);
    sock.once('end', () => sock.destroy());
  } else sock.destroy();
  setTimeout(() => sock.destroy(), CLOSE_GRACE_MS).unref();
}

/**
 * The stream the RPC server is given for one socket: the socket's bytes, checked for line length.
 * Once a line is too long nothing more is passed on, and no end either, so the RPC server never acts
 * on the partial line it holds; it lets go of it when the socket closes.
 */
class LineLimitedStream extends Duplex {
  private lineBytes = 0;
  private stopped = false;

  constructor(
    private readonly sock: net.Socket,
    private readonly maxLineBytes: number,
    private readonly onTooLong: () => void,
  ) {
    super({ allowHalfOpen: true });
    sock.on('data', (chunk: Buffer) => this.onData(chunk));
    sock.on('end', () => {
      if (!this.stopped) this.push(null);
    });
    sock.on('error', (err) => this.destroy(err));
    sock.on('close', () => this.destroy());
  }

  /** Passes nothing more on (not even the end): the connection is being closed by the limits. */
  stop(): void {
    this.stopped = true;
  }

  private onData(chunk: Buffer): void {
    if (this.stopped) return;
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      this.lineBytes += (nl === -1 ? chunk.length : nl) - start;
      if (this.lineBytes > this.maxLineBytes) {
        this.stopped = true;
        this.onTooLong();
        return;
      }
      if (nl === -1) break;
      this.lineBytes = 0;
      start = nl + 1;
    }
    if (!this.push(chunk)) this.sock.pause();
  }

  override _read(): void {
    if (!this.stopped) this.sock.resume();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.sock.destroyed || !this.sock.writable) return callback();
    this.sock.write(chunk, encoding, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.stopped && this.sock.writable) this.sock.end();
    callback();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    // After a too-long line the socket is closing on its own, with its error line still to flush.
    if (!this.stopped) this.sock.destroy();
    callback(err);
  }
}

/**
 * Wraps a connection handler with the limits. `onConnection` receives a stream, not the socket itself,
 * so that nothing past a too-long line reaches it. `open()` says how many connections are being served.
 */
export function limitConnections(
  onConnection: (stream: Duplex) => void,
  limits: Partial<ConnectionLimits> = {},
  log?: LimitLog,
): { handle: (sock: net.Socket) => void; open: () => number } {
  const { maxConnections, idleTimeoutMs, maxLineBytes } = { ...DEFAULT_CONNECTION_LIMITS, ...limits };
  const served = new Set<net.Socket>();
  const handle = (sock: net.Socket): void => {
    if (served.size >= maxConnections) {
      log?.warn('rpc connection refused: too many connections', { limit: maxConnections });
      closeWith(
        sock,
        errorLine(RPC_ERRORS.UNAVAILABLE, `too many connections: the agent serves at most ${maxConnections} at once. Close unused connections (fleetwake-agent rpc bridges, scripts) and try again.`),
      );
      return;
    }
    served.add(sock);
    sock.once('close', () => served.delete(sock));
    const stream = new LineLimitedStream(sock, maxLineBytes, () => {
      log?.warn('rpc request line too long, connection closed', { limit: maxLineBytes });
      closeWith(sock, errorLine(RPC_ERRORS.MESSAGE_TOO_LARGE, `request line longer than ${maxLineBytes} bytes; the connection is closed. Send one JSON-RPC request per line.`));
    });
    if (idleTimeoutMs > 0) {
      sock.setTimeout(idleTimeoutMs, () => {
        log?.info('rpc connection closed: idle', { idleMs: idleTimeoutMs });
        // An unfinished line it held is dropped, never run.
        stream.stop();
        closeWith(sock, errorLine(RPC_ERRORS.UNAVAILABLE, `connection closed after ${Math.round(idleTimeoutMs / 1000)} s without traffic; reconnect to go on.`));
      });
    }
    onConnection(stream);
  };
  return { handle, open: () => served.size };
}
