/**
 * Dev-only: look at the renderer without the real core.
 *
 *   npx vite build && npx tsx scripts/ui-preview.ts
 *
 * Serves out/renderer on 127.0.0.1 with a harness-protocol WebSocket at /ws backed by an in-memory FAKE
 * fleet, drives Debian Chromium through the main screens and writes test-results/ui-preview/*.png.
 * Pass --serve to keep the server running and print the URL instead (open it in a browser yourself).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { WebSocketServer, type WebSocket } from 'ws';
import type {
  AgentInfo,
  SuspendResult,
  AgentMode,
  AgentStatus,
  AppInfo,
  DeployOptions,
  DeployProgress,
  FleetApi,
  FleetEventName,
  FleetEvents,
  HarnessMessage,
  HarnessRequest,
  HostInput,
  HostStatus,
  HostView,
  GpuProcess,
  GpuSample,
  HistoryPoint,
  HistoryRange,
  ImportPreview,
  MetricsHistory,
  MetricsSample,
  Prompt,
  EnergyReport,
  GateResult,
  HostIdle,
  IdleSettings,
  IdleStatus,
  Preferences,
  SleepPeriod,
  WakeOptions,
  WakeProgress,
  WakeResult,
} from '../preload/api.js';
import { computeEnergy } from '../main/sleep/energy/index.js';
import { applyPreferences, defaultPreferences } from '../main/preferences/index.js';

const ROOT = resolve('out/renderer');
const SHOTS = resolve('test-results/ui-preview');

class FakeError extends Error {
  constructor(
    readonly code: 'invalid-input' | 'not-found' | 'conflict' | 'failed',
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

// ---- the fake fleet ------------------------------------------------------------------------------

type Emit = <E extends FleetEventName>(event: E, payload: FleetEvents[E]) => void;

function view(i: HostInput): HostView {
  return {
    name: i.name,
    host: i.host,
    port: Number(i.port ?? 22),
    user: i.user ?? 'me',
    identityFile: i.identityFile ?? null,
    passwordEnv: i.passwordEnv ?? null,
    jump: i.jump ?? null,
    mac: i.mac ?? null,
    wolAddress: i.wolAddress ?? null,
    wolPort: i.wolPort !== undefined ? Number(i.wolPort) : null,
    hasStoredPassword: false,
    hasStoredPassphrase: false,
  };
}

// ---- fake agents and metrics ------------------------------------------------------------------------
//
// Shapes follow real `nvidia-smi --query-gpu=index,uuid,name,utilization.gpu,memory.used,memory.total,
// temperature.gpu,power.draw,power.limit --format=csv,nounits` captures: H100 80GB HBM3 (81559 MiB, 700 W),
// L40S (46068 MiB, 350 W), GeForce RTX 4080 SUPER (16376 MiB, 320 W) and H200 (143771 MiB, 700 W) in MIG
// mode, where utilization.gpu reads [N/A] (null here). Checked against /work/shared/fixtures/nvidia-smi.

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const AGENT_VERSION = '0.4.0';

interface GpuModel {
  name: string;
  memMiB: number;
  limitW: number;
  idleW: number;
  idleC: number;
  hotC: number;
}
const H100: GpuModel = { name: 'NVIDIA H100 80GB HBM3', memMiB: 81559, limitW: 700, idleW: 69, idleC: 38, hotC: 74 };
const L40S: GpuModel = { name: 'NVIDIA L40S', memMiB: 46068, limitW: 350, idleW: 36, idleC: 33, hotC: 71 };
const RTX4080S: GpuModel = { name: 'NVIDIA GeForce RTX 4080 SUPER', memMiB: 16376, limitW: 320, idleW: 25, idleC: 43, hotC: 68 };
const H200: GpuModel = { name: 'NVIDIA H200', memMiB: 143771, limitW: 700, idleW: 78, idleC: 28, hotC: 62 };

type Workload = 'training' | 'inference' | 'home' | 'mig' | 'none';

interface Profile {
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

const PROFILES: Record<string, Profile> = {
  'dgx-h100': { seed: 11, gpu: H100, gpuCount: 8, workload: 'training', cores: 224, memGiB: 2015, rapl: true, mig: false, gpuError: null, iface: 'ens21np0', mac: '9c:63:c0:1a:42:e0', ipv4: '10.0.4.21', hostname: 'dgx-h100-01', mode: 'system', proc: '/opt/conda/bin/python3.11', sleeps: false },
  'l40s-infer': { seed: 23, gpu: L40S, gpuCount: 4, workload: 'inference', cores: 64, memGiB: 503, rapl: true, mig: false, gpuError: null, iface: 'eno1', mac: '3c:ec:ef:6b:10:a4', ipv4: '10.0.4.31', hostname: 'l40s-infer', mode: 'system', proc: '/usr/bin/python3', sleeps: false },
  'home-4080': { seed: 37, gpu: RTX4080S, gpuCount: 1, workload: 'home', cores: 16, memGiB: 62.6, rapl: false, mig: false, gpuError: null, iface: 'enp5s0', mac: 'd8:bb:c1:44:9e:07', ipv4: '192.168.1.40', hostname: 'anna-desktop', mode: 'user', proc: '/usr/local/bin/ollama', sleeps: true },
  'h200-mig': { seed: 41, gpu: H200, gpuCount: 4, workload: 'mig', cores: 192, memGiB: 2015, rapl: true, mig: true, gpuError: null, iface: 'ens1f0np0', mac: 'b8:3f:d2:90:11:5c', ipv4: '10.0.6.5', hostname: 'h200-mig', mode: 'system', proc: '/usr/bin/python3', sleeps: false },
  'a6000-ws': { seed: 53, gpu: null, gpuCount: 0, workload: 'none', cores: 32, memGiB: 251, rapl: true, mig: false, gpuError: "nvidia-smi failed: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.", iface: 'eno2', mac: '00:25:90:aa:31:7f', ipv4: '10.0.5.21', hostname: 'a6000-ws', mode: 'system', proc: '', sleeps: false },
  bastion: { seed: 67, gpu: null, gpuCount: 0, workload: 'none', cores: 4, memGiB: 7.7, rapl: false, mig: false, gpuError: null, iface: 'ens5', mac: '0a:1f:7e:33:c2:91', ipv4: '172.31.18.4', hostname: 'bastion', mode: 'system', proc: '', sleeps: false },
};

/** Deterministic 0..1 hash. */
const hash = (n: number) => {
  const x = Math.sin(n * 12.9898 + 78.233) * 43758.5453;
  return x - Math.floor(x);
};
/** Smooth deterministic noise in -1..1. */
const wobble = (seed: number, t: number, period = 90_000) => {
  const a = t / period;
  return 0.55 * Math.sin(a + seed) + 0.3 * Math.sin(a * 2.7 + seed * 1.7) + 0.15 * Math.sin(a * 7.3 + seed * 3.1);
};
const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
const localHour = (t: number) => new Date(t).getHours() + new Date(t).getMinutes() / 60;

