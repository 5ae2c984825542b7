/**
 * The idle feature: feeds each sample and the outside checks to the idle engine, suspends when it says
 * so, keeps the sleep history, and serves idle.*, suspend.now and sleep.history. Settings come from
 * agent.yaml with the app's overrides (idle/settings.ts) on top.
 */
import type { AgentFeature, FeatureContext, Resume } from '../kernel/feature.js';
import { RPC_ERRORS, type IdleSettings, type IdleStatus, type MetricsSample, type SleepPeriod } from '../protocol.js';
import { optional, required, wholeNumber } from '../rpc/params.js';
import { RpcError } from '../rpc/server.js';
import { CheckRunner, realChecks, type IdleChecks } from './checks.js';
import { realExec, type Exec } from './exec.js';
import { IdleEngine, statusSignature, type EngineSettings, type EngineStatus } from './engine.js';
import { crossFieldProblem, effectiveSettings, fileSettings, IDLE_SETTING_KEYS, SettingsStore, validateIdleSettings, YAML_KEYS } from './settings.js';
import { SleepHistory } from './sleep-history.js';
import { recordSleep, Suspender, type SuspendDeps } from './suspend.js';

export interface IdleDeps extends SuspendDeps {
  /** The outside idle checks (inhibitors, sessions, Ollama, custom); default: the real ones (idle/checks.ts). */
  idleChecks?: IdleChecks;
  /** Runs ethtool and the suspend command (execFile, no shell); default: the real one. */
  exec?: Exec;
}

/** How long a tick waits for the outside idle checks before using their previous results. */
const CHECK_WAIT_MS = 1500;

