/**
 * JSON-RPC 2.0 over any Duplex (unix socket connections; tests use in-memory pairs), newline-delimited.
 *
 * - Lines are split incrementally; a line longer than maxMessageBytes is answered with MESSAGE_TOO_LARGE
 *   and the connection is closed: the server never buffers more than that per connection.
 * - Invalid JSON → PARSE_ERROR (id null). Not an object, jsonrpc !== '2.0', a method that is not a string,
 *   an id that is not a string or finite number (null included), params that are not an object/array →
 *   INVALID_REQUEST. Batches (JSON arrays) are NOT supported: one INVALID_REQUEST with id null.
 * - Unknown method → METHOD_NOT_FOUND; params rejected by the method's validator → INVALID_PARAMS;
 *   a handler that throws → INTERNAL_ERROR with a generic message (the real error goes to the log),
 *   unless it throws an RpcError, whose code and message are meant for the client.
 * - Requests without an id (notifications) are run but never answered, even when they fail.
 * - Writes: when a connection's unsent output exceeds maxWriteBufferBytes (a client not reading), the
 *   connection is dropped rather than letting memory grow.
 */
import type { Duplex } from 'node:stream';
import { MAX_MESSAGE_BYTES, RPC_ERRORS, type RpcErrorObject } from '../protocol.js';

export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'RpcError';
  }
}

export interface RpcLogger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface MethodSpec<C = RpcConnection> {
  /** Returns why params are unacceptable, or null. `params` is {} when the request had none. */
  validate?: (params: unknown) => string | null;
  handler: (params: any, connection: C) => unknown;
}

export interface RpcServerOptions {
  methods: Record<string, MethodSpec>;
  maxMessageBytes?: number;
  /** Unsent bytes a connection may have queued before it is dropped. */
  maxWriteBufferBytes?: number;
  /** Requests of one connection that may be in flight at once; more → the connection is dropped. */
  maxPendingPerConnection?: number;
  log?: RpcLogger;
}

const NOOP_LOG: RpcLogger = { debug() {}, warn() {}, error() {} };
const NEWLINE = 0x0a;

export type RpcId = string | number | null;

let nextConnectionId = 1;

export class RpcConnection {
  readonly id = nextConnectionId++;
  /** Set by metrics.subscribe. */
  subscribed = false;
  closed = false;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private pending = 0;
  private inputEnded = false;