function asleep(p: Profile, t: number, now: number): boolean {
  if (!p.sleeps || now - t < 3 * 3600_000) return false;
  const h = localHour(t);
  return h >= 1 && h < 8;
}

/** 0..1 load of one GPU at time t. */
function gpuLoad(p: Profile, i: number, t: number): number {
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

function gpuMemFrac(p: Profile, i: number, t: number, load: number): number {
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

function gpuAt(p: Profile, i: number, t: number, jitter: number) {
  const m = p.gpu!;
  const load = gpuLoad(p, i, t);
  const util = clamp(Math.round(load * 100 + jitter * 2), 0, 100);
  const memTotal = m.memMiB * MiB;
  const memUsed = Math.round(gpuMemFrac(p, i, t, load) * m.memMiB) * MiB;
  const tempC = Math.round(m.idleC + (m.hotC - m.idleC) * Math.pow(load, 0.8) + 1.5 * wobble(p.seed + i, t, 300_000) + i * 0.7);
  const powerW = Math.round((m.idleW + (0.93 * m.limitW - m.idleW) * load + jitter * 6) * 100) / 100;
  return { load, util: p.mig ? null : util, memTotal, memUsed, tempC, powerW: clamp(powerW, m.idleW * 0.8, m.limitW) };
}

function systemAt(p: Profile, t: number) {
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
function historyPoint(p: Profile, t: number, stepMs: number): HistoryPoint {
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

function rawPoint(p: Profile, t: number): HistoryPoint {
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

const RESOLUTION: Record<HistoryRange, number> = { '1h': 10, '24h': 300, '7d': 1800 };
const SPAN: Record<HistoryRange, number> = { '1h': 3600_000, '24h': 86_400_000, '7d': 7 * 86_400_000 };

function fakeHistory(name: string, p: Profile, range: HistoryRange, now: number): MetricsHistory {
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

function fakeSample(p: Profile, t: number): MetricsSample {
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

function hex(n: number, len: number): string {
  let out = '';
  for (let k = 0; out.length < len; k++) out += Math.floor(hash(n * 1.37 + k) * 16).toString(16);
  return out;
}

function agentInfo(p: Profile, version = AGENT_VERSION, now = Date.now()): AgentInfo {
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

const DEPLOY_STEPS: { step: string; done: string; running: string; state?: 'skipped' }[] = [
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

class FakeFleet implements FleetApi {
  hosts: HostView[] = [];
  statuses = new Map<string, HostStatus>();
  appInfo: AppInfo = { version: '0.1.0', secretStorage: 'available', storeProblems: [], dataDir: '/home/me/.config/fleetwake' };
  emit: Emit = () => {};
  agents = new Map<string, AgentStatus>();
  /** Hosts whose agent pushes samples. */
  sampling = new Set<string>();
  /** Deploy step duration; the screenshot run slows it down to catch a deploy mid-way. */
  stepMs = 700;
  private timer: NodeJS.Timeout | undefined;
  private promptWaiters = new Map<string, (ok: boolean) => void>();

  seed(): void {
    const now = Date.now();
    const H = (i: HostInput, st: Omit<HostStatus, 'name' | 'since'>) => {
      this.hosts.push(view(i));
      this.statuses.set(i.name, { name: i.name, since: now, ...st });
    };
    const A = (name: string, state: AgentStatus['state'], extra: Partial<AgentStatus> = {}) => {
      const p = PROFILES[name];
      const info = p && (state === 'running' || state === 'outdated') ? agentInfo(p, extra.version ?? AGENT_VERSION, now) : undefined;
      this.agents.set(name, { name, state, since: now, ...(info ? { info, version: info.version, mode: info.mode } : {}), ...extra });
      if (state === 'running' || state === 'outdated') this.sampling.add(name);
    };
    H({ name: 'dgx-h100', host: '10.0.4.21', user: 'ml', jump: 'bastion', mac: '9c:63:c0:1a:42:e0' }, { state: 'online' });
    A('dgx-h100', 'running');
    H({ name: 'l40s-infer', host: '10.0.4.31', user: 'ml', jump: 'bastion' }, { state: 'online' });
    A('l40s-infer', 'running');
    H({ name: 'home-4080', host: '192.168.1.40', port: 2222, user: 'anna', mac: 'd8:bb:c1:44:9e:07' }, { state: 'online' });
    A('home-4080', 'running');
    H({ name: 'h200-mig', host: '10.0.6.5', user: 'ops', identityFile: '~/.ssh/id_ed25519' }, { state: 'online' });
    A('h200-mig', 'outdated', { version: '0.3.2', message: `Agent 0.3.2 is older than this app’s ${AGENT_VERSION}. Upgrade to get process names and 7-day history.` });
    H({ name: 'a6000-ws', host: '10.0.5.21', user: 'ml', jump: 'bastion' }, { state: 'online' });
    A('a6000-ws', 'running');
    H({ name: 'bastion', host: 'bastion.example.net', user: 'ops', identityFile: '~/.ssh/id_ed25519' }, { state: 'online' });
    A('bastion', 'not-installed');
    this.seedRest(now);
    this.agents.set('gpu-a100-1', {
      name: 'gpu-a100-1',
      state: 'unreachable',
      since: now,
      version: '0.4.0',
      message: 'The agent socket /run/fleetwake/agent.sock refused the connection (ECONNREFUSED): the service is not running.',
    });
    this.startSampling();
  }

  startSampling(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      const t = Date.now();
      const samples = [...this.sampling]
        .filter((n) => this.statuses.get(n)?.state === 'online' && PROFILES[n])
        .map((name) => ({ name, sample: fakeSample(PROFILES[name]!, t) }));
      if (samples.length) this.emit('metrics', { samples });
    }, 1000);
    this.timer.unref();
  }
  stopSampling(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private seedRest(now: number): void {
    const H = (i: HostInput, st: Omit<HostStatus, 'name' | 'since'>) => {
      this.hosts.push(view(i));
      this.statuses.set(i.name, { name: i.name, since: now, ...st });
    };
    H(
      { name: 'gpu-a100-1', host: '10.0.4.11', user: 'ml', jump: 'bastion', mac: '3c:ec:ef:10:22:01' },
      { state: 'online', lastError: 'Connection timed out after 10 s' },
    );
    H({ name: 'gpu-4090-home', host: '192.168.1.40', port: 2222, user: 'anna', mac: '04:7c:16:d2:8a:31' }, { state: 'waking' });
    H({ name: 'gpu-h100-2', host: '10.0.4.12', user: 'ml', jump: 'bastion', mac: '9c:63:c0:1a:42:e1' }, { state: 'asleep' });
    this.statuses.set('gpu-h100-2', { ...this.statuses.get('gpu-h100-2')!, since: now - (3 * 3600 + 1480) * 1000 });
    H({ name: 'tower-3090', host: '192.168.1.52', user: 'anna', mac: '2c:f0:5d:11:7e:90' }, { state: 'asleep' });
    this.statuses.set('tower-3090', { ...this.statuses.get('tower-3090')!, since: now - 26 * 3600_000 });
    H(
      { name: 'render-farm', host: 'render.lan', user: 'root', identityFile: '/home/me/.ssh/render_rsa' },
      { state: 'auth-failed', error: 'The server rejected the key ~/.ssh/render_rsa (publickey). Check the user name and that the key is in authorized_keys.' },
    );
    H(
      { name: 'new-box', host: '10.0.9.3', user: 'ubuntu' },
      {
        state: 'host-key-unknown',
        error: 'First connection: confirm the server’s host key.',
        keyType: 'ssh-ed25519',
        fingerprint: 'SHA256:m3b9ZkR0q7yHcY2l1Vb6T9pXo4eJr8sNfW5aQdKgUiE',
      },
    );
    H(
      { name: 'lab-3090', host: 'lab-3090.local', user: 'student' },
      {
        state: 'host-key-changed',
        error: 'The server presented a different host key than the one you trusted.',
        keyType: 'ecdsa-sha2-nistp256',
        fingerprint: 'SHA256:Q1n8cX4vTz0oPp6wR2yHs9LdK3mB7fJe5aGuVi1Zt0A',
        expectedFingerprint: 'SHA256:x7TqL2sWv9bN4mR1cK8pY0hJ6dF3gA5eZuOi2nVtEwM',
      },
    );
    H({ name: 'old-tower', host: '192.168.1.77', user: 'anna' }, { state: 'error', error: 'Agent socket closed unexpectedly (ECONNRESET).' });
  }

  private setStatus(st: Omit<HostStatus, 'since'>): HostStatus {
    const full = { ...st, since: Date.now() };
    this.statuses.set(st.name, full);
    this.emit('host-status', full);
    return full;
  }

  private need(name: string): HostView {
    const h = this.hosts.find((x) => x.name === name);
    if (!h) throw new FakeError('not-found', `No host named ${name}.`);
    return h;
  }

  private validate(input: HostInput, except?: string): void {
    if (!input.name) throw new FakeError('invalid-input', 'Give the host a name.', 'name');
    if (input.name !== except && this.hosts.some((h) => h.name === input.name))
      throw new FakeError('conflict', `A host named ${input.name} already exists. Pick another name.`, 'name');
    if (!input.host) throw new FakeError('invalid-input', 'Enter a hostname or IP address.', 'host');
    if (input.port !== undefined) {
      const p = Number(input.port);
      if (!Number.isInteger(p) || p < 1 || p > 65535)
        throw new FakeError('invalid-input', 'Port must be a whole number from 1 to 65535.', 'port');
    }
  }

  async getAppInfo() {
    return this.appInfo;
  }
  async listHosts() {
    return this.hosts;
  }
  async addHost(input: HostInput) {
    this.validate(input);
    const h = view(input);
    this.hosts.push(h);
    this.emit('hosts-changed', this.hosts);
    this.setStatus({ name: h.name, state: 'connecting' });
    // Like the real core: a first connection stops at the host key question.
    setTimeout(() => {
      if (!this.hosts.some((x) => x.name === h.name)) return;
      this.setStatus({
        name: h.name,
        state: 'host-key-unknown',
        error: 'First connection: confirm the server’s host key.',
        keyType: 'ssh-ed25519',
        fingerprint: 'SHA256:' + randomBytes(32).toString('base64').replace(/=+$/, ''),
      });
    }, 300);
    return h;
  }
  async updateHost(name: string, input: HostInput) {
    this.need(name);
    this.validate(input, name);
    const h = view(input);
    this.hosts = this.hosts.map((x) => (x.name === name ? h : x));
    this.emit('hosts-changed', this.hosts);
    return h;
  }
  async removeHost(name: string) {
    this.need(name);
    this.hosts = this.hosts.filter((h) => h.name !== name);
    this.statuses.delete(name);
    this.emit('hosts-changed', this.hosts);
  }
  async previewSshConfigImport(file?: string): Promise<ImportPreview> {
    return {
      file: file ?? '/home/me/.ssh/config',
      warnings: ['Line 41: Match blocks are not supported and were skipped.', 'Host * defaults were applied to every entry.'],
      candidates: [
        { alias: 'gpu-a6000', input: { name: 'gpu-a6000', host: '10.0.5.21', user: 'ml', identityFile: '~/.ssh/id_ed25519', jump: 'bastion' }, errors: [], exists: false, source: '/home/me/.ssh/config:12' },
        { alias: 'workstation', input: { name: 'workstation', host: 'ws.lan', user: 'anna', port: 2222 }, errors: [], exists: false, source: '/home/me/.ssh/config:20' },
        { alias: 'bastion', input: { name: 'bastion', host: 'bastion.example.net', user: 'ops' }, errors: [], exists: true, source: '/home/me/.ssh/config:3' },
        { alias: 'legacy-*', input: { name: 'legacy-*', host: '' }, errors: [{ field: 'name', message: 'Wildcard patterns cannot be imported as hosts.' }], exists: false, source: '/home/me/.ssh/config:33' },
      ],
    };
  }
  async importHosts(inputs: HostInput[]) {
    const added: HostView[] = [];
    const failed: { name: string; error: { field: string; message: string } }[] = [];
    for (const i of inputs) {
      try {
        added.push(await this.addHost(i));
      } catch (e) {
        const err = e as FakeError;
        failed.push({ name: i.name, error: { field: err.field ?? 'name', message: err.message } });
      }
    }
    return { added, failed };
  }
  async getStatuses() {
    return [...this.statuses.values()];
  }
  async connectHost(name: string) {
    this.need(name);
    return this.setStatus({ name, state: 'connecting' });
  }
  async disconnectHost(name: string) {
    this.need(name);
    this.setStatus({ name, state: 'offline' });
  }
  async trustHostKey(name: string, _fingerprint: string) {
    this.need(name);
    return this.setStatus({ name, state: 'online' });
  }
  async answerPrompt(id: string, answers: string[] | null, _remember: boolean) {
    this.promptWaiters.get(id)?.(answers !== null);
    this.promptWaiters.delete(id);
    this.emit('prompt-closed', { id });
  }
  async forgetSecrets(name: string) {
    this.need(name);
  }
  async openExternal(_url: string) {}

  // ---- agents ----
  async getAgentStatuses() {
    return [...this.agents.values()];
  }
  private setAgent(st: Omit<AgentStatus, 'since'>): AgentStatus {
    const full = { ...st, since: Date.now() };
    this.agents.set(st.name, full);
    this.emit('agent-status', full);
    return full;
  }
  private progress(name: string, operation: DeployProgress['operation'], step: string, state: DeployProgress['state'], message: string) {
    this.emit('deploy-progress', { name, operation, step, state, message, at: Date.now() });
  }
  private async askSudo(name: string): Promise<boolean> {
    const id = `sudo-${name}-${Date.now()}`;
    const ok = new Promise<boolean>((r) => this.promptWaiters.set(id, r));
    this.emit('prompt', {
      id,
      host: name,
      kind: 'sudo-password',
      title: `sudo on ${name}`,
      instructions: '',
      prompts: [{ text: `[sudo] password for ${this.need(name).user}:`, echo: false }],
      canRemember: true,
    });
    return ok;
  }
  private runSteps(name: string, operation: DeployProgress['operation'], steps: typeof DEPLOY_STEPS, then: () => void) {
    void (async () => {
      for (const st of steps) {
        this.progress(name, operation, st.step, 'running', st.running);
        if (this.agents.get(name)?.state === 'installing') this.setAgent({ ...this.agents.get(name)!, message: st.running });
        if (st.step === 'sudo' && !(await this.askSudo(name))) {
          this.progress(name, operation, st.step, 'failed', 'sudo password not given: cancelled');
          this.setAgent({ name, state: 'not-installed', message: 'Install cancelled at the sudo password.' });
          return;
        }
        await new Promise((r) => setTimeout(r, this.stepMs));
        this.progress(name, operation, st.step, st.state ?? 'done', st.done);
      }
      then();
    })();
  }
  async deployAgent(name: string, _options?: DeployOptions) {
    this.need(name);
    const st = this.setAgent({ name, state: 'installing', message: 'Starting…' });
    this.runSteps(name, 'deploy', DEPLOY_STEPS, () => {
      const p = PROFILES[name];
      const info = p ? agentInfo(p) : undefined;
      this.setAgent({ name, state: 'running', version: AGENT_VERSION, ...(info ? { info, mode: info.mode } : {}) });
      this.sampling.add(name);
    });
    return st;
  }
  async upgradeAgent(name: string) {
    this.need(name);
    const st = this.setAgent({ ...this.agents.get(name)!, state: 'installing', message: `Upgrading to ${AGENT_VERSION}…` });
    const steps = DEPLOY_STEPS.filter((s) => ['upload', 'verify', 'install', 'service', 'handshake'].includes(s.step));
    this.runSteps(name, 'upgrade', steps, () => {
      const p = PROFILES[name];
      const info = p ? agentInfo(p) : undefined;
      this.setAgent({ name, state: 'running', version: AGENT_VERSION, ...(info ? { info, mode: info.mode } : {}) });
    });
    return st;
  }
  async uninstallAgent(name: string, options?: { purge?: boolean }) {
    this.need(name);
    this.sampling.delete(name);
    this.progress(name, 'uninstall', 'service', 'done', 'Stopped and disabled fleetwake-agent.service');
    this.progress(name, 'uninstall', 'files', 'done', 'Removed /opt/fleetwake');
    this.progress(name, 'uninstall', 'data', options?.purge ? 'done' : 'skipped', options?.purge ? 'Removed /var/lib/fleetwake and /etc/fleetwake' : 'Kept data and config');
    return this.setAgent({ name, state: 'not-installed' });
  }
  async getLatestMetrics(name: string) {
    this.need(name);
    const p = PROFILES[name];
    return p && this.sampling.has(name) ? fakeSample(p, Date.now()) : null;
  }
  async getMetricsHistory(name: string, range: HistoryRange): Promise<MetricsHistory> {
    this.need(name);
    const p = PROFILES[name];
    if (!p || !this.sampling.has(name)) return { name, range, resolutionSeconds: RESOLUTION[range], points: [] };
    return fakeHistory(name, p, range, Date.now());
  }

  // ---- sleep, wake, idle, energy -------------------------------------------------------------------

  prefs: Preferences = { ...defaultPreferences(), pricePerKwh: 0.32 };
  idleSettings = new Map<string, IdleSettings>();
  idleSince = new Map<string, number>();
  /** Wake durations per step (ms from the packet); the screenshot run uses these. */
  wakeStepMs = { network: 1500, ssh: 3200, agent: 4200, fail: 3500 };

  private settingsOf(name: string): IdleSettings {
    let s = this.idleSettings.get(name);
    if (!s) {
      s = { cpuIdleThreshold: 10, gpuIdleThreshold: 5, windowSeconds: 300, idleTimeoutSeconds: 1800, minSamples: 30, enableSuspend: name !== 'dgx-h100', networkThresholdBytesPerSec: 50_000 };
      this.idleSettings.set(name, s);
    }
    return s;
  }

  private idleStatusOf(name: string): IdleStatus {
    const now = Date.now();
    const settings = this.settingsOf(name);
    const G = (gate: GateResult['gate'], status: GateResult['status'], reason: string, blocking = status === 'busy'): GateResult => ({ gate, status, blocking, reason });
    const enabled = G('disabled', settings.enableSuspend ? 'clear' : 'busy', settings.enableSuspend ? 'enableSuspend is on' : 'enableSuspend is off in the idle settings');
    const base = { settings, dryRun: false, suspendCommand: ['systemctl', 'suspend'], samples: 184 };
    if (name === 'a6000-ws' || name === 'home-4080') {
      // Idle, counting down.
      const idleSince = this.idleSince.get(name) ?? now - (name === 'a6000-ws' ? 17.5 : 4) * 60_000;
      this.idleSince.set(name, idleSince);
      const suspendAt = settings.enableSuspend ? idleSince + settings.idleTimeoutSeconds * 1000 : null;
      return {
        ...base,
        state: 'idle',
        idleSince,
        suspendAt,
        gates: [
          enabled,
          G('warming_up', 'clear', '184 samples (needs 30)'),
          G('below_timeout', 'clear', `idle for ${Math.round((now - idleSince) / 60_000)} min of ${Math.round(settings.idleTimeoutSeconds / 60)} min`, false),
          G('high_cpu', 'clear', `CPU 2.1 % over 5 min (threshold ${settings.cpuIdleThreshold} %)`),
          name === 'a6000-ws'
            ? G('high_gpu', 'unavailable', 'nvidia-smi failed: the NVIDIA driver is not loaded', false)
            : G('high_gpu', 'clear', `GPU 0 % over 5 min (threshold ${settings.gpuIdleThreshold} %)`),
          G('gpu_processes', name === 'a6000-ws' ? 'unavailable' : 'clear', name === 'a6000-ws' ? 'nvidia-smi failed' : 'only kwin_wayland (ignored: display server)', false),
          G('inhibit', 'clear', 'no systemd-inhibit locks for sleep'),
          G('sessions', 'clear', 'no SSH or desktop sessions active in 10 min'),
          G('network', 'clear', `4.1 KB/s (threshold ${Math.round(settings.networkThresholdBytesPerSec / 1000)} KB/s)`),
          G('ollama_busy', 'clear', name === 'home-4080' ? 'ollama: no model loaded' : 'ollama not installed', false),
        ],
      };
    }
    return {
      ...base,
      state: 'active',
      idleSince: null,
      suspendAt: null,
      gates: [
        enabled,
        G('warming_up', 'clear', '184 samples (needs 30)'),
        G('below_timeout', 'busy', 'not idle', false),
        G('high_cpu', 'busy', `CPU 41 % over 5 min (threshold ${settings.cpuIdleThreshold} %)`),
        G('high_gpu', 'busy', `GPU 97 % over 5 min (threshold ${settings.gpuIdleThreshold} %)`),
        G('gpu_processes', 'busy', '8 compute processes: python3.11 (pid 111011 …)'),
        G('inhibit', 'clear', 'no systemd-inhibit locks for sleep'),
        G('sessions', 'busy', '1 SSH session (ml from 10.0.0.7, 3 min ago)'),
        G('network', 'busy', `410 MB/s (threshold ${Math.round(settings.networkThresholdBytesPerSec / 1000)} KB/s)`),
        G('ollama_busy', 'clear', 'ollama not installed', false),
        G('custom_check', 'unavailable', '/usr/local/bin/check-slurm timed out after 10 s', true),
      ],
    };
  }

  private sleepsOf(name: string): SleepPeriod[] {
    const now = Date.now();
    const out: SleepPeriod[] = [];
    const day = 86_400_000;
    const midnight = new Date(now);
    midnight.setHours(0, 0, 0, 0);
    const nightly = (days: number, fromH: number, toH: number, wol = true) => {
      for (let d = days; d >= 1; d--) {
        const start = midnight.getTime() - d * day + fromH * 3600_000 + hash(d * 7 + name.length) * 40 * 60_000;
        const end = midnight.getTime() - d * day + toH * 3600_000 + hash(d * 3) * 50 * 60_000;
        if (start >= now) continue;
        out.push({ suspendedAt: start, resumedAt: Math.min(end, now), reason: 'idle', wolArmed: wol, wolMessage: wol ? 'ethtool -s enp5s0 wol g: ok' : 'ethtool: Operation not supported' });
      }
    };
    switch (name) {
      case 'home-4080':
        nightly(29, 1, 8);
        out.push({ suspendedAt: now - 2 * day - 5 * 3600_000, resumedAt: now - 2 * day - 3 * 3600_000, reason: 'manual', wolArmed: true, wolMessage: 'ethtool -s enp5s0 wol g: ok' });
        break;
      case 'a6000-ws':
        nightly(12, 20.5, 31);
        break;
      case 'gpu-h100-2':
        nightly(20, 23, 30);
        out.push({ suspendedAt: this.statuses.get(name)!.since, resumedAt: null, reason: 'idle', wolArmed: true, wolMessage: 'ethtool -s ens21np0 wol g: ok' });
        break;
      case 'tower-3090':
        nightly(6, 0, 9, false);
        out.push({ suspendedAt: this.statuses.get(name)!.since, resumedAt: null, reason: 'manual', wolArmed: false, wolMessage: 'ethtool: Operation not supported' });
        break;
      case 'gpu-4090-home':
        nightly(15, 2, 7);
        break;
    }
    return out.sort((a, b) => a.suspendedAt - b.suspendedAt);
  }

  private wakeTimers: NodeJS.Timeout[] = [];
  private wakeStep(name: string, step: WakeProgress['step'], message: string) {
    this.emit('wake-progress', { name, step, message, at: Date.now() });
  }

  /** The waking card for screenshots: packet sent, network up, then it waits for SSH. */
  demoWaking(name: string): void {
    this.setStatus({ name, state: 'waking' });
    this.wakeStep(name, 'packet-sent', 'Sent to 192.168.1.255:9 and 255.255.255.255:9 (3 packets)');
    this.wakeTimers.push(setTimeout(() => this.wakeStep(name, 'network-up', '192.168.1.40 answers ARP'), 1200));
  }

  async wakeHost(name: string, options?: WakeOptions): Promise<WakeResult> {
    const h = this.need(name);
    if (!h.mac) throw new FakeError('invalid-input', `${name} has no MAC address: add one (Edit) to wake it with Wake-on-LAN.`, 'mac');
    const t0 = Date.now();
    this.setStatus({ name, state: 'waking' });
    this.wakeStep(name, 'packet-sent', `Sent to ${h.host.replace(/\.\d+$/, '.255')}:9 (3 packets)`);
    const fails = name === 'tower-3090';
    const wait = (ms: number) => new Promise<void>((r) => this.wakeTimers.push(setTimeout(r, ms)));
    if (fails) {
      await wait(this.wakeStepMs.fail);
      this.wakeStep(name, 'failed', 'No answer within 120 s. Wake-on-LAN was not armed before it slept (ethtool: Operation not supported): wake it by hand and enable WoL in its BIOS.');
      this.setStatus({ name, state: 'asleep', error: 'Did not wake: no answer within 120 s.' });
      if (options?.wait) throw new FakeError('failed', `${name} did not wake within 120 s.`);
      return { name, sentVia: 'local broadcast', targets: [{ address: '192.168.1.255', port: 9 }], seconds: 120, state: 'asleep' };
    }
    await wait(this.wakeStepMs.network);
    this.wakeStep(name, 'network-up', `${h.host} answers ARP`);
    await wait(this.wakeStepMs.ssh - this.wakeStepMs.network);
    this.wakeStep(name, 'ssh-up', `SSH to ${h.user}@${h.host} works`);
    await wait(this.wakeStepMs.agent - this.wakeStepMs.ssh);
    this.wakeStep(name, 'agent-up', `Agent ${AGENT_VERSION} answered`);
    this.setStatus({ name, state: 'online' });
    return { name, sentVia: 'local broadcast', targets: [{ address: '10.0.4.255', port: 9 }], seconds: (Date.now() - t0) / 1000, state: 'online' };
  }

  async suspendHost(name: string): Promise<SuspendResult> {
    this.need(name);
    if (this.agents.get(name)?.state !== 'running') throw new FakeError('failed', `The agent on ${name} is not running.`);
    setTimeout(() => {
      this.setStatus({ name, state: 'asleep' });
      this.setAgent({ ...this.agents.get(name)!, state: 'unreachable', message: 'host asleep' });
    }, 800);
    return { name, at: Date.now(), dryRun: false };
  }

  async getIdleStatus(name: string): Promise<HostIdle> {
    this.need(name);
    if (this.agents.get(name)?.state !== 'running') return { name, status: null, message: 'The agent is not running.' };
    return { name, status: this.idleStatusOf(name) };
  }

  async configureIdle(name: string, settings: Partial<IdleSettings>): Promise<HostIdle> {
    this.need(name);
    const cur = this.settingsOf(name);
    const bad = (field: keyof IdleSettings, msg: string) => new FakeError('invalid-input', msg, field);
    const num = (k: keyof IdleSettings) => settings[k] as number | undefined;
    if (num('idleTimeoutSeconds') !== undefined && !(Number.isFinite(num('idleTimeoutSeconds')) && num('idleTimeoutSeconds')! >= 300 && num('idleTimeoutSeconds')! <= 86_400))
      throw bad('idleTimeoutSeconds', 'idleTimeoutSeconds must be between 300 (5 min) and 86400 (24 h).');
    for (const k of ['cpuIdleThreshold', 'gpuIdleThreshold'] as const)
      if (num(k) !== undefined && !(Number.isFinite(num(k)) && num(k)! >= 0 && num(k)! <= 100)) throw bad(k, `${k} must be a percentage from 0 to 100.`);
    if (num('windowSeconds') !== undefined && !(Number.isInteger(num('windowSeconds')) && num('windowSeconds')! >= 30)) throw bad('windowSeconds', 'windowSeconds must be a whole number of at least 30.');
    this.idleSettings.set(name, { ...cur, ...settings });
    const idle: HostIdle = { name, status: this.idleStatusOf(name) };
    this.emit('idle-status', idle);
    return idle;
  }

  async getSleepHistory(name: string): Promise<SleepPeriod[]> {
    this.need(name);
    return this.sleepsOf(name);
  }

  async getEnergyReport(): Promise<EnergyReport> {
    const until = Date.now();
    const since = until - 30 * 86_400_000;
    const periods = Object.fromEntries(this.hosts.map((h) => [h.name, this.sleepsOf(h.name)]));
    return computeEnergy({
      periods,
      since,
      until,
      prefs: this.prefs,
      hosts: this.hosts.map((h) => h.name),
      measuredIdleWatts: { 'home-4080': 68, 'a6000-ws': 142, 'gpu-h100-2': 1180 },
    });
  }

  async getPreferences(): Promise<Preferences> {
    return this.prefs;
  }

  async setPreferences(patch: Partial<Preferences>): Promise<Preferences> {
    try {
      this.prefs = applyPreferences(this.prefs, patch);
    } catch (err) {
      const e = err as { message: string; field?: string };
      throw new FakeError('invalid-input', e.message, e.field);
    }
    return this.prefs;
  }
}

// ---- server ----------------------------------------------------------------------------------------

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

async function startServer(fleet: FakeFleet) {
  const token = randomBytes(16).toString('hex');
  const sockets = new Set<WebSocket>();
  fleet.emit = (event, payload) => {
    const msg: HarnessMessage = { kind: 'event', event, payload };
    for (const s of sockets) s.send(JSON.stringify(msg));
  };

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const rel = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname).replace(/^\/+/, '');
    const file = normalize(join(ROOT, rel));
    if (!file.startsWith(ROOT + sep)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      res.end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });

  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/ws' || url.searchParams.get('token') !== token) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      ws.on('message', async (data) => {
        const req = JSON.parse(String(data)) as HarnessRequest;
        let msg: HarnessMessage;
        try {
          const fn = fleet[req.method] as (...a: unknown[]) => Promise<unknown>;
          const value = await fn.apply(fleet, req.args);
          msg = { kind: 'result', id: req.id, result: { ok: true, value } };
        } catch (e) {
          const err = e as FakeError;
          const error = err.field ? { code: err.code, message: err.message, field: err.field } : { code: err.code ?? 'failed', message: err.message };
          msg = { kind: 'result', id: req.id, result: { ok: false, error } };
        }
        ws.send(JSON.stringify(msg));
      });
    });
  });

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/#token=${token}`,
    dropSockets: () => sockets.forEach((s) => s.terminate()),
    close: () => {
      sockets.forEach((s) => s.terminate());
      wss.close();
      server.close();
    },
  };
}

