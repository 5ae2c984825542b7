/** `rpc`: a stdio bridge to the daemon's socket, for clients that cannot reach the socket directly. */
import net from 'node:net';
import { bridgeErrorLine, describeConnectError } from '../rpc/socket.js';
import { clientPaths, EXIT, write, type CliIo, type Parsed } from './common.js';

/** stdin → socket, socket → stdout. Unreachable agent: one JSON-RPC error line naming the cause, exit 1. */
export function bridge(parsed: Parsed, io: CliIo): Promise<number> {
  const paths = clientPaths(parsed, io);
  return new Promise((resolve) => {
    const sock = net.connect({ path: paths.socket, allowHalfOpen: true });
    let connected = false;
    let done = false;
    const finish = (code: number) => {
      if (done) return;
      done = true;
      io.stdin.unpipe(sock);
      io.stdin.pause();
      resolve(code);
    };
    sock.once('connect', () => {
      connected = true;
      io.stdin.pipe(sock);
      sock.pipe(io.stdout, { end: false });
    });
    sock.on('error', (err: NodeJS.ErrnoException) => {
      if (!connected) {
        write(io.stdout, bridgeErrorLine(err.code, paths.socket));
        write(io.stderr, `fleetwake-agent rpc: ${describeConnectError(err.code, paths.socket)}`);
        finish(EXIT.FAILURE);
      } else {
        write(io.stderr, `fleetwake-agent rpc: connection error: ${err.code ?? err.message}`);
        finish(EXIT.FAILURE);
      }
    });
    sock.on('close', () => finish(EXIT.OK));
    io.stdout.on('error', () => {
      sock.destroy();
      finish(EXIT.FAILURE);
    });
  });
}

