/**
 * Userspace TCP delay proxy for the benchmarks: a stand-in for "the hosts are separate machines some
 * milliseconds away" on a box where kernel netem is not available.
 *
 * startLatencyProxy() forks ONE child process (this file, `--serve`) that listens on one 127.0.0.1 port
 * per target and forwards each accepted connection to its target (an sshd on loopback). Running in its
 * own process keeps the proxy's CPU out of the measured process; it still shares the machine's cores.
 *
 * What is simulated, per connection (nothing else: no bandwidth limit, no loss, no jitter added):
 *   - a fixed one-way delay D in each direction: every chunk read from one side is written to the other
 *     side D ms after it was read, in order (a per-direction FIFO of (due time, chunk) with one timer
 *     armed for the head, never a timer per byte or per chunk). Half-close (FIN) and reset travel through
 *     the same queue, so they arrive D after the data before them.
 *   - the TCP handshake: the upstream connection is opened 3*D (1.5 RTT) after the client's connect was
 *     accepted, when a server on a real path would see the client's ACK and return from accept(). The
 *     client's kernel completes connect() at once on loopback, but no byte reaches either side earlier
 *     than it would on a real 2*D RTT path: the client's first bytes arrive at 3*D, the server's banner
 *     at 4*D (2 RTT), as on the wire.
 * Timers fire at millisecond granularity and can be late under load, so the achieved delay is measured
 * (read-to-write time per chunk) and reported by stats().
 */
