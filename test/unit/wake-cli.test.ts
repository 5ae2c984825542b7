import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../main/cli/main.js';
import { USAGE } from '../../main/cli/usage.js';

// Only argument handling and failures before any packet: no host here has a MAC or an address to send to.
async function cli(home: string, args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (s) => out.push(s), err: (s) => err.push(s), terminal: null, env: { FLEETWAKE_HOME: home, HOME: home }, version: '0.0.0' });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('fleetwake wake / suspend arguments', () => {
  const home = mkdtempSync(join(tmpdir(), 'fwt-wakecli-'));

  it('usage lists both commands', () => {
    expect(USAGE).toMatch(/fleetwake wake NAME \[--wait\] \[--timeout S\] \[--via NAME\|auto\] \[--json\]/);
    expect(USAGE).toMatch(/fleetwake suspend NAME status\|now\|enable\|disable \[--json\]/);
  });

  it('bad usage exits 2 with a hint', async () => {
    expect((await cli(home, ['wake'])).code).toBe(2);
    expect((await cli(home, ['wake', 'a', 'b'])).code).toBe(2);
    expect((await cli(home, ['wake', 'a', '--timeout', '5'])).err).toMatch(/--timeout only applies with --wait/);
    expect((await cli(home, ['suspend', 'a'])).code).toBe(2);
    const r = await cli(home, ['suspend', 'a', 'sideways']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/Use status, now, enable or disable/);
  });

  it('unknown host and missing MAC are explained', async () => {
    const r = await cli(home, ['wake', 'nope']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/No host named "nope"/);
    expect((await cli(home, ['hosts', 'add', 'gpu', '--host', '127.0.0.1', '--port', '1'])).code).toBe(0);
    const w = await cli(home, ['wake', 'gpu', '--json']);
    expect(w.code).toBe(2);
    expect(w.err).toMatch(/gpu has no MAC address for Wake-on-LAN/);
    const t = await cli(home, ['wake', 'gpu', '--wait', '--timeout', 'soon']);
    expect(t.code).toBe(2);
    expect(t.err).toMatch(/--timeout must be a number of seconds/);
    const bad = await cli(home, ['hosts', 'add', 'gpu2', '--host', '127.0.0.1', '--mac', 'ff:ff:ff:ff:ff:ff']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/broadcast address/);
  });

  it('suspend status of an unreachable host fails with the reason', async () => {
    const r = await cli(home, ['suspend', 'gpu', 'status', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toMatchObject({ name: 'gpu', state: null, gates: [] });
    expect(r.err).toMatch(/not reachable over SSH/);
  });
});
