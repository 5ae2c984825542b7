/**
 * Issue 10, item 11: the desktop build's CSP allowed ws://127.0.0.1:* (only the harness needs a
 * WebSocket), and paths from the renderer (identityFile, the ssh config to import) could name any
 * local file. The Electron front now limits them to ~/.ssh and dialog-picked files; the rule is the
 * core's, with the allowed set supplied by the front (the CLI and the harness pass none).
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../../main/electron/security.js';
import { startHarness } from '../../main/harness/server.js';
import { checkLocalFile, type LocalFilePolicy } from '../../main/hosts/local-files.js';
import { makeTestFleet, type TestFleet } from '../support/fleet.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const metaCsp = (html: string) => /http-equiv="Content-Security-Policy"\s+content="([^"]*)"/.exec(html)?.[1];

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('content security policy', () => {
  it('the renderer page (the desktop build) allows no WebSocket, and matches the Electron header policy', () => {
    const csp = metaCsp(fs.readFileSync(path.join(root, 'renderer', 'index.html'), 'utf8'));
    expect(csp).toBeDefined();
    expect(csp).not.toMatch(/ws:|wss:|\*/);
    expect(csp).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/ws:|wss:/);
  });

  it('the harness serves the page with its own policy: its own socket only', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetwake-csp-'));
    fs.copyFileSync(path.join(root, 'renderer', 'index.html'), path.join(dir, 'index.html'));
    const tf = makeTestFleet({ keepConnected: false });
    const harness = await startHarness({ fleet: tf.fleet, rendererDir: dir });
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }), () => tf.fleet.close(), () => harness.close());
    const { header, body } = await new Promise<{ header: string; body: string }>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: harness.port, path: '/' }, (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ header: String(res.headers['content-security-policy']), body }));
        })
        .on('error', reject);
    });
    const own = `connect-src 'self' ws://127.0.0.1:${harness.port};`;
    expect(metaCsp(body)).toContain(own);
    expect(header).toContain(own);
    expect(`${metaCsp(body)} ${header}`).not.toContain('ws://127.0.0.1:*');
    expect(body).toContain('<div id="root"></div>');
  });
});