import { fork, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

export interface ProxyTarget {
  host: string;
  port: number;
}

export interface LatencyProxyOptions {
  /** One-way delay added to every chunk, each direction (ms). */
  oneWayMs: number;
  /** One listener per target; ports come back in the same order. */
  targets: ProxyTarget[];
}

export interface LatencyProxyStats {
  /** Connections accepted since the last stats() call. */
  connections: number;
  /** Chunks forwarded since the last stats() call (both directions). */
  chunks: number;
  bytes: number;
  /** Achieved one-way delay per chunk (read to write), ms, over up to the last 50,000 chunks. */
  delayP50: number;
  delayP90: number;
  delayP99: number;
  delayMax: number;
  /** Upstream connects that failed (the client was reset). */
  upstreamErrors: number;
  /** Since the proxy started (never reset). */
  total: { connections: number; chunks: number; bytes: number; upstreamErrors: number };
}

export interface LatencyProxy {
  /** Pid of the proxy child (for CPU accounting). */
  readonly pid: number;
  readonly oneWayMs: number;
  /** Listening port on 127.0.0.1 per target, same order as the targets. */
  readonly ports: number[];
  /** Counters and achieved delays since the previous call (then reset). */
  stats(): Promise<LatencyProxyStats>;
  /** Stop listening, drop every connection, wait for the child to exit (SIGKILL after 3 s). */
  close(): Promise<void>;
}

type ToChild = { type: 'start'; oneWayMs: number; targets: ProxyTarget[] } | { type: 'stats'; id: number } | { type: 'close' };
type FromChild =
  | { type: 'ready'; ports: number[] }
  | { type: 'failed'; error: string }
  | { type: 'stats'; id: number; stats: LatencyProxyStats };

const SELF = fileURLToPath(import.meta.url);

/** Fork the proxy child and wait until every listener is up. */
export async function startLatencyProxy(opts: LatencyProxyOptions): Promise<LatencyProxy> {
  if (!(opts.oneWayMs >= 0) || opts.targets.length === 0) throw new Error('startLatencyProxy: need oneWayMs >= 0 and at least one target');
  // fork() reuses process.execArgv, so under tsx the child loads this .ts file the same way.
  const child: ChildProcess = fork(SELF, ['--serve'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pid = child.pid;
  if (pid === undefined) throw new Error('startLatencyProxy: fork gave no pid');
  const killOnExit = () => {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  };
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const pending = new Map<number, (s: LatencyProxyStats) => void>();
  let nextId = 1;
  const ports = await new Promise<number[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('latency proxy did not start within 20 s')), 20_000);
    child.once('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`latency proxy exited during start (${code ?? sig})`));
    });
    child.on('message', (m: FromChild) => {
      if (m.type === 'ready') {
        clearTimeout(timer);
        resolve(m.ports);
      } else if (m.type === 'failed') {
        clearTimeout(timer);
        reject(new Error(`latency proxy: ${m.error}`));
      } else if (m.type === 'stats') {
        pending.get(m.id)?.(m.stats);
        pending.delete(m.id);
      }
    });
    child.send({ type: 'start', oneWayMs: opts.oneWayMs, targets: opts.targets } satisfies ToChild);
  }).catch(async (err: unknown) => {
    killOnExit();
    await exited;
    process.removeListener('exit', killOnExit);
    throw err;
  });

  let closed = false;
  return {
    pid,
    oneWayMs: opts.oneWayMs,
    ports,
    stats() {
      return new Promise((resolve, reject) => {
        if (closed || !child.connected) return reject(new Error('latency proxy is not running'));
        const id = nextId++;
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error('latency proxy: no stats within 5 s'));
        }, 5_000);
        pending.set(id, (s) => {
          clearTimeout(timer);
          resolve(s);
        });
        child.send({ type: 'stats', id } satisfies ToChild);
      });
    },
    async close() {
      if (closed) return exited;
      closed = true;
      if (child.connected) child.send({ type: 'close' } satisfies ToChild);
      const force = setTimeout(killOnExit, 3_000);
      await exited;
      clearTimeout(force);
      process.removeListener('exit', killOnExit);
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// The child.

interface Item {
  /** performance.now() at which the item is due on the other side. */
  due: number;
  /** When it was read (for the achieved-delay statistics). */
  readAt: number;
  /** A chunk, or 'end' (half-close), or 'destroy' (the source went away without a clean end). */
  what: Buffer | 'end' | 'destroy';
}

const MAX_DELAY_SAMPLES = 50_000;

class Counters {
  connections = 0;
  chunks = 0;
  bytes = 0;
  upstreamErrors = 0;
  delays: number[] = [];
  readonly total = { connections: 0, chunks: 0, bytes: 0, upstreamErrors: 0 };

  take(): LatencyProxyStats {
    const d = [...this.delays].sort((a, b) => a - b);
    const pct = (p: number) => (d.length ? d[Math.min(d.length - 1, Math.floor((p / 100) * d.length))]! : NaN);
    const out: LatencyProxyStats = {
      connections: this.connections,
      chunks: this.chunks,
      bytes: this.bytes,
      delayP50: pct(50),
      delayP90: pct(90),
      delayP99: pct(99),
      delayMax: d.length ? d[d.length - 1]! : NaN,
      upstreamErrors: this.upstreamErrors,
      total: {
        connections: (this.total.connections += this.connections),
        chunks: (this.total.chunks += this.chunks),
        bytes: (this.total.bytes += this.bytes),
        upstreamErrors: (this.total.upstreamErrors += this.upstreamErrors),
      },
    };
    this.connections = this.chunks = this.bytes = this.upstreamErrors = 0;
    this.delays = [];
    return out;
  }
}

/**
 * One direction of one connection: chunks read from `src` are written to `dst` `delayMs` later, in
 * order. `dst` may not be connected yet (the upstream side during the simulated handshake); items wait
 * for both their due time and open().
 */
class DelayedPipe {
  private readonly queue: Item[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | null = null;
  private open_ = false;
  private done = false;
  private paused = false;

  constructor(
    private readonly src: net.Socket,
    private readonly dst: net.Socket,
    private readonly delayMs: number,
    private readonly counters: Counters,
  ) {
    src.on('data', (buf: Buffer) => this.push(buf));
    src.on('end', () => this.push('end'));
    // 'close' after 'end' is a no-op (done is set once the end is queued); without one it is a reset.
    src.on('close', () => this.push('destroy'));
    src.on('error', () => {
      // 'close' follows and queues the destroy.
    });
  }

  /** The destination can take writes from now on. */
  open(): void {
    this.open_ = true;
    this.arm();
  }

  /** Drop everything (the other side failed before it ever opened). */
  cancel(): void {
    this.done = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.queue.length = 0;
    this.head = 0;
  }

  private push(what: Item['what']): void {
    if (this.done) return;
    const now = performance.now();
    this.queue.push({ due: now + this.delayMs, readAt: now, what });
    if (typeof what === 'string') this.done = true;
    else {
      this.counters.chunks++;
      this.counters.bytes += what.length;
    }
    this.arm();
  }

  private arm(): void {
    if (this.timer || !this.open_ || this.head >= this.queue.length) return;
    const wait = this.queue[this.head]!.due - performance.now();
    if (wait <= 0) {
      this.flush();
      return;
    }
    // Node timers have 1 ms resolution; flush() re-arms if it woke early.
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, Math.max(1, Math.ceil(wait)));
  }

  private flush(): void {
    const now = performance.now();
    while (this.head < this.queue.length && this.queue[this.head]!.due <= now) {
      const item = this.queue[this.head++]!;
      if (this.dst.destroyed) continue;
      if (item.what === 'end') this.dst.end();
      else if (item.what === 'destroy') this.dst.destroy();
      else {
        if (this.counters.delays.length < MAX_DELAY_SAMPLES) this.counters.delays.push(now - item.readAt);
        if (!this.dst.write(item.what) && !this.paused) {
          // Backpressure: stop reading until the other side drains (not hit by ssh handshakes).
          this.paused = true;
          this.src.pause();
          this.dst.once('drain', () => {
            this.paused = false;
            this.src.resume();
          });
        }
      }
    }
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head > 1024) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    this.arm();
  }
}

