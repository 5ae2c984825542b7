/** The in-memory fleet of the UI preview, first half: hosts, host keys, prompts, agents, metrics. */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type {
  AgentStatus,
  AppInfo,
  DeployOptions,
  DeployProgress,
  FleetApi,
  FleetEventName,
  FleetEvents,
  HostInput,
  HostStatus,
  HostView,
  HistoryRange,
  ImportPreview,
  MetricsHistory,
  IdleSettings,
  LocalFilePurpose,
  Preferences,
} from '../../preload/api.js';
import { FleetError } from '../../main/core/errors.js';
import { canWake } from '../../main/sleep/wake/idle.js';
import type { HarnessFleet } from '../../main/harness/server.js';
import { defaultPreferences } from '../../main/preferences/index.js';
import {
  AGENT_VERSION,
  PROFILES,
  asleep,
  RESOLUTION,
  fakeHistory,
  fakeSample,
  agentInfo,
  DEPLOY_STEPS,
} from './fake-metrics.js';

export function view(i: HostInput): HostView {
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
    knownHostsFiles: i.knownHostsFiles ?? [],
    hasStoredPassword: false,
    hasStoredPassphrase: false,
  };
}

/** Hosts, keys, prompts, agents and metrics; FakeFleet adds sleep, wake and energy. */
export abstract class FakeHostsFleet implements Partial<FleetApi>, Pick<HarnessFleet, 'on'> {
  hosts: HostView[] = [];
  statuses = new Map<string, HostStatus>();
  appInfo: AppInfo = { version: '0.1.0', secretStorage: 'available', storeProblems: [], dataDir: '/home/me/.config/fleetwake', fileDialog: true };
  protected events = new EventEmitter();
  emit<E extends FleetEventName>(event: E, payload: FleetEvents[E]): void {
    this.events.emit(event, payload);
  }
  on<E extends FleetEventName>(event: E, listener: (payload: FleetEvents[E]) => void): () => void {
    this.events.on(event, listener);
    return () => this.events.off(event, listener);
  }
  /** canWake as the core sets it on every status it publishes. */
  protected published(st: HostStatus): HostStatus {
    const mac = this.hosts.find((h) => h.name === st.name)?.mac ?? null;
    return { ...st, canWake: canWake(st.state, mac) };
  }
  agents = new Map<string, AgentStatus>();
  /** Hosts whose agent pushes samples. */
  sampling = new Set<string>();
  /** Deploy step duration; the screenshot run slows it down to catch a deploy mid-way. */
  stepMs = 700;
  protected timer: NodeJS.Timeout | undefined;
  protected promptWaiters = new Map<string, (ok: boolean) => void>();

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

  protected seedRest(now: number): void {
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
    H({ name: 'tower-3090', host: '192.168.1.52', user: 'anna', mac: '2c:f0:5d:11:7e:90' }, { state: 'asleep', asleepBasis: 'planned' });
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

  protected setStatus(st: Omit<HostStatus, 'since'>): HostStatus {
    const full = { ...st, since: Date.now() };
    this.statuses.set(st.name, full);
    const published = this.published(full);
    this.emit('host-status', published);
    return published;
  }

  protected need(name: string): HostView {
    const h = this.hosts.find((x) => x.name === name);
    if (!h) throw new FleetError('not-found', `No host named ${name}.`);
    return h;
  }

  protected validate(input: HostInput, except?: string): void {
    if (!input.name) throw new FleetError('invalid-input', 'Give the host a name.', 'name');
    if (input.name !== except && this.hosts.some((h) => h.name === input.name))
      throw new FleetError('conflict', `A host named ${input.name} already exists. Pick another name.`, 'name');
    if (!input.host) throw new FleetError('invalid-input', 'Enter a hostname or IP address.', 'host');
    if (input.port !== undefined) {
      const p = Number(input.port);
      if (!Number.isInteger(p) || p < 1 || p > 65535)
        throw new FleetError('invalid-input', 'Port must be a whole number from 1 to 65535.', 'port');
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
        const err = e as FleetError;
        failed.push({ name: i.name, error: { field: err.field ?? 'name', message: err.message } });
      }
    }
    return { added, failed };
  }
  async getStatuses() {
    return [...this.statuses.values()].map((st) => this.published(st));
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
  async chooseLocalFile(purpose: LocalFilePurpose): Promise<string | null> {
    return purpose === 'ssh-config' ? '/home/me/work/ssh_config' : '/home/me/keys/gpu_ed25519';
  }

  // ---- agents ----
  async getAgentStatuses() {
    return [...this.agents.values()];
  }
  async checkAgent(name: string) {
    this.need(name);
    return this.agents.get(name) ?? this.setAgent({ name, state: 'not-installed' });
  }
  protected setAgent(st: Omit<AgentStatus, 'since'>): AgentStatus {
    const full = { ...st, since: Date.now() };
    this.agents.set(st.name, full);
    this.emit('agent-status', full);
    return full;
  }
  protected progress(name: string, operation: DeployProgress['operation'], step: string, state: DeployProgress['state'], message: string) {
    this.emit('deploy-progress', { name, operation, step, state, message, at: Date.now() });
  }
  protected async askSudo(name: string): Promise<boolean> {
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
  protected runSteps(name: string, operation: DeployProgress['operation'], steps: typeof DEPLOY_STEPS, then: () => void) {
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
}
