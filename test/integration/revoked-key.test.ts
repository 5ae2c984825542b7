import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeTestFleet } from '../support/fleet.js';
import { requireTools } from '../support/require-tools.js';
import { startSshd, type SshdHandle } from '../support/sshd.js';

// Issue 10 item 9: a key marked @revoked is reported as revoked, and trustHostKey refuses it.
let s: SshdHandle;
beforeAll(async () => {
  requireTools();
  s = await startSshd({ passwordAuthentication: false });
});
afterAll(async () => {
  await s?.destroy();
});

it('a @revoked host key is reported as revoked and cannot be trusted', async () => {
  const t = makeTestFleet();
  try {
    writeFileSync(join(t.homeDir, '.ssh', 'known_hosts'), `@revoked * ${s.hostKeyAlgorithm} ${s.hostPublicKey}\n`);
    await t.fleet.addHost({ name: 'rv', host: s.host, port: s.port, user: 'fwtnobody' });
    const st = await t.waitForState('rv', 'host-key-changed');
    expect(st.error).toMatch(/HOST KEY REVOKED/);
    expect(st.error).not.toMatch(/It was \(this key/);
    expect(st.expectedFingerprint).toBeUndefined();
    await expect(t.fleet.trustHostKey('rv', s.hostKeyFingerprint)).rejects.toThrow(/revoked/);
    expect(t.dataDir).toBeTruthy();
    expect((await t.fleet.getStatuses())[0]!.state).toBe('host-key-changed');
  } finally {
    await t.fleet.close();
  }
});