function serve(): void {
  const counters = new Counters();
  const servers: net.Server[] = [];
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const send = (m: FromChild) => process.send?.(m);

  const handle = (client: net.Socket, target: ProxyTarget, delayMs: number) => {
    counters.connections++;
    client.setNoDelay(true);
    // Half-open allowed on both sockets: a FIN is forwarded through the queue, not answered at once.
    const upstream = new net.Socket({ allowHalfOpen: true });
    sockets.add(client);
    sockets.add(upstream);
    client.once('close', () => sockets.delete(client));
    upstream.once('close', () => sockets.delete(upstream));
    const toServer = new DelayedPipe(client, upstream, delayMs, counters);
    const toClient = new DelayedPipe(upstream, client, delayMs, counters);
    let connecting = false;
    // Handshake: the server sees the connection 1.5 RTT after the client started it.
    const t = setTimeout(() => {
      timers.delete(t);
      if (client.destroyed) {
        toServer.cancel();
        return;
      }
      connecting = true;
      upstream.connect({ host: target.host, port: target.port }, () => {
        connecting = false;
        // No Nagle on either leg: a real path has one TCP connection, so the proxy must not add a
        // Nagle / delayed-ACK stall of its own (~40 ms each on loopback).
        upstream.setNoDelay(true);
        toServer.open();
        toClient.open();
      });
    }, 3 * delayMs);
    timers.add(t);
    upstream.on('error', () => {
      if (connecting) {
        counters.upstreamErrors++;
        toServer.cancel();
        client.destroy();
      }
    });
  };

  process.on('message', (m: ToChild) => {
    if (m.type === 'start') {
      void Promise.all(
        m.targets.map(
          (target) =>
            new Promise<number>((resolve, reject) => {
              const server = net.createServer({ noDelay: true, allowHalfOpen: true }, (c) => handle(c, target, m.oneWayMs));
              servers.push(server);
              server.once('error', reject);
              server.listen({ host: '127.0.0.1', port: 0, backlog: 511 }, () => {
                const a = server.address();
                resolve(typeof a === 'object' && a ? a.port : 0);
              });
            }),
        ),
      ).then(
        (ports) => send({ type: 'ready', ports }),
        (err: Error) => send({ type: 'failed', error: err.message }),
      );
    } else if (m.type === 'stats') {
      send({ type: 'stats', id: m.id, stats: counters.take() });
    } else if (m.type === 'close') {
      shutdown();
    }
  });

  const shutdown = () => {
    for (const t of timers) clearTimeout(t);
    for (const s of servers) s.close();
    for (const s of sockets) s.destroy();
    process.disconnect?.();
    // Queued timers of dropped connections find destroyed sockets; exit without waiting on them.
    setImmediate(() => process.exit(0));
  };
  // The parent went away (crashed or exited): nothing else would ever stop us.
  process.on('disconnect', () => setImmediate(() => process.exit(0)));
}

if (process.argv[2] === '--serve' && process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) serve();