// ---- screenshots -------------------------------------------------------------------------------------

async function shot(page: Page, name: string) {
  await page.waitForTimeout(450); // let transitions (and meter widths) settle
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
  console.log(`  ${join('test-results/ui-preview', `${name}.png`)}`);
}

async function main() {
  await readFile(join(ROOT, 'index.html')).catch(() => {
    console.error('out/renderer/index.html is missing: run `npx vite build` first.');
    process.exit(1);
  });
  const fleet = new FakeFleet();
  const srv = await startServer(fleet);

  if (process.argv.includes('--serve')) {
    fleet.seed();
    console.log(`UI preview with a fake fleet: ${srv.url}`);
    return;
  }

  await mkdir(SHOTS, { recursive: true });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const problems: string[] = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`page error: ${e.message} ${e.stack ?? ""}`));

    console.log('screenshots:');
    // 1. empty fleet
    await page.goto(srv.url);
    await page.getByTestId('empty-state').waitFor();
    await shot(page, '01-empty');

    // 2. populated fleet, with store / keychain banners
    fleet.seed();
    fleet.appInfo = {
      ...fleet.appInfo,
      secretStorage: 'basic_text',
      storeProblems: ['hosts.json was not valid JSON; it was moved aside to hosts.json.corrupt-2025-11-23 and an empty fleet started.'],
    };
    await page.reload();
    await page.getByTestId('host-card-bastion').waitFor();
    await shot(page, '02-fleet-with-banners');
    fleet.appInfo = { ...fleet.appInfo, secretStorage: 'available', storeProblems: [] };
    await page.reload();
    await page.getByTestId('host-card-bastion').waitFor();
    await shot(page, '03-fleet');

    // 3. add host, with a field error from the core
    await page.getByRole('button', { name: 'Add host' }).click();
    await page.getByLabel('Name').fill('gpu-box-9');
    await page.getByLabel('Host').fill('10.0.7.9');
    await page.getByLabel('Port').fill('70000');
    await page.getByLabel('User').fill('ml');
    await page.getByLabel('Identity file').fill('~/.ssh/id_ed25519');
    await page.getByRole('button', { name: 'Save host' }).click();
    await page.getByTestId('field-error-port').waitFor();
    await shot(page, '04-add-host-error');
    // Fix it and save: the host key question for the new host opens by itself.
    await page.getByLabel('Port').fill('22');
    await page.getByRole('button', { name: 'Save host' }).click();
    await page.getByTestId('host-dialog').waitFor({ state: 'detached' });
    await page.getByTestId('host-key-dialog').waitFor();
    await page.getByTestId('host-card-gpu-box-9').waitFor();
    await page.getByRole('dialog').getByRole('button', { name: 'Trust and connect' }).click();
    await page.getByTestId('host-key-dialog').waitFor({ state: 'detached' });
    await page.locator('[data-testid="host-card-gpu-box-9"][data-state="online"]').waitFor();
    await page.getByTestId('host-card-gpu-box-9').getByRole('button', { name: 'Remove' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Remove host' }).click();
    await page.getByTestId('host-card-gpu-box-9').waitFor({ state: 'detached' });

    // 4. host key unknown / changed
    await page.getByTestId('host-card-new-box').getByRole('button', { name: 'Review key' }).click();
    await page.getByTestId('host-key-fingerprint').waitFor();
    await shot(page, '05-host-key-unknown');
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
    await page.getByTestId('host-card-lab-3090').getByRole('button', { name: 'Review key' }).click();
    await page.getByLabel(/Type the new fingerprint/).fill('uVi1Zt0');
    await shot(page, '06-host-key-changed');
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();

    // 5. prompt
    const prompt: Prompt = {
      id: 'p1',
      host: 'render-farm',
      kind: 'passphrase',
      title: 'Unlock SSH key',
      instructions: 'render-farm uses the key /home/me/.ssh/render_rsa, which is protected by a passphrase.',
      prompts: [{ text: 'Passphrase', echo: false }],
      canRemember: true,
    };
    fleet.emit('prompt', prompt);
    await page.getByTestId('prompt-dialog').waitFor();
    await page.getByLabel('Passphrase').fill('hunter2hunter2');
    await shot(page, '07-prompt');
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
    await page.getByTestId('prompt-dialog').waitFor({ state: 'detached' });

    // 6. import
    await page.getByRole('button', { name: 'Import from SSH config' }).click();
    await page.getByRole('button', { name: 'Preview' }).click();
    await page.getByTestId('import-preview').waitFor();
    await shot(page, '08-import');
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();

    // 7. remove confirm
    await page.getByTestId('host-card-old-tower').getByRole('button', { name: 'Remove' }).click();
    await shot(page, '09-remove-confirm');
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();

    // 8. agents and live metrics
    await page.getByTestId('gpu-row-dgx-h100-7').waitFor();
    await page.getByTestId('metric-cpu-a6000-ws').waitFor();
    await page.waitForTimeout(1200);
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot(page, '20-fleet-metrics');
    await page.screenshot({ path: join(SHOTS, '21-fleet-metrics-full.png'), fullPage: true });
    await page.getByTestId('host-card-h200-mig').screenshot({ path: join(SHOTS, '22-agent-outdated-card.png') });
    await page.getByTestId('host-card-gpu-a100-1').screenshot({ path: join(SHOTS, '22b-agent-unreachable-card.png') });

    // host page, 1 h then 7 d
    await page.getByTestId('host-open-dgx-h100').click();
    await page.getByTestId('host-page-dgx-h100').waitFor();
    await page.getByTestId('chart-gpu-util-7').locator('svg.recharts-surface').waitFor();
    await shot(page, '23-host-page-1h');
    await page.screenshot({ path: join(SHOTS, '24-host-page-1h-full.png'), fullPage: true });
    await page.getByTestId('range-7d').click();
    await page.locator('[data-testid="range-7d"][aria-pressed="true"]').waitFor();
    await page.waitForTimeout(600);
    await page.screenshot({ path: join(SHOTS, '25-host-page-7d-full.png'), fullPage: true });
    await page.getByTestId('host-page-back').click();
    await page.getByTestId('host-open-h200-mig').click();
    await page.getByTestId('chart-gpu-util-0').waitFor();
    await page.waitForTimeout(600);
    await page.screenshot({ path: join(SHOTS, '26-host-page-mig-full.png'), fullPage: true });
    await page.getByTestId('host-page-back').click();
    await page.getByTestId('host-open-home-4080').click();
    await page.getByTestId('range-24h').click();
    await page.getByTestId('chart-gpu-util-0').waitFor();
    await page.waitForTimeout(600);
    await page.screenshot({ path: join(SHOTS, '27-host-page-home-24h-full.png'), fullPage: true });
    await page.getByTestId('host-page-back').click();

    // deploy: sudo password, then progress on the card and on the host page
    fleet.stepMs = 4000;
    await page.getByTestId('host-card-bastion').getByRole('button', { name: 'Install agent' }).click();
    await page.getByTestId('prompt-dialog').waitFor();
    await page.getByTestId('prompt-input-0').fill('correct horse');
    await shot(page, '28-sudo-prompt');
    await page.getByRole('dialog').getByRole('button', { name: 'Continue' }).click();
    await page.locator('[data-testid="agent-state-bastion"][data-state="installing"]').waitFor();
    await page.waitForTimeout(4500);
    await page.getByTestId('host-card-bastion').screenshot({ path: join(SHOTS, '29-deploy-card.png') });
    await page.getByTestId('host-open-bastion').click();
    await page.getByTestId('deploy-progress').waitFor();
    await page.waitForTimeout(4200);
    await shot(page, '30-deploy-in-progress');
    fleet.stepMs = 300;
    await page.locator('[data-testid="deploy-progress"][data-state="done"]').waitFor({ timeout: 60_000 });
    await page.waitForTimeout(1500);
    await shot(page, '31-deploy-done');
    await page.getByRole('button', { name: 'Uninstall…' }).click();
    await page.getByTestId('uninstall-purge').check();
    await shot(page, '32-uninstall-confirm');
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
    await page.getByTestId('host-page-back').click();

    // 11. sleep & wake: an asleep card, a waking one with live progress, a failed wake
    await page.evaluate(() => window.scrollTo(0, 0));
    fleet.demoWaking('gpu-4090-home');
    await page.getByTestId('wake-progress-gpu-4090-home').waitFor();
    await page.waitForTimeout(1600);
    await page.screenshot({ path: join(SHOTS, '50-fleet-sleep-full.png'), fullPage: true });
    await page.getByTestId('host-card-gpu-h100-2').screenshot({ path: join(SHOTS, '51-card-asleep.png') });
    await page.getByTestId('host-card-gpu-4090-home').screenshot({ path: join(SHOTS, '52-card-waking.png') });
    await page.getByTestId('wake-gpu-h100-2').click();
    await page.locator('[data-testid="wake-progress-gpu-h100-2"] [data-step="network-up"][data-state="done"]').waitFor();
    await page.waitForTimeout(300);
    await page.getByTestId('host-card-gpu-h100-2').screenshot({ path: join(SHOTS, '53-card-waking-mid.png') });
    await page.locator('[data-testid="host-card-gpu-h100-2"][data-state="online"]').waitFor({ timeout: 15_000 });
    await page.getByTestId('host-card-gpu-h100-2').screenshot({ path: join(SHOTS, '53b-card-woke.png') });
    await page.getByTestId('wake-tower-3090').click();
    await page.locator('[data-testid="wake-progress-tower-3090"][data-state="failed"]').waitFor({ timeout: 15_000 });
    await page.waitForTimeout(300);
    await page.getByTestId('host-card-tower-3090').screenshot({ path: join(SHOTS, '54-card-wake-failed.png') });
    await page.getByTestId('suspend-a6000-ws').click();
    await page.getByTestId('suspend-dialog').waitFor();
    await shot(page, '55-suspend-confirm');
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();

    // 12. idle panel: counting down, then a field error, then an active host
    await page.getByTestId('host-open-a6000-ws').click();
    await page.getByTestId('suspend-countdown').waitFor();
    const c1 = await page.getByTestId('suspend-countdown').textContent();
    await page.waitForTimeout(2100);
    const c2 = await page.getByTestId('suspend-countdown').textContent();
    console.log(`  countdown ticks: ${c1} -> ${c2}`);
    if (c1 === c2) problems.push(`countdown did not tick (${c1})`);
    await page.locator('.host-panels-idle').screenshot({ path: join(SHOTS, '56-idle-panel.png') });
    await page.screenshot({ path: join(SHOTS, '57-host-page-idle-full.png'), fullPage: true });
    await page.getByTestId('idle-field-idleTimeoutSeconds').fill('2');
    await page.getByTestId('idle-save').click();
    await page.getByTestId('idle-error-idleTimeoutSeconds').waitFor();
    await page.locator('.host-panels-idle').screenshot({ path: join(SHOTS, '58-idle-field-error.png') });
    await page.getByTestId('idle-field-idleTimeoutSeconds').fill('20');
    await page.getByTestId('idle-save').click();
    await page.getByTestId('idle-error-idleTimeoutSeconds').waitFor({ state: 'detached' });
    await page.waitForTimeout(300);
    console.log(`  countdown after 20 min timeout: ${await page.getByTestId('suspend-countdown').textContent()}`);
    await page.getByTestId('host-page-back').click();
    await page.getByTestId('host-open-dgx-h100').click();
    await page.locator('[data-testid="idle-state"][data-state="active"]').waitFor();
    await page.locator('.host-panels-idle').screenshot({ path: join(SHOTS, '59-idle-active.png') });
    await page.getByTestId('host-page-back').click();

    // 13. energy view and preferences
    await page.getByTestId('open-energy').click();
    await page.getByTestId('energy-total').waitFor();
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(SHOTS, '60-energy-full.png'), fullPage: true });
    await page.getByTestId('pref-sleepWatts').fill('500');
    await page.getByTestId('pref-save').click();
    await page.getByTestId('pref-error-sleepWatts').waitFor();
    await page.getByTestId('preferences').screenshot({ path: join(SHOTS, '61-prefs-error.png') });
    await page.getByTestId('energy-back').click();

    // 14. tray icons as generated into resources/ (light and dark bars, 1x and 2x)
    const icons = await browser.newPage({ viewport: { width: 760, height: 330 } });
    const png = async (n: string) => `data:image/png;base64,${(await readFile(resolve('resources', `tray-${n}.png`))).toString('base64')}`;
    let html = '<body style="margin:0;font:12px system-ui">';
    for (const [bg, fg] of [['#eceff3', '#333'], ['#1f2430', '#ccc']]) {
      html += `<div style="background:${bg};color:${fg};padding:14px;display:flex;gap:22px;align-items:flex-end">`;
      for (const n of ['awake', 'asleep', 'trouble', 'awakeTemplate', 'asleepTemplate', 'troubleTemplate']) {
        html += `<div style="text-align:center"><img src="${await png(`${n}@2x`)}" style="width:64px;image-rendering:pixelated"><br>`;
        html += `<img src="${await png(n)}" style="width:16px"> <img src="${await png(`${n}@2x`)}" style="width:16px"><br>${n}</div>`;
      }
      html += '</div>';
    }
    await icons.setContent(html);
    await icons.screenshot({ path: join(SHOTS, '62-tray-icons.png') });
    await icons.close();

    // 9. lost connection
    srv.dropSockets();
    await page.getByTestId('banner-connection-lost').waitFor();
    await shot(page, '10-connection-lost');

    // 10. narrow windows
    await page.setViewportSize({ width: 720, height: 900 });
    await page.reload();
    await page.getByTestId('host-card-bastion').waitFor();
    await shot(page, '11-narrow');
    await page.setViewportSize({ width: 900, height: 800 });
    await page.reload();
    await page.getByTestId('gpu-row-dgx-h100-7').waitFor();
    await page.waitForTimeout(1200);
    await shot(page, '40-narrow-900-fleet');
    await page.getByTestId('host-open-dgx-h100').click();
    await page.getByTestId('chart-gpu-util-0').locator('svg.recharts-surface').waitFor();
    await page.waitForTimeout(600);
    await page.screenshot({ path: join(SHOTS, '41-narrow-900-host-page-full.png'), fullPage: true });
  } finally {
    fleet.stopSampling();
    await browser.close();
    srv.close();
  }
  if (problems.length) {
    console.log('\nbrowser problems:');
    for (const p of problems) console.log(`  ${p}`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
