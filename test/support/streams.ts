/**
 * In-memory transports and newline-delimited JSON reading, for tests that talk JSON-RPC without a
 * real socket or that read one line by line.
 */
import { Duplex, type Readable } from 'node:stream';

/** Two connected in-memory Duplexes: what one writes the other reads; destroying one closes both. */
export function duplexPair(): [Duplex, Duplex] {
  const make = (peer: () => Duplex) =>
    new Duplex({
      read() {},
      write(chunk, _enc, cb) {
        peer().push(chunk);
        cb();
      },
      final(cb) {
        peer().push(null);
        cb();
      },
    });
  const a: Duplex = make(() => b);
  const b: Duplex = make(() => a);
  a.on('close', () => b.destroy());
  b.on('close', () => a.destroy());
  return [a, b];
}

/** Parses every newline-terminated JSON line `stream` delivers into `lines` as it arrives; returns `lines`. */
export function collectJsonLines<T = any>(stream: Readable, lines: T[] = []): T[] {
  let buf = '';
  stream.on('data', (d: Buffer | string) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) !== -1) {
      lines.push(JSON.parse(buf.slice(0, i)));
      buf = buf.slice(i + 1);
    }
  });
  return lines;
}
