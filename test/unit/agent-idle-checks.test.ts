import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkCustom, checkSessions, CheckRunner, parseWho } from '../../remote-agent/idle/checks.js';
import { realExec, type Exec, type ExecResult } from '../../remote-agent/idle/exec.js';
import { checkInhibitors, parseInhibitors } from '../../remote-agent/idle/inhibitors.js';
import { OllamaCheck } from '../../remote-agent/idle/ollama.js';
import { validateIdleSettings } from '../../remote-agent/idle/settings.js';
import { SleepHistory } from '../../remote-agent/idle/sleep-history.js';
import { armWol, magicPacket, parseMac, parseSupportsWakeOn, sendMagicPacket } from '../../remote-agent/wol/wol.js';
import { waitFor } from '../support/wait-for.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const ok = (stdout: string): ExecResult => ({ code: 0, stdout, stderr: '', failure: null });
const fakeExec = (answers: Record<string, ExecResult>): Exec & { calls: string[][] } => {
  const calls: string[][] = [];
  const fn: Exec = async (file, args) => {
    calls.push([file, ...args]);
    return answers[[file, ...args].join(' ')] ?? answers[file] ?? { code: null, stdout: '', stderr: '', failure: 'ENOENT' };
  };
  return Object.assign(fn, { calls });
};

const INHIBIT_LIST = `WHO            UID  USER  PID  COMM            WHAT                                                     WHY                                       MODE
ModemManager   0    root  726  ModemManager    sleep                                                    ModemManager needs to reset devices       delay
NetworkManager 0    root  781  NetworkManager  sleep                                                    NetworkManager needs to turn off networks delay
backup job     0    root  9123 systemd-inhibit sleep:shutdown                                           Nightly backup running                    block
GNOME Shell    1000 alice 2211 gnome-shell     handle-power-key:handle-suspend-key:handle-hibernate-key GNOME handling keypresses                  block

4 inhibitors listed.
`;

describe('sleep inhibitors (systemd-inhibit --list)', () => {
  it('parses by header columns, names with spaces included', () => {
    const list = parseInhibitors(INHIBIT_LIST);
    expect(list).toHaveLength(4);
    expect(list[2]).toEqual({ who: 'backup job', uid: '0', user: 'root', pid: '9123', comm: 'systemd-inhibit', what: 'sleep:shutdown', why: 'Nightly backup running', mode: 'block' });
  });

  it('only block-mode sleep inhibitors keep the box awake (delay ones and key handlers do not)', async () => {
    expect(await checkInhibitors(fakeExec({ 'systemd-inhibit': ok(INHIBIT_LIST) }))).toEqual({
      status: 'busy',
      reason: '1 sleep inhibitor: backup job (pid 9123: Nightly backup running)',
    });
    const noBlock = INHIBIT_LIST.split('\n').filter((l) => !l.includes('backup')).join('\n');
    expect(await checkInhibitors(fakeExec({ 'systemd-inhibit': ok(noBlock) }))).toEqual({ status: 'clear', reason: 'no sleep inhibitors in block mode' });
    expect(await checkInhibitors(fakeExec({ 'systemd-inhibit': ok('0 inhibitors listed.\n') }))).toMatchObject({ status: 'clear' });
  });

  it('no systemd-inhibit, or no logind: unavailable with the reason', async () => {
    expect(await checkInhibitors(fakeExec({}))).toEqual({ status: 'unavailable', reason: 'systemd-inhibit not found' });
    const nobus: ExecResult = { code: 1, stdout: '', stderr: 'Failed to connect to bus: No such file or directory\n', failure: null };
    expect(await checkInhibitors(fakeExec({ 'systemd-inhibit': nobus }))).toEqual({
      status: 'unavailable',
      reason: 'no systemd-logind to ask for sleep inhibitors (Failed to connect to bus: No such file or directory)',
    });
  });
});

