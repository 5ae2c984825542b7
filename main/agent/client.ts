import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import {
  MAX_MESSAGE_BYTES,
  RPC_ERRORS,
  type AgentInfo,
  type AgentMethod,
  type AgentMethods,
  type AgentNotification,
  type AgentNotifications,
  type RpcErrorObject,
} from '../../remote-agent/protocol.js';
import type { HostConnection } from '../ssh/connection.js';
import { agentCommand } from '../remote/layout.js';
import type { InstallManifest } from '../remote/manifest.js';

/** What the agent code needs of a HostConnection (a HostConnection satisfies it; tests pass fakes). */
export type AgentHostConnection = Pick<HostConnection, 'name' | 'status' | 'ready' | 'exec'>;

/** The agent answered a call with a JSON-RPC error. `code` is the RPC error code (RPC_ERRORS). */
export class AgentRpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'AgentRpcError';
  }
}

/** A call got no answer in time. The connection stays open. */
export class AgentTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(message: string) {
    super(message);
    this.name = 'AgentTimeoutError';
  }
}

/**
 * Why the agent cannot be talked to:
 * - `not-running`: nothing listens on the socket (ENOENT, ECONNREFUSED): a detached agent may be restarted.
 * - `permission`: the socket exists but this user may not connect (EACCES, EPERM).
 * - `missing`: the node binary or the agent file named by install.json is not there.
 * - `closed`: an open connection went away (agent exited, SSH dropped, close() called).
 * - `protocol`: the peer sent something that is not this protocol (oversized line).
 * - `other`: anything else; the message says what.
 */
export type AgentUnavailableReason = 'not-running' | 'permission' | 'missing' | 'closed' | 'protocol' | 'other';

export class AgentUnavailableError extends Error {
  constructor(
    readonly reason: AgentUnavailableReason,
    message: string,
  ) {
    super(message);
    this.name = 'AgentUnavailableError';
  }
}

export interface CallOptions {
  timeoutMs?: number;
}

export interface AgentClientOptions {
  /** Longest accepted line in bytes (default MAX_MESSAGE_BYTES from the protocol). */
  maxMessageBytes?: number;
  /** Asked when the stream closes by itself: the error that pending calls reject with (e.g. the bridge's stderr). */
  closeReason?: () => Error | undefined;
}

interface Pending {
  method: string;
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout | undefined;
}

const NEWLINE = 0x0a;

/**
 * JSON-RPC 2.0 client, one JSON object per line, over any Duplex (a direct-streamlocal channel, an
 * exec'd bridge's stdio, an in-memory pair in tests). Emits 'close' (reason: Error) exactly once.
 */
export class AgentClient extends EventEmitter {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly handlers = new Map<string, Set<(params: unknown) => void>>();
  private chunks: Buffer[] = [];
  private buffered = 0;
  private closedWith: Error | undefined;
  private readonly maxBytes: number;
  /** The last error the peer sent with `id: null` (a bridge reporting why it cannot connect). */
  lastPeerError: RpcErrorObject | undefined;