describe('local files named by the renderer', () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetwake-home-'));
  const ssh = path.join(home, '.ssh');
  fs.mkdirSync(ssh, { recursive: true });
  fs.writeFileSync(path.join(ssh, 'id_ed25519'), 'key');
  fs.writeFileSync(path.join(ssh, 'config'), 'Host a\n  HostName 10.0.0.1\n');
  fs.writeFileSync(path.join(home, 'picked.pem'), 'key');
  fs.writeFileSync(path.join(home, 'secret.txt'), 'not a key');
  fs.symlinkSync(path.join(home, 'secret.txt'), path.join(ssh, 'sneaky'));
  const policy: LocalFilePolicy = { allowedDirs: [ssh], pickedFiles: new Set([path.join(home, 'picked.pem')]) };
  const check = (file: string, p: LocalFilePolicy | null = policy) => () => checkLocalFile(p ?? undefined, file, 'identityFile', 'Key file', home);

  it('allows files under the allowed folders and picked files', () => {
    expect(check('~/.ssh/id_ed25519')).not.toThrow();
    expect(check(path.join(ssh, 'id_ed25519'))).not.toThrow();
    expect(check(path.join(ssh, 'not-yet-there'))).not.toThrow();
    expect(check(path.join(home, 'picked.pem'))).not.toThrow();
  });

  it('refuses anything else, symlinks and .. included, saying what is allowed', () => {
    for (const file of ['/etc/shadow', path.join(home, 'secret.txt'), '~/secret.txt', path.join(ssh, '..', 'secret.txt'), path.join(ssh, 'sneaky'), ssh]) {
      expect(check(file), file).toThrow(expect.objectContaining({ code: 'invalid-input', field: 'identityFile' }));
    }
    expect(check('/etc/shadow')).toThrow(/outside ~\/\.ssh and was not chosen in a file dialog.*Move or copy the file into ~\/\.ssh/s);
  });

  it('allows everything when the front gives no policy (the CLI)', () => {
    expect(check('/etc/shadow', null)).not.toThrow();
  });

  describe('through the core', () => {
    let tf: TestFleet;
    const fleetWith = (localFiles?: LocalFilePolicy) => {
      tf = makeTestFleet({ keepConnected: false, homeDir: home, ...(localFiles ? { localFiles } : {}) });
      cleanups.push(() => tf.fleet.close());
      return tf.fleet;
    };

    it('addHost, updateHost and importHosts refuse a key file outside the policy, and save nothing', async () => {
      const fleet = fleetWith(policy);
      await expect(fleet.addHost({ name: 'a', host: '10.0.0.1', identityFile: '/etc/hostname' })).rejects.toMatchObject({ code: 'invalid-input', field: 'identityFile' });
      // A refused path says nothing about the file (a missing one gets the same answer).
      await expect(fleet.addHost({ name: 'a', host: '10.0.0.1', identityFile: '/nope/missing' })).rejects.toThrow(/outside ~\/\.ssh/);
      expect(await fleet.listHosts()).toEqual([]);
      await fleet.addHost({ name: 'a', host: '10.0.0.1', identityFile: '~/.ssh/id_ed25519' });
      await expect(fleet.updateHost('a', { name: 'a', host: '10.0.0.1', identityFile: path.join(home, 'secret.txt') })).rejects.toMatchObject({ field: 'identityFile' });
      expect((await fleet.listHosts())[0]!.identityFile).toBe(path.join(ssh, 'id_ed25519'));
      const r = await fleet.importHosts([{ name: 'b', host: '10.0.0.2', identityFile: '/etc/hostname' }, { name: 'c', host: '10.0.0.3' }]);
      expect(r.added.map((h) => h.name)).toEqual(['c']);
      expect(r.failed).toEqual([{ name: 'b', error: { field: 'identityFile', message: expect.stringMatching(/outside ~\/\.ssh/) } }]);
    });

    it("an imported host's known_hosts files follow the same rule; ones it already has are kept on edit", async () => {
      const fleet = fleetWith(policy);
      const r = await fleet.importHosts([
        { name: 'k1', host: '10.0.0.4', knownHostsFiles: ['/etc/shadow'] },
        { name: 'k2', host: '10.0.0.5', knownHostsFiles: ['~/.ssh/known_hosts.d/k2'] },
      ]);
      expect(r.failed).toEqual([{ name: 'k1', error: { field: 'knownHostsFiles', message: expect.stringMatching(/Known hosts file "\/etc\/shadow" is outside ~\/\.ssh/) } }]);
      expect(r.added.map((h) => h.knownHostsFiles)).toEqual([[path.join(ssh, 'known_hosts.d', 'k2')]]);
      const outside = path.join(home, 'picked.pem');
      await fleet.addHost({ name: 'k3', host: '10.0.0.6', knownHostsFiles: [outside] });
      // Edits that keep the list pass; one that adds a file outside the rule does not, and changes nothing.
      expect((await fleet.updateHost('k3', { name: 'k3', host: '10.0.0.7', knownHostsFiles: [outside] })).knownHostsFiles).toEqual([outside]);
      await expect(fleet.updateHost('k3', { name: 'k3', host: '10.0.0.7', knownHostsFiles: [outside, '/etc/passwd'] })).rejects.toMatchObject({ field: 'knownHostsFiles' });
      expect((await fleet.listHosts()).find((h) => h.name === 'k3')!.knownHostsFiles).toEqual([outside]);
    });

    it('an unchanged key file of a host added by the CLI is kept when the app edits the host', async () => {
      const fleet = fleetWith(policy);
      const outside = path.join(home, 'picked.pem');
      await fleet.addHost({ name: 'a', host: '10.0.0.1', identityFile: outside });
      const edited = await fleet.updateHost('a', { name: 'a2', host: '10.0.0.1', identityFile: outside });
      expect(edited.identityFile).toBe(outside);
    });

    it('previewSshConfigImport reads only a config under ~/.ssh (or picked)', async () => {
      const fleet = fleetWith(policy);
      await expect(fleet.previewSshConfigImport('/etc/ssh/ssh_config')).rejects.toMatchObject({ code: 'invalid-input', field: 'file' });
      expect((await fleet.previewSshConfigImport(path.join(ssh, 'config'))).candidates.map((c) => c.alias)).toEqual(['a']);
      expect((await fleet.previewSshConfigImport()).candidates.map((c) => c.alias)).toEqual(['a']);
    });

    it('a file chosen in the native dialog may be named afterwards, even outside ~/.ssh; typing it first is refused', async () => {
      const chosen = path.join(home, 'keys', 'gpu_ed25519');
      fs.mkdirSync(path.dirname(chosen), { recursive: true });
      fs.writeFileSync(chosen, 'key');
      const asked: string[] = [];
      const answers: (string | null)[] = [null, chosen];
      const own: LocalFilePolicy = { allowedDirs: [ssh], pickedFiles: new Set() };
      tf = makeTestFleet({ keepConnected: false, homeDir: home, localFiles: own, chooseFile: async (purpose) => (asked.push(purpose), answers.shift() ?? null) });
      cleanups.push(() => tf.fleet.close());
      const fleet = tf.fleet;
      expect((await fleet.getAppInfo()).fileDialog).toBe(true);
      await expect(fleet.addHost({ name: 'a', host: '10.0.0.1', identityFile: chosen })).rejects.toMatchObject({ field: 'identityFile' });
      // Cancelled: nothing chosen, nothing widened.
      expect(await fleet.chooseLocalFile('identity-file')).toBeNull();
      await expect(fleet.addHost({ name: 'a', host: '10.0.0.1', identityFile: chosen })).rejects.toMatchObject({ field: 'identityFile' });
      expect(await fleet.chooseLocalFile('identity-file')).toBe(chosen);
      expect((await fleet.addHost({ name: 'a', host: '10.0.0.1', identityFile: chosen })).identityFile).toBe(chosen);
      expect(asked).toEqual(['identity-file', 'identity-file']);
      // Only that file: its neighbour is still refused.
      await expect(fleet.updateHost('a', { name: 'a', host: '10.0.0.1', identityFile: path.join(home, 'keys', 'other') })).rejects.toMatchObject({ field: 'identityFile' });
      await expect(fleet.chooseLocalFile('passwd' as never)).rejects.toMatchObject({ code: 'invalid-input', field: 'purpose' });
    });

    it('without a dialog (the harness, the CLI) choosing a file says to type the path', async () => {
      const fleet = fleetWith(policy);
      expect((await fleet.getAppInfo()).fileDialog).toBe(false);
      await expect(fleet.chooseLocalFile('ssh-config')).rejects.toThrow(/only available in the desktop app; type the path instead/);
    });

    it('the CLI (no policy) may name any file', async () => {
      const fleet = fleetWith();
      await fleet.addHost({ name: 'a', host: '10.0.0.1', identityFile: path.join(home, 'secret.txt') });
      expect((await fleet.listHosts())[0]!.identityFile).toBe(path.join(home, 'secret.txt'));
    });
  });
});
