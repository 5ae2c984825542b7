/** Fake agents, samples and history for the UI preview: deterministic shapes from real GPU servers. */
import type {
  AgentInfo,
  AgentMode,
  GpuProcess,
  GpuSample,
  HistoryPoint,
  HistoryRange,
  MetricsHistory,
  MetricsSample,
} from '../../preload/api.js';

// ---- fake agents and metrics ------------------------------------------------------------------------
//
// Shapes follow real `nvidia-smi --query-gpu=index,uuid,name,utilization.gpu,memory.used,memory.total,
// temperature.gpu,power.draw,power.limit --format=csv,nounits` captures: H100 80GB HBM3 (81559 MiB, 700 W),
// L40S (46068 MiB, 350 W), GeForce RTX 4080 SUPER (16376 MiB, 320 W) and H200 (143771 MiB, 700 W) in MIG
// mode, where utilization.gpu reads [N/A] (null here). Checked against /work/shared/fixtures/nvidia-smi.

export const MiB = 1024 ** 2;
export const GiB = 1024 ** 3;
export const AGENT_VERSION = '0.4.0';

export interface GpuModel {
  name: string;
  memMiB: number;
  limitW: number;
  idleW: number;
  idleC: number;
  hotC: number;
}
export const H100: GpuModel = { name: 'NVIDIA H100 80GB HBM3', memMiB: 81559, limitW: 700, idleW: 69, idleC: 38, hotC: 74 };
export const L40S: GpuModel = { name: 'NVIDIA L40S', memMiB: 46068, limitW: 350, idleW: 36, idleC: 33, hotC: 71 };
export const RTX4080S: GpuModel = { name: 'NVIDIA GeForce RTX 4080 SUPER', memMiB: 16376, limitW: 320, idleW: 25, idleC: 43, hotC: 68 };
export const H200: GpuModel = { name: 'NVIDIA H200', memMiB: 143771, limitW: 700, idleW: 78, idleC: 28, hotC: 62 };

export type Workload = 'training' | 'inference' | 'home' | 'mig' | 'none';

export interface Profile {
  seed: number;
  gpu: GpuModel | null;
  gpuCount: number;
  workload: Workload;
  cores: number;
  memGiB: number;
  rapl: boolean;
  mig: boolean;
  gpuError: string | null;
  iface: string;
  mac: string;
  ipv4: string;
  hostname: string;
  mode: AgentMode;
  proc: string;
  /** Sleeps at night (Wake-on-LAN box): no samples then. */
  sleeps: boolean;
}

export const PROFILES: Record<string, Profile> = {
  'dgx-h100': { seed: 11, gpu: H100, gpuCount: 8, workload: 'training', cores: 224, memGiB: 2015, rapl: true, mig: false, gpuError: null, iface: 'ens21np0', mac: '9c:63:c0:1a:42:e0', ipv4: '10.0.4.21', hostname: 'dgx-h100-01', mode: 'system', proc: '/opt/conda/bin/python3.11', sleeps: false },
  'l40s-infer': { seed: 23, gpu: L40S, gpuCount: 4, workload: 'inference', cores: 64, memGiB: 503, rapl: true, mig: false, gpuError: null, iface: 'eno1', mac: '3c:ec:ef:6b:10:a4', ipv4: '10.0.4.31', hostname: 'l40s-infer', mode: 'system', proc: '/usr/bin/python3', sleeps: false },
  'home-4080': { seed: 37, gpu: RTX4080S, gpuCount: 1, workload: 'home', cores: 16, memGiB: 62.6, rapl: false, mig: false, gpuError: null, iface: 'enp5s0', mac: 'd8:bb:c1:44:9e:07', ipv4: '192.168.1.40', hostname: 'anna-desktop', mode: 'user', proc: '/usr/local/bin/ollama', sleeps: true },
  'h200-mig': { seed: 41, gpu: H200, gpuCount: 4, workload: 'mig', cores: 192, memGiB: 2015, rapl: true, mig: true, gpuError: null, iface: 'ens1f0np0', mac: 'b8:3f:d2:90:11:5c', ipv4: '10.0.6.5', hostname: 'h200-mig', mode: 'system', proc: '/usr/bin/python3', sleeps: false },
  'a6000-ws': { seed: 53, gpu: null, gpuCount: 0, workload: 'none', cores: 32, memGiB: 251, rapl: true, mig: false, gpuError: "nvidia-smi failed: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.", iface: 'eno2', mac: '00:25:90:aa:31:7f', ipv4: '10.0.5.21', hostname: 'a6000-ws', mode: 'system', proc: '', sleeps: false },
  bastion: { seed: 67, gpu: null, gpuCount: 0, workload: 'none', cores: 4, memGiB: 7.7, rapl: false, mig: false, gpuError: null, iface: 'ens5', mac: '0a:1f:7e:33:c2:91', ipv4: '172.31.18.4', hostname: 'bastion', mode: 'system', proc: '', sleeps: false },
};