describe('interactive sessions (who)', () => {
  const WHO = `alice    pts/0        2025-01-05 10:22 (10.0.0.5)
bob      tty1         2025-01-05 09:00
carol    :0           2025-01-05 08:00 (:0)
`;
  it('counts logins with a terminal', async () => {
    expect(parseWho(WHO)).toEqual([
      { user: 'alice', line: 'pts/0', from: '10.0.0.5' },
      { user: 'bob', line: 'tty1', from: null },
      { user: 'carol', line: ':0', from: ':0' },
    ]);
    expect(await checkSessions(fakeExec({ who: ok(WHO) }))).toEqual({
      status: 'busy',
      reason: '3 interactive logins: alice on pts/0 from 10.0.0.5, bob on tty1, carol on :0 from :0',
    });
  });

  it('no logins (Fleetwake exec channels have no pty, so never appear): clear; no who: unavailable', async () => {
    expect(await checkSessions(fakeExec({ who: ok('') }), undefined, () => true)).toEqual({ status: 'clear', reason: 'no interactive logins (who)' });
    expect(await checkSessions(fakeExec({ who: ok('') }), undefined, () => false)).toEqual({ status: 'unavailable', reason: 'no utmp database (/run/utmp): logins cannot be counted' });
    expect(await checkSessions(fakeExec({ who: ok('alice pts/1 2025-01-05 10:22\n') }), undefined, () => false)).toMatchObject({ status: 'busy' });
    expect(await checkSessions(fakeExec({}))).toEqual({ status: 'unavailable', reason: 'who not found' });
    // Entries without a terminal (as some logind-backed `who` builds list) are not interactive logins.
    expect(parseWho('deploy   sshd         2025-01-05 10:22 (10.0.0.9)\n')).toEqual([]);
  });
});

describe('Ollama (/api/ps)', () => {
  it('busy when a model appears or its keep-alive moves later; resident and untouched is not use', async () => {
    const answers: (() => Promise<{ status: number; body: string }>)[] = [];
    const ps = (models: { name: string; expires_at: string }[]) => async () => ({ status: 200, body: JSON.stringify({ models: models.map((m) => ({ ...m, size_vram: 5e9 })) }) });
    answers.push(ps([]));
    answers.push(ps([{ name: 'llama3:8b', expires_at: '2025-01-05T10:05:00Z' }]));
    answers.push(ps([{ name: 'llama3:8b', expires_at: '2025-01-05T10:05:00Z' }]));
    answers.push(ps([{ name: 'llama3:8b', expires_at: '2025-01-05T10:09:00Z' }]));
    answers.push(async () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })));
    answers.push(async () => ({ status: 404, body: '404 page not found' }));
    const urls: string[] = [];
    const check = new OllamaCheck(async (url) => {
      urls.push(url);
      return answers.shift()!();
    });
    const base = 'http://127.0.0.1:11434';
    expect(await check.run(base)).toEqual({ status: 'clear', reason: 'Ollama has no model loaded' });
    expect(await check.run(base)).toEqual({ status: 'busy', reason: 'Ollama model in use: llama3:8b (just loaded)' });
    expect(await check.run(base)).toEqual({ status: 'clear', reason: 'Ollama: llama3:8b loaded but not used since the last look' });
    expect(await check.run(base)).toEqual({ status: 'busy', reason: 'Ollama model in use: llama3:8b (keep-alive extended)' });
    expect(await check.run(base)).toEqual({ status: 'unavailable', reason: 'Ollama not reachable at http://127.0.0.1:11434 (ECONNREFUSED)' });
    expect(await check.run(base)).toEqual({ status: 'unavailable', reason: 'Ollama at http://127.0.0.1:11434 answered HTTP 404 to /api/ps' });
    expect(urls[0]).toBe('http://127.0.0.1:11434/api/ps');
  });

  it('a real HTTP look at a closed loopback port is unavailable, not busy', async () => {
    const r = await new OllamaCheck().run('http://127.0.0.1:9', 1000);
    expect(r.status).toBe('unavailable');
  });
});

