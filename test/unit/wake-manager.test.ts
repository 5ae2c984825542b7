import { describe, expect, it } from 'vitest';
import { AgentClient, type AgentHostConnection } from '../../main/agent/client.js';
import type { InstallManifest } from '../../main/remote/manifest.js';
import { AgentManager } from '../../main/agent/manager.js';
import type { HostStatus } from '../../preload/api.js';
import { PROTOCOL_VERSION, type AgentInfo, type IdleStatus, type ResumedEvent, type SuspendingEvent } from '../../remote-agent/protocol.js';
import { hostStatus } from '../support/builders.js';
import { duplexPair } from '../support/streams.js';


const info: AgentInfo = {
  version: '1.0.0',
  protocolVersion: PROTOCOL_VERSION,
  mode: 'user',
  capabilities: { gpu: false, gpuReason: null, systemd: false, docker: false, sudo: false, rapl: false },
  hostname: 'h',
  primaryInterface: { name: 'eth0', mac: '02:00:00:00:00:01', ipv4: '10.0.0.2', netmask: '255.255.255.0', broadcast: '10.0.0.255' },
  pid: 1,
  startedAt: 1,
  nodeVersion: 'v20',
  configPath: '/c',
  stateDir: '/s',
  configError: null,
};

describe('AgentManager: sleep notifications and idle calls', () => {
  it('relays agent.suspending, agent.resumed and idle.status, and answers idle calls', async () => {
    const [client, server] = duplexPair();
    const calls: string[] = [];
    server.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n').filter(Boolean)) {
        const req = JSON.parse(line) as { id: number; method: string; params: unknown };
        calls.push(req.method);
        const result = req.method === 'wol.send' ? { sent: 3, address: '127.0.0.1', port: 9 } : req.method === 'metrics.subscribe' ? { intervalSeconds: 1 } : null;
        server.write(JSON.stringify({ jsonrpc: '2.0', id: req.id, result }) + '\n');
      }
    });
    const status: HostStatus = hostStatus('h', 'online');
    const conn = { status } as unknown as AgentHostConnection;
    const got: string[] = [];
    const m = new AgentManager({
      connections: { get: () => conn, names: () => ['h'] },
      statusEvents: () => () => undefined,
      bundledVersion: '1.0.0',
      onStatus: () => undefined,
      onMetrics: () => undefined,
      onSuspending: (n, ev: SuspendingEvent) => got.push(`${n} suspending ${ev.reason}`),
      onResumed: (n, ev: ResumedEvent) => got.push(`${n} resumed ${ev.sleptSeconds}`),
      onIdleStatus: (n, s: IdleStatus) => got.push(`${n} idle ${s.state}`),
      readManifest: async () => ({ supervisor: 'detached' }) as InstallManifest,
      open: async () => ({ client: new AgentClient(client), transport: 'streamlocal', info }),
    });
    expect(m.connected('h')).toBe(false);
    await expect(m.call('h', 'idle.status', {})).rejects.toThrow(/not reachable/);
    const st = await m.ready('h');
    expect(st.state).toBe('running');
    expect(m.connected('h')).toBe(true);
    const note = (method: string, params: unknown) => server.write(JSON.stringify({ jsonrpc: '2.0', method, params }) + '\n');
    note('agent.suspending', { at: 5, reason: 'idle', wolArmed: true, wolMessage: 'ok', dryRun: false });
    note('agent.resumed', { at: 9, sleptSeconds: 4 });
    note('idle.status', { state: 'warming_up', gates: [] });
    await expect.poll(() => got).toEqual(['h suspending idle', 'h resumed 4', 'h idle warming_up']);
    expect(await m.call('h', 'wol.send', { mac: '02:00:00:00:00:09', address: '127.0.0.1', port: 9 })).toEqual({ sent: 3, address: '127.0.0.1', port: 9 });
    expect(calls).toContain('wol.send');
    // ready() keeps a live client.
    await m.ready('h');
    expect(calls.filter((c) => c === 'metrics.subscribe').length).toBe(1);
    m.close();
  });
});