export function idleFeature(ctx: FeatureContext<IdleDeps>) {
  const { log, clock } = ctx;
  const settingsStore = new SettingsStore(ctx.paths.stateDir);
  settingsStore.load();
  if (settingsStore.loadError) log.warn('idle settings file problem', { error: settingsStore.loadError });
  const sleepHistory = new SleepHistory(ctx.paths.stateDir);
  const exec = ctx.deps.exec ?? realExec;
  const checks = new CheckRunner(ctx.deps.idleChecks ?? realChecks({ exec, env: ctx.env }));
  const engine = new IdleEngine(engineSettings());
  const suspender = new Suspender(ctx, sleepHistory, exec, () => engine.reset());
  let checksDone: Promise<void> = Promise.resolve();
  /** The first sample after a resume spans the sleep (its CPU % and rates are meaningless): not fed. */
  let skipSample = false;
  let lastSignature = '';
  /** When the last decision planned the suspend (null: no plan). */
  let suspendAt: number | null = null;

  function settings(): IdleSettings {
    return effectiveSettings(ctx.config(), settingsStore.overrides);
  }

  function engineSettings(): EngineSettings {
    return { ...settings(), intervalSeconds: ctx.config().metrics.intervalSeconds };
  }

  function toIdleStatus(s: EngineStatus): IdleStatus {
    const cfg = ctx.config();
    return { ...s, dryRun: cfg.suspend.dryRun, suspendCommand: [...cfg.suspend.command], locked: [...cfg.idle.locked], configFile: ctx.paths.configFile };
  }

  /**
   * An override of a setting agent.yaml now locks is gone for good: it no longer counts, and when the
   * admin unlocks the setting again it starts from the file's value, not from an old app choice.
   */
  function dropLockedOverrides(): void {
    const stale = ctx.config().idle.locked.filter((k) => settingsStore.overrides[k] !== undefined);
    if (stale.length === 0) return;
    try {
      settingsStore.drop(stale);
      log.info('agent.yaml locks settings the app had set: the file wins', { keys: stale.map((k) => YAML_KEYS[k]).join(',') });
    } catch (err) {
      log.error('cannot update the idle settings file', { file: settingsStore.path, error: err });
    }
  }

  function status(): IdleStatus {
    return toIdleStatus(engine.status(clock.now(), checks.results()));
  }

  /** To metrics subscribers, only when the state or a gate changed. */
  function push(s: EngineStatus): void {
    const sig = statusSignature(s);
    if (sig === lastSignature) return;
    lastSignature = sig;
    ctx.notify('idle.status', toIdleStatus(s), (c) => c.subscribed);
  }

  /** idle.configure: validated params in; locks, cross-field check, persisted, applied. */
  function configure(changes: Partial<IdleSettings>): IdleStatus {
    // Any locked key refuses the whole request, even at its current value: the answer never depends on
    // what the file says right now, and a client learns of the lock the first time it tries.
    const locked = ctx.config().idle.locked.filter((k) => Object.hasOwn(changes, k));
    if (locked.length > 0) {
      throw new RpcError(
        RPC_ERRORS.LOCKED,
        `${locked.join(', ')} ${locked.length === 1 ? 'is' : 'are'} locked by the box's administrator in ${ctx.paths.configFile} (idle.locked); nothing was changed`,
        { locked, configFile: ctx.paths.configFile },
      );
    }
    const problem = crossFieldProblem({ ...settings(), ...changes }, ctx.config().metrics.intervalSeconds);
    if (problem) throw new RpcError(RPC_ERRORS.INVALID_PARAMS, `invalid params: ${problem}`);
    if (Object.keys(changes).length > 0) {
      try {
        settingsStore.save(changes);
      } catch (err) {
        log.error('cannot save idle settings', { file: settingsStore.path, error: err });
        throw new RpcError(RPC_ERRORS.UNAVAILABLE, `cannot save the settings in ${settingsStore.path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      engine.configure(engineSettings());
      const shown = Object.keys(changes).map((k) => `${YAML_KEYS[k as keyof IdleSettings]}=${String(changes[k as keyof IdleSettings])}`);
      log.info('idle settings changed over RPC', { changes: shown.join(',') });
    }
    const s = engine.status(clock.now(), checks.results());
    push(s);
    return toIdleStatus(s);
  }

  return {
    name: 'idle',
    status,
    methods: {
      'idle.status': { params: 'none', handler: status },
      'idle.configure': {
        params: {
          settings: required((v) => {
            // Locked keys are left to the handler, which refuses them whatever their value.
            const r = validateIdleSettings(v, ctx.config().idle.locked);
            return r.ok ? null : r.problems.join('; ');
          }),
        },
        handler: (p) => configure(p.settings),
      },
      'suspend.now': { params: 'none', handler: () => suspender.now() },
      'sleep.history': {
        params: { limit: optional(wholeNumber('limit', 1, 10000)) },
        handler: (p): SleepPeriod[] => sleepHistory.list(p.limit),
      },
    },

    restore(): void {
      dropLockedOverrides();
      const badLines = sleepHistory.load();
      if (badLines > 0) log.warn('sleep history: skipped unreadable lines', { lines: badLines });
      if (sleepHistory.open()) {
        // Left open by a previous run (it never saw the resume): the best we know is "back by now".
        recordSleep(ctx, () => sleepHistory.close(clock.now()));
        log.info('closed a sleep period left open by a previous run');
      }
    },

    beforeSample(): void {
      const cfg = ctx.config();
      // Near the planned suspend, cached answers are not enough: every check asks afresh.
      const fresh = suspendAt !== null && suspendAt - clock.now() <= 2 * cfg.metrics.intervalSeconds * 1000;
      checksDone = checks.start({ ollamaUrl: cfg.ollama.url, customCheck: cfg.idle.customCheck, customCheckTimeoutSeconds: cfg.idle.customCheckTimeoutSeconds, fresh });
    },

    async onSample(sample: MetricsSample): Promise<void> {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([checksDone, new Promise<void>((r) => (timer = setTimeout(r, CHECK_WAIT_MS)))]);
      clearTimeout(timer);
      if (ctx.stopping()) return;
      const skip = skipSample;
      skipSample = false;
      const now = clock.now();
      const decision = engine.update(now, skip ? null : sample, checks.results());
      suspendAt = decision.suspend ? null : decision.status.suspendAt;
      push(decision.status);
      if (decision.suspend) {
        log.info('idle for the whole timeout: suspending', { idleTimeoutSeconds: decision.status.settings.idleTimeoutSeconds });
        suspender.idle(now);
      }
    },

    // After the agent's own suspend command a sleep period is open: it expects to be frozen.
    expectsSleep: () => sleepHistory.open() !== null,

    /** A fresh start for the idle decision; the open sleep period closes, or an outside sleep is recorded. */
    onResume({ at, awayMs, suspendedMs }: Resume): Record<string, unknown> {
      engine.reset();
      suspendAt = null;
      checks.clear();
      skipSample = true;
      let closed: SleepPeriod | null = null;
      recordSleep(ctx, () => {
        closed = sleepHistory.close(at);
        // Not our suspend, and mostly a real one (not a frozen agent): someone else put the box to sleep.
        if (closed === null && suspendedMs !== null && suspendedMs > awayMs / 2) {
          sleepHistory.append({ suspendedAt: at - suspendedMs, resumedAt: at, reason: 'external', wolArmed: null, wolMessage: '' });
        }
      });
      return { closedPeriod: closed !== null };
    },

    onConfig(old): void {
      // A value edited in agent.yaml after the app (or `suspend enable|disable`) set it: the file, newer, wins.
      const before = fileSettings(old);
      const after = fileSettings(ctx.config());
      const edited = IDLE_SETTING_KEYS.filter((k) => before[k] !== after[k] && settingsStore.overrides[k] !== undefined);
      if (edited.length > 0) {
        try {
          settingsStore.drop(edited);
          log.info('agent.yaml changed settings the app had set: the file wins', { keys: edited.map((k) => YAML_KEYS[k]).join(',') });
        } catch (err) {
          log.error('cannot update the idle settings file', { file: settingsStore.path, error: err });
        }
      }
      dropLockedOverrides();
      engine.configure(engineSettings());
    },

    drain: () => suspender.drain(),
  } satisfies AgentFeature & { status(): IdleStatus };
}
