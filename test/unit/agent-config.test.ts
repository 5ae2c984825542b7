import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultConfig, loadConfig, parseConfig, parseYaml, renderDefaultConfig, YamlError } from '../../remote-agent/config/index.js';
import { resolveMode, resolvePaths, socketPathProblem } from '../../remote-agent/paths.js';

function yamlError(src: string): YamlError {
  try {
    parseYaml(src);
  } catch (err) {
    expect(err).toBeInstanceOf(YamlError);
    return err as YamlError;
  }
  throw new Error('expected a YamlError');
}

describe('YAML subset parser', () => {
  it('parses nested maps, every scalar kind, lists and comments', () => {
    const doc = parseYaml(`# top comment
---
a:
  b: 1
  c: -2.5e3
  d: hello world   # trailing comment
  e: "quoted # not a comment \\" \\n \\u0041"
  f: 'it''s # fine'
  g: true
  h: False
  i: null
  j: ~
  k:
  l: [x, 'y, z', "w", 3, true, null]
  m:
    - one
    - 2
    - "three"
  n: []
  o: http://example.com/a#b
top:
- p
- q
"quoted key": 1
`);
    expect(doc.value).toEqual({
      a: {
        b: 1, c: -2500, d: 'hello world', e: 'quoted # not a comment " \n A', f: "it's # fine", g: true, h: false,
        i: null, j: null, k: null, l: ['x', 'y, z', 'w', 3, true, null], m: ['one', 2, 'three'], n: [], o: 'http://example.com/a#b',
      },
      top: ['p', 'q'],
      'quoted key': 1,
    });
    expect(doc.lines.get('a.b')).toBe(4);
    expect(doc.lines.get('a.m')).toBe(15);
    expect(doc.lines.get('top')).toBe(21);
  });

  it('empty and comment-only documents are null', () => {
    expect(parseYaml('').value).toBeNull();
    expect(parseYaml('# nothing\n\n   \n').value).toBeNull();
  });

  it.each([
    ['a:\n\tb: 1\n', 2, /tab/],
    ['a:\n  b: 1\n   c: 2\n', 3, /indentation/],
    ['a: 1\na: 2\n', 2, /duplicate key "a"/],
    ['a: &x 1\n', 1, /unsupported/],
    ['a: *x\n', 1, /unsupported/],
    ['a: !!str 1\n', 1, /unsupported/],
    ['a: |\n  text\n', 1, /unsupported/],
    ['a: >\n  text\n', 1, /unsupported/],
    ['a: {b: 1}\n', 1, /unsupported/],
    ['a: [1, [2]]\n', 1, /nested/],
    ['a: [1, 2\n', 1, /close/],
    ['a: "open\n', 1, /unterminated/],
    ["a: 'open\n", 1, /unterminated/],
    ['a: "x" y\n', 1, /after a double-quoted/],
    ['a:\n  - x\n  b: 1\n', 3, /list/],
    ['a:\n  - b: 1\n', 2, /not supported/],
    ['a:\n  -\n', 2, /empty list item/],
    ['just some words\nmore: 1\n', 1, /key: value/],
    ['a: b: c\n', 1, /":"/],
    ['a: 1\n---\nb: 2\n', 2, /document/],
    ['a: "\\q"\n', 1, /escape/],
    ['bad key!: 1\n', 1, /invalid key/],
    ['__proto__: 1\n', 1, /invalid key/],
  ])('rejects %j at line %i', (src, line, re) => {
    const err = yamlError(src);
    expect(err.line).toBe(line);
    expect(err.message).toMatch(re);
  });
});

