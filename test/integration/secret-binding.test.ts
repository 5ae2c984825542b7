import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Prompt } from '../../preload/api.js';
import { openFleetStore } from '../../main/store/fleet-store.js';
import { makeTestFleet } from '../support/fleet.js';
import { requireTools } from '../support/require-tools.js';
import { startSshd, type SshdHandle } from '../support/sshd.js';
import { ensureUser } from '../support/users.js';

// Issue 10 item 3: a kept password belongs to user@host:port and the host key it was accepted with,
// not to the host's name. Pointing the host elsewhere (even at a trusted server) must not send it.
const USER = 'fwtbindpw';
const PASSWORD = 'bind-Secret-77';
let first: SshdHandle;
let second: SshdHandle;

beforeAll(async () => {
  requireTools();
  await ensureUser(USER, { password: PASSWORD });
  [first, second] = await Promise.all([
    startSshd({ allowUsers: [USER], passwordAuthentication: true }),
    startSshd({ allowUsers: [USER], passwordAuthentication: true }),
  ]);
});

afterAll(async () => {
  await Promise.all([first, second].map((s) => s?.destroy()));
});

describe('stored secrets are bound to the server', () => {
  it('after the host is pointed at another (trusted) server, its kept password is not sent; the user is asked, saying why', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'fleetwake-binding-'));
    const store = openFleetStore(dataDir);
    // The second server's key is already trusted (e.g. it is another host of the fleet).
    store.update((d) => ({
      ...d,
      trustedKeys: [
        { host: second.host, port: second.port, keyType: second.hostKeyAlgorithm, fingerprint: second.hostKeyFingerprint, key: second.hostPublicKey, addedAt: new Date().toISOString() },
      ],
    }));
    const t = makeTestFleet({ store });
    const prompts: Prompt[] = [];
    let answerWith: string[] | null = [PASSWORD];
    t.fleet.on('prompt', (p) => {
      prompts.push(p);
      void t.fleet.answerPrompt(p.id, answerWith, false);
    });
    try {
      await t.fleet.addHost({ name: 'a', host: first.host, port: first.port, user: USER });
      const s = await t.waitForState('a', 'host-key-unknown');
      await t.fleet.trustHostKey('a', s.fingerprint!);
      await t.waitForState('a', 'online');
      expect(prompts.filter((p) => p.kind === 'password')).toHaveLength(1);
      expect(first.readLog()).toMatch(/Accepted password for fwtbindpw/);

      // Reconnecting to the same server uses the kept password without asking.
      await t.fleet.disconnectHost('a');
      expect((await t.fleet.connectHost('a')).state).toBe('online');
      expect(prompts.filter((p) => p.kind === 'password')).toHaveLength(1);

      // Now `a` points at the other server: nobody answers the question this time.
      answerWith = null;
      await t.fleet.updateHost('a', { name: 'a', host: second.host, port: second.port, user: USER });
      await t.waitForState('a', 'auth-failed', 20_000);
      const log = second.readLog();
      expect(log).not.toMatch(/Accepted password/);
      expect(log).not.toMatch(/Failed password/);
      const asked = prompts.filter((p) => p.kind === 'password');
      expect(asked).toHaveLength(2);
      expect(asked[1]!.instructions).toMatch(/kept for another server, port, user or host key, so it was not sent/);
    } finally {
      await t.fleet.close();
    }
  });
});