  constructor(
    private readonly server: RpcServer,
    readonly stream: Duplex,
  ) {
    stream.on('data', (chunk: Buffer | string) => this.onData(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
    stream.on('end', () => {
      this.inputEnded = true;
      // A final line without a newline still counts.
      if (this.buffered > 0 && !this.closed) {
        const line = Buffer.concat(this.chunks, this.buffered);
        this.chunks = [];
        this.buffered = 0;
        this.onLine(line);
      }
      this.maybeEnd();
    });
    stream.on('error', (err) => {
      this.server.log.debug('rpc connection error', { conn: this.id, error: err.message });
      this.close();
    });
    stream.on('close', () => this.close());
  }

  /** Sends a notification; false when the connection was dropped or is closed. */
  notify(method: string, params: unknown): boolean {
    return this.send({ jsonrpc: '2.0', method, params });
  }

  /** Ends the connection (after what was written); idempotent. */
  close(reason?: string): void {
    if (this.closed) return;
    this.closed = true;
    this.subscribed = false;
    this.chunks = [];
    this.buffered = 0;
    if (reason) this.server.log.debug('rpc connection closed', { conn: this.id, reason });
    this.server.forget(this);
    if (!this.stream.destroyed) {
      this.stream.end();
      // Give the last line a moment to flush, then make sure the socket goes away.
      setTimeout(() => this.stream.destroy(), 1000).unref();
    }
  }

  /** Drops the connection now, without flushing. */
  destroy(reason: string): void {
    this.server.log.warn('rpc connection dropped', { conn: this.id, reason });
    this.close();
    this.stream.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    const max = this.server.maxMessageBytes;
    let start = 0;
    while (start < chunk.length && !this.closed) {
      const nl = chunk.indexOf(NEWLINE, start);
      const end = nl === -1 ? chunk.length : nl;
      const pieceLength = end - start;
      if (this.buffered + pieceLength > max + 1) {
        // +1 tolerates a trailing \r of a max-sized line; the exact check is in onLine.
        this.tooLarge();
        return;
      }
      if (nl === -1) {
        this.chunks.push(chunk.subarray(start));
        this.buffered += pieceLength;
        return;
      }
      let line: Buffer;
      if (this.buffered === 0) line = chunk.subarray(start, end);
      else {
        this.chunks.push(chunk.subarray(start, end));
        line = Buffer.concat(this.chunks, this.buffered + pieceLength);
        this.chunks = [];
        this.buffered = 0;
      }
      start = nl + 1;
      this.onLine(line);
    }
  }

  private tooLarge(): void {
    this.chunks = [];
    this.buffered = 0;
    this.server.log.warn('rpc message too large', { conn: this.id, limit: this.server.maxMessageBytes });
    this.send(errorResponse(null, RPC_ERRORS.MESSAGE_TOO_LARGE, `message larger than ${this.server.maxMessageBytes} bytes`));
    this.close('message too large');
  }

  private onLine(raw: Buffer): void {
    let line = raw;
    if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
    if (line.length > this.server.maxMessageBytes) {
      this.tooLarge();
      return;
    }
    const text = line.toString('utf8').trim();
    if (text === '') return;
    this.pending++;
    if (this.pending > this.server.maxPendingPerConnection) {
      this.destroy('too many requests in flight');
      return;
    }
    void this.server
      .dispatch(text, this)
      .then((response) => {
        if (response !== null) this.sendRaw(response);
      })
      .catch((err: unknown) => {
        this.server.log.error('rpc dispatch failed', { conn: this.id, error: err });
      })
      .finally(() => {
        this.pending--;
        this.maybeEnd();
      });
  }

  private maybeEnd(): void {
    if (this.inputEnded && this.pending === 0 && !this.closed) this.close();
  }

  send(message: unknown): boolean {
    let text: string;
    try {
      text = JSON.stringify(message);
    } catch (err) {
      this.server.log.error('rpc cannot serialise a message', { conn: this.id, error: err });
      return false;
    }
    return this.sendRaw(text);
  }

  /** @internal Writes one serialised line. */
  sendRaw(text: string): boolean {
    if (this.closed || this.stream.destroyed || !this.stream.writable) return false;
    if (this.stream.writableLength > this.server.maxWriteBufferBytes) {
      this.destroy(`client not reading (${this.stream.writableLength} bytes queued)`);
      return false;
    }
    try {
      this.stream.write(text + '\n');
    } catch (err) {
      this.server.log.debug('rpc write failed', { conn: this.id, error: err });
      this.close();
      return false;
    }
    return true;
  }
}

function errorResponse(id: RpcId, code: number, message: string, data?: unknown): { jsonrpc: '2.0'; id: RpcId; error: RpcErrorObject } {
  const error: RpcErrorObject = { code, message };
  if (data !== undefined) error.data = data;
  return { jsonrpc: '2.0', id, error };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export class RpcServer {
  readonly maxMessageBytes: number;
  readonly maxWriteBufferBytes: number;
  readonly maxPendingPerConnection: number;
  readonly log: RpcLogger;
  readonly connections = new Set<RpcConnection>();
  private readonly methods: Map<string, MethodSpec>;

  constructor(opts: RpcServerOptions) {
    this.methods = new Map(Object.entries(opts.methods));
    this.maxMessageBytes = opts.maxMessageBytes ?? MAX_MESSAGE_BYTES;
    this.maxWriteBufferBytes = opts.maxWriteBufferBytes ?? 4 * MAX_MESSAGE_BYTES;
    this.maxPendingPerConnection = opts.maxPendingPerConnection ?? 256;
    this.log = opts.log ?? NOOP_LOG;
  }

  /** Serves JSON-RPC on a stream until it closes. */
  handle(stream: Duplex): RpcConnection {
    const conn = new RpcConnection(this, stream);
    this.connections.add(conn);
    return conn;
  }

  /** @internal */
  forget(conn: RpcConnection): void {
    this.connections.delete(conn);
  }

  /** Sends a notification to every connection for which `filter` is true; returns how many got it. */
  broadcast(method: string, params: unknown, filter: (c: RpcConnection) => boolean = () => true): number {
    let text: string;
    try {
      text = JSON.stringify({ jsonrpc: '2.0', method, params });
    } catch (err) {
      this.log.error('rpc cannot serialise a notification', { method, error: err });
      return 0;
    }
    if (Buffer.byteLength(text) > this.maxMessageBytes) {
      this.log.error('rpc notification larger than the message limit, not sent', { method });
      return 0;
    }
    let sent = 0;
    for (const conn of [...this.connections]) {
      if (!filter(conn)) continue;
      if (conn.sendRaw(text)) sent++;
    }
    return sent;
  }

  closeAll(): void {
    for (const conn of [...this.connections]) conn.close();
  }

  /** Answers one request line: the response text, or null for notifications. Never throws. */
  async dispatch(text: string, conn: RpcConnection): Promise<string | null> {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return JSON.stringify(errorResponse(null, RPC_ERRORS.PARSE_ERROR, 'parse error: not valid JSON'));
    }
    if (Array.isArray(msg)) {
      return JSON.stringify(errorResponse(null, RPC_ERRORS.INVALID_REQUEST, 'batch requests are not supported'));
    }
    if (!isPlainObject(msg)) return JSON.stringify(errorResponse(null, RPC_ERRORS.INVALID_REQUEST, 'invalid request: not an object'));
    const hasId = Object.prototype.hasOwnProperty.call(msg, 'id');
    const rawId = msg.id;
    const idOk = typeof rawId === 'string' ? rawId.length <= 256 : typeof rawId === 'number' && Number.isFinite(rawId);
    if (hasId && !idOk) {
      return JSON.stringify(errorResponse(null, RPC_ERRORS.INVALID_REQUEST, 'invalid request: id must be a string or a number'));
    }
    const id: RpcId = hasId ? (rawId as string | number) : null;
    const reply = (response: unknown) => (hasId ? this.serialise(response, id) : null);
    if (msg.jsonrpc !== '2.0') return reply(errorResponse(id, RPC_ERRORS.INVALID_REQUEST, 'invalid request: jsonrpc must be "2.0"'));
    if (typeof msg.method !== 'string') return reply(errorResponse(id, RPC_ERRORS.INVALID_REQUEST, 'invalid request: method must be a string'));
    const method = msg.method;
    if ('params' in msg && msg.params !== undefined && (typeof msg.params !== 'object' || msg.params === null)) {
      return reply(errorResponse(id, RPC_ERRORS.INVALID_REQUEST, 'invalid request: params must be an object or an array'));
    }
    const spec = this.methods.get(method);
    if (!spec) {
      return reply(errorResponse(id, RPC_ERRORS.METHOD_NOT_FOUND, `method not found: ${method.slice(0, 100)}`));
    }
    const params = msg.params ?? {};
    if (spec.validate) {
      let problem: string | null;
      try {
        problem = spec.validate(params);
      } catch {
        problem = 'invalid params';
      }
      if (problem !== null) return reply(errorResponse(id, RPC_ERRORS.INVALID_PARAMS, `invalid params: ${problem}`));
    }
    try {
      const result = await spec.handler(params, conn);
      return reply({ jsonrpc: '2.0', id, result: result === undefined ? null : result });
    } catch (err) {
      if (err instanceof RpcError) return reply(errorResponse(id, err.code, err.message, err.data));
      this.log.error('rpc handler failed', { method, error: err });
      return reply(errorResponse(id, RPC_ERRORS.INTERNAL_ERROR, `internal error in ${method}`));
    }
  }

  private serialise(response: unknown, id: RpcId): string {
    let text: string;
    try {
      text = JSON.stringify(response);
    } catch (err) {
      this.log.error('rpc cannot serialise a response', { error: err });
      return JSON.stringify(errorResponse(id, RPC_ERRORS.INTERNAL_ERROR, 'internal error: unserialisable result'));
    }
    if (Buffer.byteLength(text) > this.maxMessageBytes) {
      return JSON.stringify(errorResponse(id, RPC_ERRORS.INTERNAL_ERROR, 'internal error: response larger than the message limit'));
    }
    return text;
  }
}

/** Param validators for the agent's methods (protocol.ts AgentMethods). */
export function noParams(params: unknown): string | null {
  if (Array.isArray(params)) return params.length === 0 ? null : 'this method takes no params';
  if (!isPlainObject(params)) return 'params must be an object';
  const keys = Object.keys(params);
  return keys.length === 0 ? null : `unexpected param "${keys[0]!.slice(0, 50)}"`;
}