describe('agent.yaml schema', () => {
  it('an empty file gives the defaults', () => {
    expect(parseConfig('')).toEqual(defaultConfig());
  });

  it('renderDefaultConfig() parses back to exactly the defaults', () => {
    expect(parseConfig(renderDefaultConfig())).toEqual(defaultConfig());
  });

  it('reads every key (aistack-style names)', () => {
    const c = parseConfig(`
metrics:
  interval_seconds: 2
gpu:
  nvidia_smi: /usr/bin/nvidia-smi
  timeout_seconds: 1.5
logging:
  level: debug
  file: /var/log/fw.log
idle:
  cpu_idle_threshold: 12.5
  gpu_idle_threshold: 7
  window_seconds: 600
  idle_timeout_seconds: 3600
  min_samples: 10
  enable_suspend: false
  network_threshold_bytes_per_sec: 250000
  custom_check: [/usr/local/bin/backup-running, --quiet]
  custom_check_timeout_seconds: 4
  locked: [enable_suspend, idle_timeout_seconds]
suspend:
  command: /usr/bin/systemctl hibernate
  dry_run: true
  timeout_seconds: 20
wol:
  interface: enp3s0
  enable: false
ollama:
  url: http://10.0.0.7:11434/
`);
    expect(c).toEqual({
      metrics: { intervalSeconds: 2 },
      gpu: { nvidiaSmi: '/usr/bin/nvidia-smi', timeoutSeconds: 1.5 },
      logging: { level: 'debug', file: '/var/log/fw.log' },
      idle: {
        cpuIdleThreshold: 12.5,
        gpuIdleThreshold: 7,
        windowSeconds: 600,
        idleTimeoutSeconds: 3600,
        minSamples: 10,
        enableSuspend: false,
        networkThresholdBytesPerSec: 250000,
        customCheck: ['/usr/local/bin/backup-running', '--quiet'],
        customCheckTimeoutSeconds: 4,
        locked: ['idleTimeoutSeconds', 'enableSuspend'],
      },
      suspend: { command: ['/usr/bin/systemctl', 'hibernate'], dryRun: true, timeoutSeconds: 20 },
      wol: { interface: 'enp3s0', enable: false },
      ollama: { url: 'http://10.0.0.7:11434' },
    });
  });

  it('partial sections keep the other defaults; an empty section is fine', () => {
    const c = parseConfig('idle:\n  min_samples: 3\nwol:\n');
    expect(c.idle.minSamples).toBe(3);
    expect(c.idle.windowSeconds).toBe(300);
    expect(c.wol).toEqual(defaultConfig().wol);
  });

  it.each([
    ['# c\n\n\nmetrics:\n  interval_seconds: fast\n', 'agent.yaml line 5: metrics.interval_seconds must be a whole number from 1 to 3600 (got "fast")'],
    ['metrics:\n  interval_seconds: 0\n', 'agent.yaml line 2: metrics.interval_seconds must be a whole number from 1 to 3600 (got 0)'],
    ['metrics:\n  interval_seconds: 2.5\n', 'agent.yaml line 2: metrics.interval_seconds must be a whole number from 1 to 3600 (got 2.5)'],
    ['metrics:\n  interval_seconds: 3601\n', 'agent.yaml line 2: metrics.interval_seconds must be a whole number from 1 to 3600 (got 3601)'],
    ['logging:\n  level: verbose\n', 'agent.yaml line 2: logging.level must be one of debug|info|warn|error (got "verbose")'],
    ['idle:\n  enable_suspend: yes\n', 'agent.yaml line 2: idle.enable_suspend must be true or false (got "yes")'],
    ['idle:\n  cpu_idle_threshold: 101\n', 'agent.yaml line 2: idle.cpu_idle_threshold must be a number from 0 to 100 (got 101)'],
    ['logging:\n  file: relative.log\n', 'agent.yaml line 2: logging.file must be an absolute path or null (got "relative.log")'],
    ['gpu:\n  nvidia_smi: "nvidia-smi; rm -rf /"\n', 'agent.yaml line 2: gpu.nvidia_smi must be a command name or an absolute path (got "nvidia-smi; rm -rf /")'],
    ['idle:\n  window_seconds: 1\n', 'agent.yaml line 2: idle.window_seconds must be a whole number from 2 to 86400 (got 1)'],
    ['idle:\n  min_samples: 61\n', 'agent.yaml line 2: idle.min_samples 61 can never be reached: a 300 s window holds at most 60 samples at a 5 s interval'],
    ['idle:\n  network_threshold_bytes_per_sec: 10\n', 'agent.yaml line 2: idle.network_threshold_bytes_per_sec must be a number from 1000 to 100000000000 (got 10)'],
    ['idle:\n  custom_check: "./relative/check"\n', 'agent.yaml line 2: idle.custom_check must be a command'],
    ['idle:\n  custom_check: []\n', 'agent.yaml line 2: idle.custom_check must be a command: a list of arguments or a string split on spaces, starting with a command name or an absolute path, or null, with 1 to 64 arguments (got 0)'],
    ['suspend:\n  command: "$(reboot)"\n', 'agent.yaml line 2: suspend.command must be a command'],
    ['suspend:\n  command: null\n', 'agent.yaml line 2: suspend.command must be a command'],
    ['suspend:\n  dry_run: maybe\n', 'agent.yaml line 2: suspend.dry_run must be true or false (got "maybe")'],
    ['ollama:\n  url: file:///etc/passwd\n', 'agent.yaml line 2: ollama.url must be an http:// or https:// URL (got "file:///etc/passwd")'],
    ['metrics: 5\n', 'agent.yaml line 1: metrics must be a section of keys (got 5)'],
    ['- a\n- b\n', 'agent.yaml line 1: the file must be a map of sections (metrics, gpu, logging, idle, suspend, wol, ollama)'],
  ])('rejects %j', (src, message) => {
    expect(() => parseConfig(src)).toThrow(message);
  });

  it('commands: a string is split on whitespace (no shell), a list is taken as is; tiny test timings are allowed', () => {
    const c = parseConfig('metrics:\n  interval_seconds: 1\nidle:\n  custom_check: "/bin/check  --busy   x"\n  window_seconds: 5\n  idle_timeout_seconds: 3\n  min_samples: 2\nsuspend:\n  command:\n    - /bin/sh\n    - -c\n    - "echo hi > /tmp/x"\n');
    expect(c.idle.customCheck).toEqual(['/bin/check', '--busy', 'x']);
    expect(c.suspend.command).toEqual(['/bin/sh', '-c', 'echo hi > /tmp/x']);
    // No shell anywhere: shell syntax in a string stays literal arguments.
    expect(parseConfig('idle:\n  custom_check: "test -e /x; reboot"\n').idle.customCheck).toEqual(['test', '-e', '/x;', 'reboot']);
    expect(c.idle).toMatchObject({ windowSeconds: 5, idleTimeoutSeconds: 3, minSamples: 2 });
    expect(defaultConfig().suspend.command).toEqual(['systemctl', 'suspend']);
    expect(defaultConfig().idle.networkThresholdBytesPerSec).toBe(1_000_000);
  });

  it('an unknown key is an error naming the key and its line', () => {
    expect(() => parseConfig('metrics:\n  interval_seconds: 5\n  intervall: 3\n')).toThrow(/^agent\.yaml line 3: unknown key "metrics\.intervall"/);
    expect(() => parseConfig('\nmetric:\n  interval_seconds: 5\n')).toThrow(/^agent\.yaml line 2: unknown key "metric"/);
  });

  it('idle.locked: nothing by default; all, one key or a list of idle keys, in one order, without repeats', () => {
    const ALL = ['cpuIdleThreshold', 'gpuIdleThreshold', 'windowSeconds', 'idleTimeoutSeconds', 'minSamples', 'enableSuspend', 'networkThresholdBytesPerSec'];
    expect(defaultConfig().idle.locked).toEqual([]);
    expect(parseConfig('idle:\n  locked: all\n').idle.locked).toEqual(ALL);
    expect(parseConfig('idle:\n  locked: enable_suspend\n').idle.locked).toEqual(['enableSuspend']);
    expect(parseConfig('idle:\n  locked: [enable_suspend, idle_timeout_seconds, enable_suspend]\n').idle.locked).toEqual(['idleTimeoutSeconds', 'enableSuspend']);
    expect(parseConfig('idle:\n  locked:\n    - min_samples\n    - window_seconds\n').idle.locked).toEqual(['windowSeconds', 'minSamples']);
    expect(parseConfig('idle:\n  locked: []\n').idle.locked).toEqual([]);
    expect(parseConfig('idle:\n  locked: null\n').idle.locked).toEqual([]);
  });

  it.each([
    [
      'idle:\n  locked: [enable_suspend, idle_timeout]\n',
      'agent.yaml line 2: idle.locked: unknown setting "idle_timeout" (lockable: cpu_idle_threshold, gpu_idle_threshold, window_seconds, idle_timeout_seconds, min_samples, enable_suspend, network_threshold_bytes_per_sec; or all)',
    ],
    ['idle:\n  locked: everything\n', 'agent.yaml line 2: idle.locked: unknown setting "everything" (lockable: '],
    [
      'idle:\n  locked: [custom_check]\n',
      'agent.yaml line 2: idle.locked: custom_check is set only in agent.yaml and never over the socket; it needs no lock',
    ],
    ['idle:\n  locked: true\n', 'agent.yaml line 2: idle.locked must be all, a setting name or a list of setting names (got true)'],
    ['idle:\n  locked: [all, min_samples]\n', 'agent.yaml line 2: idle.locked: "all" stands alone, not in a list'],
  ])('idle.locked rejects %j', (src, message) => {
    expect(() => parseConfig(src)).toThrow(message);
  });

  it('YAML syntax errors carry the file name and line', () => {
    expect(() => parseConfig('metrics:\n  interval_seconds: [1\n')).toThrow(/^agent\.yaml line 2: /);
  });
});

