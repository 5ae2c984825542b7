import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type os from 'node:os';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { busyPercent, createCpuReader, parseLoadavg, parseProcStat } from '../../remote-agent/metrics/cpu.js';
import { dfStatfs, parseDfOutput, readDisk, readDisks } from '../../remote-agent/metrics/disk.js';
import { memoryFromMeminfo, parseMeminfo, readMemory } from '../../remote-agent/metrics/memory.js';
import { createNetworkReader, networkRates, parseNetDev } from '../../remote-agent/metrics/network.js';
import { directedBroadcast, parseDefaultRouteIface } from '../../remote-agent/metrics/primary-interface.js';
import { createRaplReader, energyDelta } from '../../remote-agent/metrics/rapl.js';
import { createSampler, primaryInterface } from '../../remote-agent/metrics/sampler.js';
import { readUptime } from '../../remote-agent/metrics/uptime.js';
import { FAKE_NVIDIA_SMI, SYNTHETIC_CAPTURE } from '../support/fake-nvidia-smi/capture.js';

const FIX = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures/proc');
const SNAP1 = path.join(FIX, 'snap1');
const SNAP2 = path.join(FIX, 'snap2');
const KiB = 1024;
const tmp = mkdtempSync(path.join(tmpdir(), 'fw-metrics-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A writable /proc copy whose content the test swaps between snapshots. */
function movingProc(): { root: string; show(snap: string): void } {
  const root = mkdtempSync(path.join(tmp, 'proc-'));
  const show = (snap: string) => cpSync(snap, root, { recursive: true });
  show(SNAP1);
  return { root, show };
}

describe('cpu', () => {
  it('first reading has no percentages; the next one is the delta', () => {
    const p = movingProc();
    const cpu = createCpuReader(p.root);
    expect(cpu.read()).toEqual({ percent: null, perCore: [null, null], load: [0.52, 0.58, 0.59] });
    p.show(SNAP2);
    expect(cpu.read()).toEqual({ percent: 60, perCore: [73.3, 46.7], load: [1.5, 0.8, 0.65] });
  });

  it('no elapsed ticks or counters going back give null, not NaN or a negative', () => {
    const s = parseProcStat(readFileSync(path.join(SNAP1, 'stat'), 'utf8'))!;
    expect(busyPercent(s.all, s.all)).toBeNull();
    const later = parseProcStat(readFileSync(path.join(SNAP2, 'stat'), 'utf8'))!;
    expect(busyPercent(later.all, s.all)).toBeNull();
  });

  it('a core that appears (hotplug) has no percentage yet', () => {
    const p = movingProc();
    const cpu = createCpuReader(p.root);
    cpu.read();
    writeFileSync(path.join(p.root, 'stat'), readFileSync(path.join(SNAP2, 'stat'), 'utf8') + 'cpu2 1 0 1 10 0 0 0 0 0 0\n');
    expect(cpu.read().perCore).toEqual([73.3, 46.7, null]);
  });

  it('missing /proc files do not throw', () => {
    expect(createCpuReader(path.join(tmp, 'nowhere')).read()).toEqual({ percent: null, perCore: [], load: [0, 0, 0] });
    expect(parseLoadavg('garbage')).toEqual([0, 0, 0]);
  });
});

describe('memory', () => {
  it('reads meminfo in bytes with used = total - available', () => {
    expect(readMemory(SNAP1)).toEqual({
      totalBytes: 16384000 * KiB,
      availableBytes: 8192000 * KiB,
      usedBytes: (16384000 - 8192000) * KiB,
      swapTotalBytes: 2097148 * KiB,
      swapUsedBytes: (2097148 - 1048574) * KiB,
    });
    expect(readMemory(SNAP2).usedBytes).toBe((16384000 - 4096000) * KiB);
  });

  it('falls back to free + buffers + cached before MemAvailable existed', () => {
    const info = parseMeminfo('MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\nCached: 250 kB\n');
    expect(memoryFromMeminfo(info)).toMatchObject({ availableBytes: 400 * KiB, usedBytes: 600 * KiB, swapTotalBytes: 0 });
  });
});

describe('network', () => {
  it('rates per interface from the delta, skipping lo', () => {
    const p = movingProc();
    let t = 1_000_000;
    const net = createNetworkReader(p.root, () => t);
    expect(net.read()).toEqual([]);
    p.show(SNAP2);
    t += 2000;
    expect(net.read()).toEqual([
      { iface: 'docker0', rxBytesPerSec: 0, txBytesPerSec: 0 },
      { iface: 'eth0', rxBytesPerSec: 1_000_000, txBytesPerSec: 50_000 },
    ]);
  });

  it('a counter that went back (interface recreated) is left out for that interval', () => {
    const a = parseNetDev(readFileSync(path.join(SNAP2, 'net/dev'), 'utf8'));
    const b = parseNetDev(readFileSync(path.join(SNAP1, 'net/dev'), 'utf8'));
    expect(networkRates(a, b, 1000).map((r) => r.iface)).toEqual(['docker0']);
    expect(networkRates(a, b, 0)).toEqual([]);
  });
});

describe('uptime', () => {
  it('reads seconds since boot', () => {
    expect(readUptime(SNAP1)).toBe(12345.67);
    expect(readUptime(path.join(tmp, 'nowhere'))).toBe(0);
  });
});

describe('disk', () => {
  it('statfs and the df fallback agree, and a not-yet-created state dir uses its parent', async () => {
    const viaStatfs = await readDisks(path.join(tmp, 'state/not/yet'));
    expect(viaStatfs.map((d) => d.label)).toEqual(['root', 'state']);
    expect(viaStatfs[1]!.path).toBe(path.join(tmp, 'state/not/yet'));
    const viaDf = await readDisks(path.join(tmp, 'state/not/yet'), null);
    for (let i = 0; i < 2; i++) {
      expect(viaDf[i]!.totalBytes).toBe(viaStatfs[i]!.totalBytes);
      expect(viaStatfs[i]!.usedBytes).toBeGreaterThan(0);
      expect(viaStatfs[i]!.usedBytes).toBeLessThanOrEqual(viaStatfs[i]!.totalBytes);
    }
  });

  it('parses df output from the right (device names with spaces)', () => {
    const out = 'Filesystem 1-blocks Used Available Capacity Mounted on\n/dev/my disk 1000000 250000 750000 25% /mnt/a b\n';
    expect(parseDfOutput(out)).toEqual({ totalBytes: 1000000, usedBytes: 250000 });
    expect(parseDfOutput('nonsense')).toBeNull();
  });

  it('an unreadable filesystem is left out instead of failing', async () => {
    expect(await readDisk('root', '/', () => Promise.reject(new Error('EIO')))).toBeNull();
    await expect(dfStatfs('/')).resolves.toMatchObject({ totalBytes: expect.any(Number) });
  });
});

describe('rapl', () => {
  function sysTree(): string {
    const root = mkdtempSync(path.join(tmp, 'sys-'));
    const dom = (n: string, name: string, uj: number) => {
      const d = path.join(root, 'class/powercap', n);
      mkdirSync(d, { recursive: true });
      writeFileSync(path.join(d, 'name'), `${name}\n`);
      writeFileSync(path.join(d, 'energy_uj'), `${uj}\n`);
      writeFileSync(path.join(d, 'max_energy_range_uj'), '262143328850\n');
    };
    dom('intel-rapl:0', 'package-0', 1_000_000);
    dom('intel-rapl:0:0', 'core', 500_000); // a subdomain, already inside package-0
    dom('intel-rapl:1', 'package-1', 262143328850 - 5_000_000); // about to wrap
    dom('intel-rapl:2', 'psys', 0); // not a package
    return root;
  }
  const setUj = (root: string, n: string, uj: number) => writeFileSync(path.join(root, 'class/powercap', n, 'energy_uj'), `${uj}\n`);

  it('sums package domains: delta energy over delta time, across a wraparound', () => {
    const root = sysTree();
    let t = 0;
    const rapl = createRaplReader(root, () => t);
    expect(rapl.available()).toBe(true);
    expect(rapl.read()).toBeNull();
    t = 2000;
    setUj(root, 'intel-rapl:0', 1_000_000 + 100_000_000); // 100 J
    setUj(root, 'intel-rapl:1', 55_000_000); // 5 J before the wrap + 55 J after
    setUj(root, 'intel-rapl:0:0', 999_999_999_999);
    expect(rapl.read()).toBe(80); // 160 J / 2 s
    expect(energyDelta(10, 5, 0)).toBeNull();
  });

  it('unreadable counters (root-only since 5.10, or missing) mean null and rapl false', () => {
    const root = sysTree();
    const energy = path.join(root, 'class/powercap/intel-rapl:0/energy_uj');
    rmSync(energy);
    mkdirSync(energy); // reading it now fails, as EACCES would for a non-root agent
    const rapl = createRaplReader(root, () => 0);
    expect(rapl.available()).toBe(false);
    expect(rapl.read()).toBeNull();
    const none = createRaplReader(path.join(tmp, 'no-sys'));
    expect([none.available(), none.read()]).toEqual([false, null]);
  });
});

describe('primary interface', () => {
  const ifaces = (): NodeJS.Dict<os.NetworkInterfaceInfo[]> => ({
    lo: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: true, cidr: '127.0.0.1/8' }],
    eth0: [
      { address: '10.1.2.3', netmask: '255.255.240.0', family: 'IPv4', mac: 'AA:BB:CC:00:11:22', internal: false, cidr: '10.1.2.3/20' },
      { address: 'fe80::1', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: 'AA:BB:CC:00:11:22', internal: false, cidr: null, scopeid: 2 },
    ],
    wlan0: [{ address: '192.168.1.23', netmask: '255.255.255.0', family: 'IPv4', mac: '11:22:33:44:55:66', internal: false, cidr: '192.168.1.23/24' }],
  });

  it('takes the default route with the lowest metric', () => {
    expect(parseDefaultRouteIface(readFileSync(path.join(SNAP1, 'net/route'), 'utf8'))).toBe('eth0');
    expect(primaryInterface({ procRoot: SNAP1, interfaces: ifaces })).toEqual({
      name: 'eth0',
      mac: 'aa:bb:cc:00:11:22',
      ipv4: '10.1.2.3',
      netmask: '255.255.240.0',
      broadcast: '10.1.15.255',
    });
  });

  it('computes directed broadcasts', () => {
    expect(directedBroadcast('192.168.1.23', '255.255.255.0')).toBe('192.168.1.255');
    expect(directedBroadcast('10.0.0.1', '255.0.0.0')).toBe('10.255.255.255');
    expect(directedBroadcast('172.16.5.4', '255.255.255.255')).toBe('172.16.5.4');
    expect(directedBroadcast('nope', '255.0.0.0')).toBeNull();
  });

  it('reads the MAC from /sys when node reports none, and falls back without a default route', () => {
    const sys = mkdtempSync(path.join(tmp, 'sys-net-'));
    mkdirSync(path.join(sys, 'class/net/eth0'), { recursive: true });
    writeFileSync(path.join(sys, 'class/net/eth0/address'), 'de:ad:be:ef:00:01\n');
    const noMac = () => ({ ...ifaces(), eth0: ifaces().eth0!.map((a) => ({ ...a, mac: '00:00:00:00:00:00' })) });
    expect(primaryInterface({ procRoot: SNAP1, sysRoot: sys, interfaces: noMac })?.mac).toBe('de:ad:be:ef:00:01');
    expect(primaryInterface({ procRoot: path.join(tmp, 'nowhere'), interfaces: ifaces })?.name).toBe('eth0');
    expect(primaryInterface({ procRoot: path.join(tmp, 'nowhere'), interfaces: () => ({ lo: ifaces().lo }) })).toBeNull();
  });
});

