/**
 * Shared loopback testbed for the benchmarks: one test user with an ed25519 key, and a pool of real
 * OpenSSH sshd processes (each with its own host key and port) that sections borrow. Everything is
 * started lazily and torn down by the runner (and, should the run crash, by startSshd's exit hooks).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { makeTestFleet, type TestFleet } from '../support/fleet.js';
import { generateKey, type GeneratedKey } from '../support/keys.js';
import { requireTools } from '../support/require-tools.js';
import { sshExec, startSshd, type ExecResult, type SshdHandle } from '../support/sshd.js';
import { authorizeKey, ensureUser } from '../support/users.js';

export const BENCH_USER = 'fwtbench';

export interface BenchHost {
  name: string;
  server: SshdHandle;
}

export interface BenchTestbed {
  user: string;
  key: GeneratedKey;
  /** At least `n` running sshd servers on 127.0.0.1 (started on demand, reused across sections). */
  servers(n: number): Promise<SshdHandle[]>;
  /**
   * A fresh Fleet core (own data folder and fake home) that does NOT connect by itself
   * (keepConnected: false), with every server's host key already in ~/.ssh/known_hosts and the hosts
   * added with key auth. Connection options are the app's defaults, not the short test deadlines.
   */
  fleet(hosts: BenchHost[]): Promise<TestFleet>;
  /** Close a fleet from fleet() and remove its folders. */
  disposeFleet(t: TestFleet): Promise<void>;
  /** The system OpenSSH client, fresh process: `ssh -F /dev/null -o BatchMode=yes ... host command`. */
  ssh(server: SshdHandle, command: string): Promise<ExecResult>;
  close(): Promise<void>;
}

export async function createTestbed(log: (m: string) => void): Promise<BenchTestbed> {
  requireTools();
  const keysDir = mkdtempSync(join(tmpdir(), 'fleetwake-bench-keys-'));
  const running: SshdHandle[] = [];
  const fleets = new Set<TestFleet>();
  try {
    await ensureUser(BENCH_USER);
    const key = await generateKey(keysDir, { type: 'ed25519', name: 'bench' });
    await authorizeKey(BENCH_USER, key.publicKey);

    const disposeFleet = async (t: TestFleet) => {
      fleets.delete(t);
      await t.fleet.close();
      rmSync(dirname(t.dataDir), { recursive: true, force: true });
    };

    return {
      user: BENCH_USER,
      key,
      async servers(n) {
        const missing = n - running.length;
        if (missing > 0) {
          log(`starting ${missing} sshd on loopback`);
          // A few at a time: each start runs ssh-keygen and `sshd -t`, heavy on a 2-core box.
          for (let i = 0; i < missing; i += 5) {
            const batch = await Promise.all(
              Array.from({ length: Math.min(5, missing - i) }, () =>
                startSshd({ allowUsers: [BENCH_USER], passwordAuthentication: false }),
              ),
            );
            running.push(...batch);
          }
        }
        return running.slice(0, n);
      },
      async fleet(hosts) {
        // connection: {} replaces makeTestFleet's short test deadlines with the app's defaults.
        const t = makeTestFleet({ keepConnected: false, connection: {} });
        fleets.add(t);
        const servers = [...new Set(hosts.map((h) => h.server))];
        writeFileSync(
          join(t.homeDir, '.ssh', 'known_hosts'),
          servers.map((s) => `[${s.host}]:${s.port} ${s.hostKeyAlgorithm} ${s.hostPublicKey}\n`).join(''),
        );
        for (const h of hosts) {
          await t.fleet.addHost({ name: h.name, host: h.server.host, port: h.server.port, user: BENCH_USER, identityFile: key.privatePath });
        }
        return t;
      },
      disposeFleet,
      ssh(server, command) {
        return sshExec(server, BENCH_USER, key.privatePath, command, { timeoutMs: 15_000 });
      },
      async close() {
        for (const t of [...fleets]) await disposeFleet(t).catch(() => undefined);
        await Promise.all(running.splice(0).map((s) => s.destroy().catch(() => undefined)));
        rmSync(keysDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await Promise.all(running.map((s) => s.destroy().catch(() => undefined)));
    rmSync(keysDir, { recursive: true, force: true });
    throw err;
  }
}