/** Deterministic 0..1 hash. */
export const hash = (n: number) => {
  const x = Math.sin(n * 12.9898 + 78.233) * 43758.5453;
  return x - Math.floor(x);
};
/** Smooth deterministic noise in -1..1. */
export const wobble = (seed: number, t: number, period = 90_000) => {
  const a = t / period;
  return 0.55 * Math.sin(a + seed) + 0.3 * Math.sin(a * 2.7 + seed * 1.7) + 0.15 * Math.sin(a * 7.3 + seed * 3.1);
};
export const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
export const localHour = (t: number) => new Date(t).getHours() + new Date(t).getMinutes() / 60;

export function asleep(p: Profile, t: number, now: number): boolean {
  if (!p.sleeps || now - t < 3 * 3600_000) return false;
  const h = localHour(t);
  return h >= 1 && h < 8;
}

/** 0..1 load of one GPU at time t. */
export function gpuLoad(p: Profile, i: number, t: number): number {
  switch (p.workload) {
    case 'training': {
      // Jobs in 6-hour blocks on (most of) the box, short evaluation dips every 15 min.
      const block = Math.floor(t / 21_600_000);
      const on = hash(p.seed * 100 + block) < 0.78 || i < 2;
      if (!on) return 0.01 + 0.01 * Math.abs(wobble(p.seed + i, t));
      const dip = t % 900_000 < 30_000 ? 0.5 : 0;
      return clamp(0.955 + 0.035 * wobble(p.seed + i, t, 20_000) - dip, 0, 1);
    }
    case 'inference': {
      const day = 0.5 - 0.5 * Math.cos(((localHour(t) - 4) / 24) * 2 * Math.PI);
      return clamp(0.12 + 0.62 * day + 0.18 * wobble(p.seed + i * 7, t, 40_000), 0.02, 1);
    }
    case 'home': {
      const h = localHour(t);
      const evening = h >= 19 && h < 23.5 ? 1 : 0;
      const job = hash(p.seed + Math.floor(t / 1_800_000)) < 0.35 ? 1 : 0;
      const burst = 0.5 + 0.5 * wobble(p.seed, t, 15_000);
      return clamp(Math.max(evening * 0.75, job * 0.9) * burst + 0.03, 0, 1);
    }
    case 'mig':
      return clamp(0.6 + 0.3 * wobble(p.seed + i, t, 60_000), 0, 1);
    default:
      return 0;
  }
}

export function gpuMemFrac(p: Profile, i: number, t: number, load: number): number {
  switch (p.workload) {
    case 'training':
      return load > 0.05 ? 0.86 + 0.05 * hash(p.seed + i + Math.floor(t / 21_600_000)) : 0.006;
    case 'inference':
      return 0.91; // vLLM keeps --gpu-memory-utilization 0.9 reserved whatever the traffic
    case 'home':
      return load > 0.4 ? 0.62 : 0.08;
    case 'mig':
      return 0.35 + 0.12 * i;
    default:
      return 0;
  }
}

export function gpuAt(p: Profile, i: number, t: number, jitter: number) {
  const m = p.gpu!;
  const load = gpuLoad(p, i, t);
  const util = clamp(Math.round(load * 100 + jitter * 2), 0, 100);
  const memTotal = m.memMiB * MiB;
  const memUsed = Math.round(gpuMemFrac(p, i, t, load) * m.memMiB) * MiB;
  const tempC = Math.round(m.idleC + (m.hotC - m.idleC) * Math.pow(load, 0.8) + 1.5 * wobble(p.seed + i, t, 300_000) + i * 0.7);
  const powerW = Math.round((m.idleW + (0.93 * m.limitW - m.idleW) * load + jitter * 6) * 100) / 100;
  return { load, util: p.mig ? null : util, memTotal, memUsed, tempC, powerW: clamp(powerW, m.idleW * 0.8, m.limitW) };
}

export function systemAt(p: Profile, t: number) {
  let avg = 0;
  for (let i = 0; i < p.gpuCount; i++) avg += gpuLoad(p, i, t);
  avg = p.gpuCount ? avg / p.gpuCount : 0;
  const base = p.workload === 'none' ? 3 : 4;
  const cpu = clamp(base + 38 * avg + 6 * wobble(p.seed * 3, t, 45_000), 0.5, 100);
  const memTotal = p.memGiB * GiB;
  const memUsed = memTotal * clamp(0.12 + 0.38 * avg + 0.03 * wobble(p.seed * 5, t, 600_000), 0.05, 0.95);
  const rx = avg > 0.05 ? (p.workload === 'training' ? 420e6 : 38e6) * (0.75 + 0.2 * wobble(p.seed, t, 240_000)) : 60e3 + 40e3 * Math.abs(wobble(p.seed, t));
  const tx = rx * (p.workload === 'inference' ? 0.9 : 0.08);
  const cpuW = p.rapl ? 95 + (p.cores > 100 ? 420 : 160) * (cpu / 100) : null;
  return { cpu, memTotal, memUsed, rx, tx, cpuW };
}