describe('sampler', () => {
  it('composes every part from the fixture snapshots and the fake nvidia-smi', async () => {
    const p = movingProc();
    let t = 5_000_000;
    process.env.FAKE_NVIDIA_SMI_CAPTURE = SYNTHETIC_CAPTURE;
    try {
      const sampler = createSampler({ nvidiaSmiPath: FAKE_NVIDIA_SMI, stateDir: tmp, procRoot: p.root, sysRoot: path.join(tmp, 'no-sys'), now: () => t });
      expect(sampler.capabilities()).toEqual({ gpu: false, gpuReason: 'not sampled yet', rapl: false });
      const first = await sampler.sample();
      expect(first).toMatchObject({ sampledAt: 5_000_000, cpu: { percent: null }, network: [], uptimeSeconds: 12345.67, cpuPowerW: null, gpuError: null });
      p.show(SNAP2);
      t += 2000;
      const s = await sampler.sample();
      expect(s.sampledAt).toBe(5_002_000);
      expect(s.cpu).toEqual({ percent: 60, perCore: [73.3, 46.7], load: [1.5, 0.8, 0.65] });
      expect(s.memory.totalBytes).toBe(16384000 * KiB);
      expect(s.network.find((n) => n.iface === 'eth0')).toEqual({ iface: 'eth0', rxBytesPerSec: 1_000_000, txBytesPerSec: 50_000 });
      expect(s.disks.map((d) => d.label)).toEqual(['root', 'state']);
      expect(s.gpus.map((g) => g.index)).toEqual([0, 1]);
      expect(s.gpuProcesses).toHaveLength(3);
      expect(sampler.capabilities()).toEqual({ gpu: true, gpuReason: null, rapl: false });
    } finally {
      delete process.env.FAKE_NVIDIA_SMI_CAPTURE;
    }
  });

  it('a GPU failure leaves the rest of the sample intact', async () => {
    const sampler = createSampler({ nvidiaSmiPath: path.join(tmp, 'no-nvidia-smi'), stateDir: tmp, procRoot: SNAP1 });
    const s = await sampler.sample();
    expect(s.gpus).toEqual([]);
    expect(s.gpuError).toMatch(/^nvidia-smi not found at /);
    expect(s.memory.totalBytes).toBe(16384000 * KiB);
    expect(sampler.capabilities()).toMatchObject({ gpu: false, gpuReason: s.gpuError });
  });

  it('a missing /proc still yields a well-formed sample', async () => {
    const s = await createSampler({ nvidiaSmiPath: path.join(tmp, 'none'), stateDir: tmp, procRoot: path.join(tmp, 'nowhere') }).sample();
    expect(s.cpu).toEqual({ percent: null, perCore: [], load: [0, 0, 0] });
    expect(s.memory.totalBytes).toBe(0);
    expect(s.network).toEqual([]);
  });
});