  constructor(
    private readonly stream: Duplex,
    private readonly opts: AgentClientOptions = {},
  ) {
    super();
    this.maxBytes = opts.maxMessageBytes ?? MAX_MESSAGE_BYTES;
    stream.on('data', (d: Buffer | string) => this.onData(typeof d === 'string' ? Buffer.from(d) : d));
    // The peer finished writing: finish ours too, so the stream closes (no half-open leftovers).
    stream.on('end', () => {
      if (!stream.writableEnded) stream.end();
    });
    stream.on('error', (e: Error) => this.shutdown(this.opts.closeReason?.() ?? new AgentUnavailableError('closed', `agent connection closed: ${e.message}`)));
    stream.on('close', () => this.shutdown(this.opts.closeReason?.() ?? new AgentUnavailableError('closed', 'agent connection closed')));
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  /** Why the connection closed, once it has. */
  get closeError(): Error | undefined {
    return this.closedWith;
  }

  call<M extends AgentMethod>(method: M, params: AgentMethods[M]['params'], opts: CallOptions = {}): Promise<AgentMethods[M]['result']> {
    const timeoutMs = opts.timeoutMs ?? 10_000;
    if (this.closedWith) return Promise.reject(this.closedWith);
    const id = this.nextId++;
    const line = JSON.stringify({ jsonrpc: '2.0', id, method, params }) + '\n';
    if (Buffer.byteLength(line) > this.maxBytes) {
      return Promise.reject(new AgentRpcError(RPC_ERRORS.MESSAGE_TOO_LARGE, `${method}: request larger than ${this.maxBytes} bytes`));
    }
    return new Promise<AgentMethods[M]['result']>((resolve, reject) => {
      const p: Pending = { method, resolve: resolve as (v: unknown) => void, reject, timer: undefined };
      if (timeoutMs > 0 && Number.isFinite(timeoutMs)) {
        p.timer = setTimeout(() => {
          this.pending.delete(id);
          reject(new AgentTimeoutError(`agent did not answer ${method} within ${timeoutMs} ms`));
        }, timeoutMs);
        p.timer.unref?.();
      }
      this.pending.set(id, p);
      try {
        this.stream.write(line);
      } catch (e) {
        this.settle(id, undefined, new AgentUnavailableError('closed', `agent connection closed: ${(e as Error).message}`));
      }
    });
  }

  /** Listen to a notification; returns the unsubscribe function. Listener errors are swallowed. */
  onNotification<N extends AgentNotification>(name: N, cb: (params: AgentNotifications[N]) => void): () => void {
    let set = this.handlers.get(name);
    if (!set) this.handlers.set(name, (set = new Set()));
    const fn = cb as (params: unknown) => void;
    set.add(fn);
    return () => void set.delete(fn);
  }

  /** Close the connection; pending calls reject with "agent connection closed". Idempotent. */
  close(): void {
    this.shutdown(new AgentUnavailableError('closed', 'agent connection closed'));
  }

  private shutdown(reason: Error): void {
    if (this.closedWith) return;
    this.closedWith = reason;
    this.chunks = [];
    this.buffered = 0;
    for (const [id, p] of this.pending) {
      if (p.timer) clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(reason);
    }
    try {
      if (!this.stream.writableEnded) this.stream.end();
      this.stream.destroy();
    } catch {
      /* already gone */
    }
    this.emit('close', reason);
    this.handlers.clear();
  }

  private onData(d: Buffer): void {
    if (this.closedWith) return;
    let start = 0;
    for (;;) {
      const nl = d.indexOf(NEWLINE, start);
      if (nl < 0) break;
      const piece = d.subarray(start, nl);
      if (this.buffered + piece.length > this.maxBytes) return this.tooLarge();
      const line = this.buffered ? Buffer.concat([...this.chunks, piece]).toString('utf8') : piece.toString('utf8');
      this.chunks = [];
      this.buffered = 0;
      this.onLine(line);
      if (this.closedWith) return;
      start = nl + 1;
    }
    if (start < d.length) {
      const rest = d.subarray(start);
      if (this.buffered + rest.length > this.maxBytes) return this.tooLarge();
      this.chunks.push(rest);
      this.buffered += rest.length;
    }
  }

  private tooLarge(): void {
    this.shutdown(new AgentUnavailableError('protocol', `agent connection closed: a message exceeded ${this.maxBytes} bytes`));
  }

  private onLine(raw: string): void {
    const line = raw.trim();
    if (!line) return;
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      this.emit('garbage', line.slice(0, 200));
      return;
    }
    if (!msg || typeof msg !== 'object' || Array.isArray(msg)) return;
    const m = msg as { id?: unknown; method?: unknown; params?: unknown; result?: unknown; error?: unknown };
    if (typeof m.method === 'string') {
      if (m.id === undefined || m.id === null) {
        for (const cb of [...(this.handlers.get(m.method) ?? [])]) {
          try {
            cb(m.params);
          } catch {
            /* a listener's problem is not the connection's */
          }
        }
      } else if (typeof m.id === 'number' || typeof m.id === 'string') {
        // The agent does not call us; say so instead of leaving it waiting.
        const reply = { jsonrpc: '2.0', id: m.id, error: { code: RPC_ERRORS.METHOD_NOT_FOUND, message: `method not found: ${m.method}` } };
        try {
          this.stream.write(JSON.stringify(reply) + '\n');
        } catch {
          /* closing */
        }
      }
      return;
    }
    const error = parseErrorObject(m.error);
    if (m.id === null || m.id === undefined) {
      if (error) {
        this.lastPeerError = error;
        this.emit('peer-error', error);
      }
      return;
    }
    if (typeof m.id !== 'number') return;
    if (error) this.settle(m.id, undefined, new AgentRpcError(error.code, error.message, error.data));
    else if ('result' in m) this.settle(m.id, m.result);
  }

  private settle(id: number, result: unknown, err?: Error): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    if (p.timer) clearTimeout(p.timer);
    if (err) p.reject(err);
    else p.resolve(result);
  }
}

function parseErrorObject(e: unknown): RpcErrorObject | undefined {
  if (!e || typeof e !== 'object') return undefined;
  const o = e as { code?: unknown; message?: unknown; data?: unknown };
  const code = typeof o.code === 'number' ? o.code : RPC_ERRORS.INTERNAL_ERROR;
  const message = typeof o.message === 'string' ? o.message : 'agent error';
  return o.data === undefined ? { code, message } : { code, message, data: o.data };
}

// -------------------------------------------------------------------------------------------------
// Opening a client through an SSH connection

