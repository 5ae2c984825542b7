/** The in-memory fleet of the UI preview, second half: idle checks, sleep, wake, energy and preferences. */

import type {
  SuspendResult,
  FleetApi,
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
} from '../../preload/api.js';
import { FleetError } from '../../main/core/errors.js';
import { computeEnergy } from '../../main/sleep/energy/index.js';

import type { HarnessFleet } from '../../main/harness/server.js';
import { applyPreferences } from '../../main/preferences/index.js';
import { AGENT_VERSION, hash, asleep } from './fake-metrics.js';

import { FakeHostsFleet } from './fake-hosts.js';

export class FakeFleet extends FakeHostsFleet implements FleetApi, HarnessFleet {
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
    if (!h.mac) throw new FleetError('invalid-input', `${name} has no MAC address: add one (Edit) to wake it with Wake-on-LAN.`, 'mac');
    const t0 = Date.now();
    this.setStatus({ name, state: 'waking' });
    this.wakeStep(name, 'packet-sent', `Sent to ${h.host.replace(/\.\d+$/, '.255')}:9 (3 packets)`);
    const fails = name === 'tower-3090';
    const wait = (ms: number) => new Promise<void>((r) => this.wakeTimers.push(setTimeout(r, ms)));
    if (fails) {
      await wait(this.wakeStepMs.fail);
      this.wakeStep(name, 'failed', 'No answer within 120 s. Wake-on-LAN was not armed before it slept (ethtool: Operation not supported): wake it by hand and enable WoL in its BIOS.');
      this.setStatus({ name, state: 'asleep', error: 'Did not wake: no answer within 120 s.' });
      if (options?.wait) throw new FleetError('failed', `${name} did not wake within 120 s.`);
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

  async cancelWake(name: string): Promise<void> {
    this.need(name);
    for (const t of this.wakeTimers.splice(0)) clearTimeout(t);
    this.wakeStep(name, 'failed', `Stopped waiting for ${name} (cancelled). The magic packet was sent, so it may still wake.`);
    this.setStatus({ name, state: 'asleep' });
  }

  async suspendHost(name: string): Promise<SuspendResult> {
    this.need(name);
    if (this.agents.get(name)?.state !== 'running') throw new FleetError('failed', `The agent on ${name} is not running.`);
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
    const bad = (field: keyof IdleSettings, msg: string) => new FleetError('invalid-input', msg, field);
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
      throw new FleetError('invalid-input', e.message, e.field);
    }
    return this.prefs;
  }
}