/** Like the agent's downsampling: a coarse point is the mean of the samples in its bucket. */
export function historyPoint(p: Profile, t: number, stepMs: number): HistoryPoint {
  const k = stepMs >= 60_000 ? 10 : 1;
  const pts = Array.from({ length: k }, (_, j) => rawPoint(p, t - (j * stepMs) / k));
  const mean = (f: (x: HistoryPoint) => number | null): number | null => {
    const vals = pts.map(f).filter((v): v is number => v !== null);
    return vals.length ? vals.reduce((a, b) => a + b, 0) / vals.length : null;
  };
  const r = (v: number | null, d = 0) => (v === null ? null : Math.round(v * 10 ** d) / 10 ** d);
  return {
    t,
    cpuPercent: r(mean((x) => x.cpuPercent), 1),
    memUsedBytes: r(mean((x) => x.memUsedBytes)),
    memTotalBytes: pts[0]!.memTotalBytes,
    cpuPowerW: r(mean((x) => x.cpuPowerW)),
    netRxBytesPerSec: r(mean((x) => x.netRxBytesPerSec)),
    netTxBytesPerSec: r(mean((x) => x.netTxBytesPerSec)),
    gpus: pts[0]!.gpus.map((g, i) => ({
      index: g.index,
      utilPercent: r(mean((x) => x.gpus[i]!.utilPercent), 1),
      memUsedBytes: r(mean((x) => x.gpus[i]!.memUsedBytes)),
      tempC: r(mean((x) => x.gpus[i]!.tempC)),
      powerW: r(mean((x) => x.gpus[i]!.powerW)),
    })),
  };
}

export function rawPoint(p: Profile, t: number): HistoryPoint {
  const s = systemAt(p, t);
  return {
    t,
    cpuPercent: Math.round(s.cpu * 10) / 10,
    memUsedBytes: Math.round(s.memUsed),
    memTotalBytes: Math.round(s.memTotal),
    cpuPowerW: s.cpuW === null ? null : Math.round(s.cpuW),
    netRxBytesPerSec: Math.round(s.rx),
    netTxBytesPerSec: Math.round(s.tx),
    gpus: Array.from({ length: p.gpuCount }, (_, i) => {
      const g = gpuAt(p, i, t, 0);
      return { index: i, utilPercent: g.util, memUsedBytes: g.memUsed, tempC: g.tempC, powerW: Math.round(g.powerW) };
    }),
  };
}

export const RESOLUTION: Record<HistoryRange, number> = { '1h': 10, '24h': 300, '7d': 1800 };
export const SPAN: Record<HistoryRange, number> = { '1h': 3600_000, '24h': 86_400_000, '7d': 7 * 86_400_000 };

export function fakeHistory(name: string, p: Profile, range: HistoryRange, now: number): MetricsHistory {
  const step = RESOLUTION[range] * 1000;
  const points: HistoryPoint[] = [];
  // The agent was installed 5 days ago on the L40S box: a shorter 7 d history.
  const installedAt = name === 'l40s-infer' ? now - 5 * 86_400_000 - 3 * 3600_000 : 0;
  for (let t = Math.ceil((now - SPAN[range]) / step) * step; t <= now - step; t += step) {
    if (t < installedAt || asleep(p, t, now)) continue;
    points.push(historyPoint(p, t, step));
  }
  return { name, range, resolutionSeconds: RESOLUTION[range], points };
}