/** Classify what a bridge (or node itself) printed when it could not reach the agent. */
export function classifyBridgeFailure(text: string, exitCode: number | null, manifest?: Pick<InstallManifest, 'nodePath' | 'agentPath' | 'socketPath'>): AgentUnavailableError {
  // Node's own failures (a missing module) print a stack: keep the line that says what went wrong.
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  const key = lines.find((l) => /^\w*Error\b|ENOENT|ECONNREFUSED|ENOTDIR|EACCES|EPERM|not running|permission denied|No such file|not found/i.test(l));
  const detail = (key ?? lines.slice(-3).join(' ')).slice(0, 500);
  const where = manifest ? ` (${manifest.socketPath})` : '';
  if (/ENOENT|ECONNREFUSED|ENOTDIR|not running/i.test(detail) && !/Cannot find module|MODULE_NOT_FOUND/.test(detail)) {
    return new AgentUnavailableError('not-running', /not running/i.test(detail) ? detail : `agent not running${where}: ${detail}`);
  }
  if (/EACCES|EPERM|permission denied/i.test(detail) && !/No such file/i.test(detail)) {
    return new AgentUnavailableError('permission', /permission/i.test(detail) ? detail : `no permission to reach the agent socket${where}: ${detail}`);
  }
  if (exitCode === 127 || exitCode === 126 || /Cannot find module|MODULE_NOT_FOUND|No such file or directory|not found/i.test(detail)) {
    const what = manifest ? ` (${manifest.nodePath} ${manifest.agentPath})` : '';
    return new AgentUnavailableError('missing', `agent files missing${what}: ${detail || `exit ${exitCode}`}. Redeploy the agent.`);
  }
  return new AgentUnavailableError('other', `agent bridge failed${exitCode !== null ? ` (exit ${exitCode})` : ''}: ${detail || 'no output'}`);
}

export interface OpenAgentOptions {
  /** Timeout of the probing `agent.info` call (default 10 s). */
  timeoutMs?: number;
  /** Skip the streamlocal attempt (tests, or a host where forwarding is known to be off). */
  transport?: 'auto' | 'exec';
}

export interface OpenedAgent {
  client: AgentClient;
  transport: 'streamlocal' | 'exec';
  /** The agent's answer to `agent.info`, asked to prove the transport works end to end. */
  info: AgentInfo;
  /** Why streamlocal was not used, when transport is 'exec'. */
  streamlocalError?: string;
}

/** SSH clients that have run one exec (sshd turns TCP_NODELAY on only then; FIELD-NOTES). */
const primed = new WeakSet<object>();

/**
 * Reach the agent over the host's SSH connection: the socket through direct-streamlocal first; if
 * that fails (socket missing, no permission, forwarding disabled, all reported alike by sshd), the
 * exec'd `fleetwake-agent rpc` stdio bridge, whose error output says what is really wrong. Either way
 * `agent.info` is called once so a broken transport fails here, with the bridge's message.
 * Rejects with AgentUnavailableError (or AgentTimeoutError).
 */
export async function openAgentClient(conn: AgentHostConnection, manifest: InstallManifest, opts: OpenAgentOptions = {}): Promise<OpenedAgent> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const ssh = await conn.ready();
  if (!primed.has(ssh)) {
    await conn.exec('true', { timeoutMs });
    primed.add(ssh);
  }
  let streamlocalError: string | undefined;
  if (opts.transport !== 'exec') {
    const channel = await ssh.streamLocal(manifest.socketPath).catch((e: Error) => e);
    if (!(channel instanceof Error)) {
      const client = new AgentClient(channel);
      try {
        const info = await client.call('agent.info', {}, { timeoutMs });
        return { client, transport: 'streamlocal', info };
      } catch (e) {
        client.close();
        // An agent that answers but errors is reachable: report that, do not try the bridge.
        if (e instanceof AgentRpcError || e instanceof AgentTimeoutError) throw e;
        streamlocalError = (e as Error).message;
      }
    } else {
      streamlocalError = channel.message;
    }
  }

  // The bridge is told the socket the deploy recorded: its own lookup depends on the session's
  // environment (XDG_RUNTIME_DIR differs between PAM and non-PAM sessions).
  const channel = await ssh.exec(agentCommand(manifest, ['rpc'], { env: { FLEETWAKE_AGENT_SOCKET: manifest.socketPath } })).catch((e: Error) => {
    throw new AgentUnavailableError('other', `cannot start the agent bridge: ${e.message}`);
  });
  let stderr = '';
  let exitCode: number | null = null;
  channel.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 16_384) stderr += d.toString('utf8');
  });
  channel.on('exit', (code: number | null) => (exitCode = typeof code === 'number' ? code : null));
  let client!: AgentClient;
  client = new AgentClient(channel, {
    closeReason: () => {
      // The bridge prints one JSON-RPC error line (id null, data.errno) and the same words on stderr:
      // prefer the structured one, fall back to stderr (node or the shell failing before the bridge ran).
      const peer = client?.lastPeerError;
      const errno = (peer?.data as { errno?: unknown } | undefined)?.errno;
      const text = peer ? `${peer.message}${typeof errno === 'string' && !peer.message.includes(errno) ? ` (${errno})` : ''}` : stderr;
      if (!text && exitCode === 0) return undefined;
      return classifyBridgeFailure(text, exitCode, manifest);
    },
  });
  try {
    const info = await client.call('agent.info', {}, { timeoutMs });
    const opened: OpenedAgent = { client, transport: 'exec', info };
    if (streamlocalError) opened.streamlocalError = streamlocalError;
    return opened;
  } catch (e) {
    client.close();
    throw e;
  }
}
