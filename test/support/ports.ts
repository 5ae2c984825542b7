/**
 * Free TCP ports on loopback for test daemons.
 *
 * The kernel picks a free port when we listen on 0; we close it again and hand the number out. A port
 * handed out once is never handed out again by this process, so two sshd instances started in the same
 * test file cannot race for the same number (the kernel may offer a just-closed port again).
 */
import net from 'node:net';

const handedOut = new Set<number>();

function probe(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A port on `host` (default 127.0.0.1) that was free a moment ago and not yet handed out here. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await probe(host);
    if (port > 0 && !handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`freePort: no fresh port on ${host} after 50 attempts`);
}