describe('custom check (execFile, no shell)', () => {
  it('exit 0 busy, other exits clear, unrunnable or timed out unavailable, none configured unavailable', async () => {
    expect(await checkCustom(realExec, ['/bin/sh', '-c', 'echo backup running; exit 0'], 5)).toEqual({ status: 'busy', reason: 'custom check /bin/sh exited 0 (busy): backup running' });
    expect(await checkCustom(realExec, ['/bin/sh', '-c', 'exit 3'], 5)).toEqual({ status: 'clear', reason: 'custom check /bin/sh exited 3 (not busy)' });
    expect(await checkCustom(realExec, ['/nonexistent/check'], 5)).toEqual({ status: 'unavailable', reason: 'custom check /nonexistent/check not found', hold: true });
    expect(await checkCustom(realExec, ['/bin/sleep', '5'], 0.3)).toEqual({ status: 'unavailable', reason: 'custom check /bin/sleep did not answer within 0.3 s', hold: true });
    expect(await checkCustom(realExec, null, 5)).toEqual({ status: 'unavailable', reason: 'no idle.custom_check configured' });
    // Shell syntax is just arguments.
    expect(await checkCustom(realExec, ['/bin/echo', '$(touch /tmp/fw-never)', ';', 'exit', '1'], 5)).toMatchObject({ status: 'busy' });
  });
});

describe('CheckRunner', () => {
  it('never overlaps a slow check with itself and keeps its last result meanwhile', async () => {
    let release: () => void = () => undefined;
    let customRuns = 0;
    const runner = new CheckRunner({
      inhibit: async () => ({ status: 'clear', reason: 'none' }),
      sessions: async () => ({ status: 'clear', reason: 'none' }),
      ollama: async () => ({ status: 'unavailable', reason: 'no' }),
      custom: () => {
        customRuns++;
        return new Promise((r) => (release = () => r({ status: 'busy', reason: 'slow but busy' })));
      },
    });
    const cfg = { ollamaUrl: 'http://127.0.0.1:11434', customCheck: ['/x'], customCheckTimeoutSeconds: 10 };
    void runner.start(cfg);
    await new Promise((r) => setImmediate(r));
    expect(runner.results().custom_check).toBeUndefined();
    expect(runner.results().inhibit).toEqual({ status: 'clear', reason: 'none' });
    void runner.start(cfg);
    expect(customRuns).toBe(1);
    release();
    await new Promise((r) => setImmediate(r));
    expect(runner.results().custom_check).toEqual({ status: 'busy', reason: 'slow but busy' });
  });
});

describe('settings validation', () => {
  it('accepts a partial set and rejects each bad field with its own message', () => {
    expect(validateIdleSettings({ enableSuspend: false, idleTimeoutSeconds: 900 })).toEqual({ ok: true, value: { enableSuspend: false, idleTimeoutSeconds: 900 } });
    expect(validateIdleSettings({ minSamples: 0, gpuIdleThreshold: -1, networkThresholdBytesPerSec: 'lots' })).toEqual({
      ok: false,
      problems: [
        'minSamples must be a whole number from 1 to 100000 (got 0)',
        'gpuIdleThreshold must be a number from 0 to 100 (got -1)',
        'networkThresholdBytesPerSec must be a number from 1000 to 100000000000 (got "lots")',
      ],
    });
    expect(validateIdleSettings(null)).toEqual({ ok: false, problems: ['settings must be an object'] });
  });
});

describe('sleep history file', () => {
  it('is bounded, newest first, JSON lines, and closes only an open period', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fw-sleep-'));
    dirs.push(dir);
    const h = new SleepHistory(dir, 3);
    for (let i = 1; i <= 5; i++) h.append({ suspendedAt: i * 1000, resumedAt: i * 1000 + 1, reason: 'idle', wolArmed: true, wolMessage: 'ok' });
    h.append({ suspendedAt: 9000, resumedAt: null, reason: 'manual', wolArmed: null, wolMessage: 'no ethtool' });
    expect(h.list().map((p) => p.suspendedAt)).toEqual([9000, 5000, 4000]);
    expect(h.close(9500)).toMatchObject({ suspendedAt: 9000, resumedAt: 9500 });
    expect(h.close(9999)).toBeNull();
    const lines = readFileSync(h.path, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(JSON.parse(lines[2]!)).toEqual({ suspendedAt: 9000, resumedAt: 9500, reason: 'manual', wolArmed: null, wolMessage: 'no ethtool' });
    const again = new SleepHistory(dir, 3);
    expect(again.load()).toBe(0);
    expect(again.list(1)[0]!.resumedAt).toBe(9500);
  });
});