describe('loadConfig', () => {
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'fw-cfg-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('a missing file gives the defaults and no error', () => {
    expect(loadConfig(join(tmp(), 'agent.yaml'))).toEqual({ config: defaultConfig(), error: null, exists: false });
  });

  it('an invalid file gives the defaults and the error', () => {
    const p = join(tmp(), 'agent.yaml');
    writeFileSync(p, 'metrics:\n  interval_seconds: 1\n  bogus: 2\n');
    const r = loadConfig(p);
    expect(r.config).toEqual(defaultConfig());
    expect(r.error).toMatch(/^agent\.yaml line 3: unknown key "metrics\.bogus"/);
  });

  it('a valid file is read', () => {
    const p = join(tmp(), 'agent.yaml');
    writeFileSync(p, 'metrics:\n  interval_seconds: 1\n');
    expect(loadConfig(p).config.metrics.intervalSeconds).toBe(1);
  });
});

describe('paths', () => {
  const home = '/home/u';
  it('user mode: XDG_RUNTIME_DIR socket when writable, else under ~/.local/share', () => {
    const p = resolvePaths({ env: { XDG_RUNTIME_DIR: '/run/user/1000' }, home, uid: 1000, exists: () => false, writableDir: () => true });
    expect(p).toMatchObject({
      mode: 'user',
      socket: '/run/user/1000/fleetwake/agent.sock',
      configFile: '/home/u/.config/fleetwake/agent.yaml',
      stateDir: '/home/u/.local/share/fleetwake/state',
      pidFile: '/home/u/.local/share/fleetwake/state/agent.pid',
    });
    const q = resolvePaths({ env: { XDG_RUNTIME_DIR: '/run/user/1000' }, home, uid: 1000, exists: () => false, writableDir: () => false });
    expect(q.socket).toBe('/home/u/.local/share/fleetwake/run/agent.sock');
  });

  it('system mode for root with /etc/fleetwake/agent.yaml, or when asked', () => {
    const exists = (p: string) => p === '/etc/fleetwake/agent.yaml';
    expect(resolveMode({ env: {}, uid: 0, exists })).toBe('system');
    expect(resolveMode({ env: {}, uid: 1000, exists })).toBe('user');
    expect(resolveMode({ env: {}, uid: 0, exists: () => false })).toBe('user');
    expect(resolveMode({ mode: 'system', env: {}, uid: 1000 })).toBe('system');
    expect(resolvePaths({ env: {}, uid: 0, exists, home })).toMatchObject({
      mode: 'system', socket: '/run/fleetwake/agent.sock', stateDir: '/var/lib/fleetwake', configFile: '/etc/fleetwake/agent.yaml',
    });
  });

  it('env overrides win, and a root agent with a config elsewhere is user mode', () => {
    const env = { FLEETWAKE_AGENT_CONFIG: '/tmp/x/agent.yaml', FLEETWAKE_AGENT_STATE: '/tmp/x/state', FLEETWAKE_AGENT_SOCKET: '/tmp/x/a.sock' };
    expect(resolvePaths({ env, uid: 0, exists: () => true, home })).toMatchObject({
      mode: 'user', configFile: '/tmp/x/agent.yaml', stateDir: '/tmp/x/state', socket: '/tmp/x/a.sock', pidFile: '/tmp/x/state/agent.pid',
    });
  });

  it('a client finds the system agent when no user socket exists', () => {
    const exists = (p: string) => p === '/run/fleetwake/agent.sock';
    expect(resolveMode({ role: 'client', env: {}, uid: 1000, home, exists, writableDir: () => false })).toBe('system');
    expect(resolveMode({ role: 'client', env: {}, uid: 1000, home, exists: () => false, writableDir: () => false })).toBe('user');
  });

  it('socket path problems', () => {
    expect(socketPathProblem('/tmp/a.sock')).toBeNull();
    expect(socketPathProblem('rel.sock')).toMatch(/absolute/);
    expect(socketPathProblem('/' + 'x'.repeat(120))).toMatch(/longer/);
  });
});