export function fakeSample(p: Profile, t: number): MetricsSample {
  const s = systemAt(p, t);
  const j = () => Math.random() * 2 - 1;
  const gpus: GpuSample[] = [];
  const procs: GpuProcess[] = [];
  for (let i = 0; i < p.gpuCount; i++) {
    const g = gpuAt(p, i, t, j());
    const uuid = `GPU-${hex(p.seed * 31 + i, 8)}-${hex(p.seed + i * 7, 4)}-${hex(i + 3, 4)}-${hex(p.seed * 5 + i, 4)}-${hex(p.seed * 97 + i * 13, 12)}`;
    gpus.push({ index: i, uuid, name: p.gpu!.name, utilPercent: g.util, memUsedBytes: g.memUsed, memTotalBytes: g.memTotal, tempC: g.tempC, powerW: g.powerW, powerLimitW: p.gpu!.limitW });
    if (g.memUsed > 1 * GiB) {
      const pid = 100_000 + p.seed * 1000 + i * 17;
      procs.push({ gpuUuid: uuid, pid, processName: p.proc, usedMemoryBytes: g.memUsed - 520 * MiB });
    }
    if (p.workload === 'home') procs.push({ gpuUuid: uuid, pid: 2114, processName: '/usr/bin/kwin_wayland', usedMemoryBytes: 25 * MiB });
  }
  const perCore = Array.from({ length: p.cores }, (_, c) => Math.round(clamp(s.cpu + 25 * (hash(c + t / 1000) - 0.5), 0, 100)));
  return {
    sampledAt: t,
    cpu: { percent: Math.round(s.cpu * 10) / 10, perCore, load: [(s.cpu / 100) * p.cores * 0.9, (s.cpu / 100) * p.cores * 0.85, (s.cpu / 100) * p.cores * 0.8] },
    memory: { totalBytes: Math.round(s.memTotal), usedBytes: Math.round(s.memUsed), availableBytes: Math.round(s.memTotal - s.memUsed), swapTotalBytes: p.memGiB < 100 ? 8 * GiB : 0, swapUsedBytes: p.memGiB < 100 ? 310 * MiB : 0 },
    disks: [
      { label: 'root', path: '/', totalBytes: 1.8 * 1024 * GiB, usedBytes: 0.61 * 1.8 * 1024 * GiB },
      { label: 'state', path: '/var/lib/fleetwake', totalBytes: 1.8 * 1024 * GiB, usedBytes: 0.61 * 1.8 * 1024 * GiB },
    ],
    network: [{ iface: p.iface, rxBytesPerSec: Math.round(s.rx), txBytesPerSec: Math.round(s.tx) }],
    uptimeSeconds: p.sleeps ? 5 * 3600 + 1234 : 41 * 86400 + 7200,
    gpus,
    gpuProcesses: procs,
    gpuError: p.gpuError,
    cpuPowerW: s.cpuW === null ? null : Math.round(s.cpuW * 10) / 10,
  };
}

export function hex(n: number, len: number): string {
  let out = '';
  for (let k = 0; out.length < len; k++) out += Math.floor(hash(n * 1.37 + k) * 16).toString(16);
  return out;
}

export function agentInfo(p: Profile, version = AGENT_VERSION, now = Date.now()): AgentInfo {
  const [a, b, c] = p.ipv4.split('.');
  return {
    version,
    protocolVersion: 1,
    mode: p.mode,
    capabilities: { gpu: p.gpu !== null, gpuReason: p.gpu ? null : p.gpuError ? 'nvidia-smi failed' : 'nvidia-smi not found', systemd: true, docker: p.workload !== 'home', sudo: p.mode === 'system', rapl: p.rapl },
    hostname: p.hostname,
    primaryInterface: { name: p.iface, mac: p.mac, ipv4: p.ipv4, netmask: '255.255.255.0', broadcast: `${a}.${b}.${c}.255` },
    pid: 1000 + p.seed * 13,
    startedAt: now - (p.sleeps ? 5 * 3600_000 : 12 * 86_400_000),
    nodeVersion: 'v22.12.0',
    configPath: p.mode === 'system' ? '/etc/fleetwake/agent.yaml' : '/home/anna/.config/fleetwake/agent.yaml',
    stateDir: p.mode === 'system' ? '/var/lib/fleetwake' : '/home/anna/.local/share/fleetwake/state',
    configError: null,
  };
}

export const DEPLOY_STEPS: { step: string; done: string; running: string; state?: 'skipped' }[] = [
  { step: 'probe', running: 'Checking the server…', done: 'Ubuntu 22.04.5 LTS, x86_64, systemd 249' },
  { step: 'sudo', running: 'Asking for sudo…', done: 'sudo works: installing as a system service' },
  { step: 'upload', running: `Uploading fleetwake-agent ${AGENT_VERSION} (2.3 MB)…`, done: `Uploaded fleetwake-agent ${AGENT_VERSION} (2.3 MB)` },
  { step: 'verify', running: 'Checking sha256…', done: 'sha256 matches the bundled build' },
  { step: 'install', running: 'Installing to /opt/fleetwake…', done: 'Installed to /opt/fleetwake' },
  { step: 'config', running: 'Writing /etc/fleetwake/agent.yaml…', done: 'Wrote /etc/fleetwake/agent.yaml' },
  { step: 'docker', running: 'Looking for Docker…', done: 'Docker not found: container metrics skipped', state: 'skipped' },
  { step: 'service', running: 'Starting fleetwake-agent.service…', done: 'fleetwake-agent.service is active' },
  { step: 'handshake', running: 'Waiting for the agent to answer…', done: `Agent ${AGENT_VERSION} answered (protocol 1)` },
];