describe('Wake-on-LAN', () => {
  it('parses MACs in the usual forms and rejects the rest clearly', () => {
    for (const m of ['aa:bb:cc:dd:ee:0f', 'AA-BB-CC-DD-EE-0F', 'aabb.ccdd.ee0f', 'aabbccddee0f']) expect(parseMac(m)).toEqual(Buffer.from([0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0x0f]));
    expect(() => parseMac('aa:bb:cc:dd:ee')).toThrow('mac must be 6 bytes like aa:bb:cc:dd:ee:ff (got "aa:bb:cc:dd:ee")');
    expect(() => parseMac('aa:bb-cc:dd:ee:ff')).toThrow(/mac must be 6 bytes/);
    expect(() => parseMac('00:00:00:00:00:00')).toThrow('mac 00:00:00:00:00:00 is not a real interface');
    expect(() => parseMac(42)).toThrow('mac must be a string like aa:bb:cc:dd:ee:ff');
  });

  it('builds the 102-byte magic packet: 6 x 0xFF then the MAC 16 times', () => {
    const mac = parseMac('01:23:45:67:89:ab');
    const p = magicPacket(mac);
    expect(p.length).toBe(102);
    expect([...p.subarray(0, 6)]).toEqual([255, 255, 255, 255, 255, 255]);
    for (let i = 0; i < 16; i++) expect(p.subarray(6 + i * 6, 12 + i * 6)).toEqual(mac);
  });

  it('sends 3 packets that a loopback listener receives intact (127.0.0.1 only)', async () => {
    const server = dgram.createSocket('udp4');
    const got: Buffer[] = [];
    server.on('message', (m) => got.push(m));
    await new Promise<void>((r) => server.bind(0, '127.0.0.1', () => r()));
    const port = server.address().port;
    try {
      const mac = parseMac('aa:bb:cc:dd:ee:ff');
      expect(await sendMagicPacket({ mac, address: '127.0.0.1', port })).toBe(3);
      await waitFor('three magic packets', () => got.length >= 3, { timeoutMs: 500, intervalMs: 10 });
      expect(got).toHaveLength(3);
      for (const m of got) expect(m).toEqual(magicPacket(mac));
    } finally {
      server.close();
    }
  });

  it('reads "Supports Wake-on" and arms with ethtool -s IFACE wol g', async () => {
    expect(parseSupportsWakeOn('Settings for eth0:\n\tSupports Wake-on: pumbg\n\tWake-on: d\n')).toBe('pumbg');
    expect(parseSupportsWakeOn('Settings for veth0:\n\tLink detected: yes\n')).toBeNull();
    const exec = fakeExec({ 'ethtool eth0': ok('\tSupports Wake-on: pumbg\n'), 'ethtool -s eth0 wol g': ok('') });
    expect(await armWol(exec, 'eth0', { enable: true, dryRun: false })).toEqual({ armed: true, message: 'Wake-on-LAN (magic packet) armed on eth0 (Supports Wake-on: pumbg)' });
    const denied = fakeExec({ 'ethtool eth0': ok('Settings for eth0:\n'), 'ethtool -s eth0 wol g': { code: 75, stdout: '', stderr: 'Cannot set new wake-on-lan settings: Operation not permitted\n', failure: null } });
    expect(await armWol(denied, 'eth0', { enable: true, dryRun: false })).toEqual({ armed: false, message: 'ethtool -s eth0 wol g failed: Cannot set new wake-on-lan settings: Operation not permitted' });
    expect(await armWol(exec, null, { enable: true, dryRun: false })).toEqual({ armed: null, message: 'no primary network interface found: Wake-on-LAN not armed' });
    expect(await armWol(exec, 'eth0', { enable: false, dryRun: false })).toEqual({ armed: null, message: 'Wake-on-LAN arming is off (wol.enable: false)' });
  });
});