describe('on this machine', () => {
  it('samples twice with sane values', async () => {
    const sampler = createSampler({ nvidiaSmiPath: path.join(tmp, 'none'), stateDir: tmp });
    await sampler.sample();
    await new Promise((r) => setTimeout(r, 300)); // long enough for /proc/stat to tick
    const s = await sampler.sample();
    const memTotalKb = Number(/^MemTotal:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'))![1]);
    expect(s.memory.totalBytes).toBe(memTotalKb * 1024);
    expect(s.memory.usedBytes).toBeGreaterThan(0);
    expect(s.cpu.percent).not.toBeNull();
    for (const v of [s.cpu.percent, ...s.cpu.perCore]) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(100);
    }
    expect(s.uptimeSeconds).toBeGreaterThan(0);
    expect(s.disks.find((d) => d.label === 'root')!.totalBytes).toBeGreaterThan(0);
    expect(s.network.every((n) => n.iface !== 'lo' && n.rxBytesPerSec >= 0)).toBe(true);
  });

  it('finds a primary interface with a MAC and a broadcast', () => {
    const pi = primaryInterface();
    if (pi) {
      expect(pi.mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
      if (pi.ipv4 && pi.netmask) expect(pi.broadcast).toBe(directedBroadcast(pi.ipv4, pi.netmask));
    }
  });
});
