import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FleetError } from '../../main/core/errors.js';
import { previewImport } from '../../main/hosts/import.js';
import { hostPatternsMatch, parseSshConfig, splitArgs, splitConfigLine, sshConfigCandidates } from '../../main/hosts/ssh-config.js';
import type { HostRecord } from '../../main/hosts/types.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const HOME = path.join(here, 'fixtures', 'ssh-config', 'home');
const CONFIG = path.join(HOME, '.ssh', 'config');
const CANARY = '/tmp/fleetwake-match-exec-canary-3f9d1c';
const allFilesExist = () => true;

/** An in-memory home folder, for cases that need no fixture file. */
function memoryFs(files: Record<string, string>) {
  return {
    readFile: (p: string) => {
      const text = files[p];
      if (text === undefined) throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
      return text;
    },
    listDir: (dir: string) =>
      Object.keys(files)
        .filter((f) => path.dirname(f) === dir)
        .map((f) => path.basename(f)),
  };
}

let savedUser: string | undefined;
beforeEach(() => {
  savedUser = process.env.USER;
  process.env.USER = 'localme';
});
afterEach(() => {
  if (savedUser === undefined) delete process.env.USER;
  else process.env.USER = savedUser;
});

describe('line syntax', () => {
  it('splits keyword and value in the "key value", "key=value" and "key = value" forms, lower-casing the keyword', () => {
    expect(splitConfigLine('  HostName  gpu.lan')).toEqual({ keyword: 'hostname', rest: 'gpu.lan' });
    expect(splitConfigLine('Port=22')).toEqual({ keyword: 'port', rest: '22' });
    expect(splitConfigLine('\tPort = 22 \r')).toEqual({ keyword: 'port', rest: '22' });
    expect(splitConfigLine('   # a comment')).toBeNull();
    expect(splitConfigLine('   ')).toBeNull();
  });

  it('handles quotes, escapes and trailing comments like ssh', () => {
    expect(splitArgs('"a b" c')).toEqual(['a b', 'c']);
    expect(splitArgs("'x y'z")).toEqual(['x yz']);
    expect(splitArgs('a\\ b "q\\"uote"')).toEqual(['a b', 'q"uote']);
    expect(splitArgs('value # comment')).toEqual(['value']);
    expect(splitArgs('"unclosed')).toBeNull();
  });

  it('matches Host patterns with *, ? and negation', () => {
    expect(hostPatternsMatch('gpu-1', ['gpu-*'])).toBe(true);
    expect(hostPatternsMatch('gpu-10', ['gpu-?'])).toBe(false);
    expect(hostPatternsMatch('gpu-3', ['gpu-*', '!gpu-3'])).toBe(false);
    expect(hostPatternsMatch('web', ['!gpu-3'])).toBe(false);
    expect(hostPatternsMatch('GPU.lan', ['gpu.lan'])).toBe(true);
    expect(hostPatternsMatch('gpuxlan', ['gpu.lan'])).toBe(false);
  });
});

describe('the fixture ~/.ssh/config', () => {
  const parsed = parseSshConfig(CONFIG, { homeDir: HOME });
  const candidates = sshConfigCandidates(parsed);
  const byAlias = new Map(candidates.map((c) => [c.alias, c]));
  const inputOf = (alias: string) => byAlias.get(alias)?.input;

  it('offers every concrete alias, in file order, and no wildcard or negated pattern', () => {
    expect(candidates.map((c) => c.alias)).toEqual([
      'web',
      'db-1',
      'gpu-1',
      'gpu-2',
      'gpu-3',
      'broken',
      'behind',
      'bastion',
      'via-outside',
      'noproxy',
      'legacy',
      'spaced alias',
    ]);
    expect(byAlias.get('gpu-1')?.source).toBe('~/.ssh/config:5');
    expect(byAlias.get('web')?.source).toBe('~/.ssh/conf.d/10-web.conf:1');
  });

  it('expands Include with a glob relative to ~/.ssh, in sorted order, skipping files the glob does not match', () => {
    expect(inputOf('web')?.host).toBe('web.internal');
    expect(inputOf('db-1')).toMatchObject({ host: '192.168.7.11', user: 'dbadmin' });
    expect(byAlias.has('readme-should-not-appear')).toBe(false);
  });

  it('warns about a missing Include instead of failing', () => {
    expect(parsed.warnings.some((w) => w.includes('~/.ssh/extra/missing-file') && w.includes('~/.ssh/config:3'))).toBe(true);
  });

  it('lets the first value win and applies Host * defaults last', () => {
    expect(inputOf('gpu-1')).toEqual({
      name: 'gpu-1',
      host: 'gpu-1.lab.example.com',
      user: 'alice',
      port: '2201',
      identityFile: path.join(HOME, '.ssh', 'id_lab'),
    });
    expect(inputOf('gpu-2')).toMatchObject({ host: 'gpu-2.lab.example.com', user: 'alice', port: '22' });
    expect(inputOf('bastion')).toMatchObject({ host: 'bastion.example.com', user: 'defaultuser', port: '22' });
  });

  it('honours negated patterns and the key=value form', () => {
    expect(inputOf('gpu-3')).toEqual({
      name: 'gpu-3',
      host: '10.0.0.3',
      port: '2203',
      user: 'defaultuser',
      identityFile: path.join(HOME, '.ssh', 'id_default'),
    });
  });

  it('expands %d, %r and %h in IdentityFile and unquotes values', () => {
    expect(inputOf('web')?.identityFile).toBe(path.join(HOME, '.ssh', 'id_defaultuser_web.internal'));
    expect(inputOf('spaced alias')?.identityFile).toBe(path.join(HOME, '.ssh', 'key with spaces'));
    expect(inputOf('broken')?.host).toBe('bad host');
  });

  it('takes the last ProxyJump hop as the direct jump, and unsets "none"', () => {
    expect(inputOf('behind')?.jump).toBe('gpu-1');
    expect(inputOf('noproxy')?.jump).toBeUndefined();
    expect(inputOf('via-outside')?.jump).toBe('outside.example.com');
    expect(parsed.warnings.some((w) => w.includes('via-outside jumps through outside.example.com'))).toBe(true);
  });

  it('ignores Match blocks and their options, with a warning, and ignores ProxyCommand with a warning', () => {
    const match = parsed.blocks.find((b) => b.kind === 'match');
    expect(match).toMatchObject({ criteria: 'exec "touch /tmp/fleetwake-match-exec-canary-3f9d1c"', source: '~/.ssh/config:25' });
    expect(parsed.warnings).toContain(
      'Match block at ~/.ssh/config:25 was skipped: Fleetwake does not evaluate Match (its "exec" is never run). Copy its settings into a Host block to import them.',
    );
    expect(candidates.every((c) => c.input.user !== 'mallory' && c.input.port !== '6666')).toBe(true);
    expect(parsed.warnings.some((w) => w.includes('legacy uses ProxyCommand'))).toBe(true);
  });
});

describe('Include in memory', () => {
  const home = '/home/u';
  it('keeps an Include inside a Host block conditional on that block, and restores the block after it', () => {
    const files = memoryFs({
      '/home/u/.ssh/config': 'Host a\n  Include more\n  Port 2000\nHost b\n',
      '/home/u/.ssh/more': 'User fromfile\nHost b c\n  HostName inner.lan\n',
    });
    const parsed = parseSshConfig('/home/u/.ssh/config', { homeDir: home, ...files });
    const input = Object.fromEntries(sshConfigCandidates(parsed).map((c) => [c.alias, c.input]));
    expect(input.a).toEqual({ name: 'a', host: 'a', user: 'fromfile', port: '2000' });
    // "Host b c" sits inside "Host a" via the Include, so it never applies to b or c.
    expect(input.b).toEqual({ name: 'b', host: 'b' });
    expect(input.c).toEqual({ name: 'c', host: 'c' });
  });

  it('stops a self-including file at ssh\'s depth limit with a warning', () => {
    const files = memoryFs({ '/home/u/.ssh/config': 'Include ~/.ssh/config\nHost loop\n' });
    const parsed = parseSshConfig('/home/u/.ssh/config', { homeDir: home, ...files });
    expect(parsed.warnings.some((w) => w.includes('nested more than 16 deep'))).toBe(true);
    expect(sshConfigCandidates(parsed).map((c) => c.alias)).toEqual(['loop']);
  });

  it('reads CRLF files and warns about unclosed quotes without failing', () => {
    const files = memoryFs({ '/home/u/.ssh/config': 'Host x\r\n  HostName "x.lan\r\n  User=bob\r\n' });
    const parsed = parseSshConfig('/home/u/.ssh/config', { homeDir: home, ...files });
    expect(sshConfigCandidates(parsed)[0]?.input).toEqual({ name: 'x', host: 'x', user: 'bob' });
    expect(parsed.warnings.some((w) => w.includes('quote is not closed'))).toBe(true);
  });

  it('expands ?-globs and several Include arguments on one line', () => {
    const files = memoryFs({
      '/home/u/.ssh/config': 'Include /etc/fw/h? ~/.ssh/last\n',
      '/etc/fw/h1': 'Host one\n',
      '/etc/fw/h2': 'Host two\n',
      '/etc/fw/h10': 'Host ten\n',
      '/home/u/.ssh/last': 'Host last\n',
    });
    const parsed = parseSshConfig('/home/u/.ssh/config', { homeDir: home, ...files });
    expect(sshConfigCandidates(parsed).map((c) => c.alias)).toEqual(['one', 'two', 'last']);
  });
});

describe('previewImport', () => {
  const stored: HostRecord = {
    name: 'bastion',
    host: 'old-bastion.example.com',
    port: 22,
    user: 'ops',
    identityFile: null,
    passwordEnv: null,
    jump: null,
    mac: null,
    wolAddress: null,
    wolPort: null,
    knownHostsFiles: [],
  };

  it('never runs Match exec', () => {
    fs.rmSync(CANARY, { force: true });
    previewImport(CONFIG, { existing: [], homeDir: HOME, fileExists: allFilesExist });
    expect(fs.existsSync(CANARY)).toBe(false);
  });

  it('has no way to start a process in its sources', () => {
    for (const file of ['ssh-config.ts', 'import.ts', 'validation.ts']) {
      const source = fs.readFileSync(path.join(here, '..', '..', 'main', 'hosts', file), 'utf8');
      expect(source).not.toMatch(/child_process|\bexecSync\b|\bspawn\(|\bexecFile\(/);
    }
  });

  it('reports bad candidates as errors, resolves jumps to other candidates, and flags stored names', () => {
    const preview = previewImport(CONFIG, { existing: [stored], homeDir: HOME, fileExists: allFilesExist });
    const byAlias = new Map(preview.candidates.map((c) => [c.alias, c]));
    expect(preview.file).toBe(CONFIG);
    expect(byAlias.get('gpu-1')?.errors).toEqual([]);
    expect(byAlias.get('behind')?.errors).toEqual([]);
    expect(byAlias.get('broken')?.errors.map((e) => e.field)).toEqual(['host', 'port']);
    expect(byAlias.get('spaced alias')?.errors.map((e) => e.field)).toEqual(['name', 'host']);
    expect(byAlias.get('via-outside')?.errors).toEqual([
      { field: 'jump', message: 'Jump host "outside.example.com" does not exist. Add it first, or leave Jump empty.' },
    ]);
    expect(byAlias.get('bastion')).toMatchObject({ exists: true, errors: [] });
    expect(byAlias.get('gpu-1')?.exists).toBe(false);
    expect(preview.warnings.length).toBeGreaterThan(0);
  });

  it('reports a missing key file as an error on that candidate', () => {
    const preview = previewImport(CONFIG, { existing: [], homeDir: HOME, fileExists: () => false });
    const gpu1 = preview.candidates.find((c) => c.alias === 'gpu-1');
    expect(gpu1?.errors).toEqual([{ field: 'identityFile', message: expect.stringContaining('id_lab') }]);
  });

  it('surfaces reserved aliases (__proto__, constructor, prototype) as candidate errors, not hosts (issue 10, item 7)', () => {
    const file = '/home/u/.ssh/config';
    const text = 'Host __proto__ constructor\n  HostName 10.0.0.7\nHost prototype ok-1\n  HostName 10.0.0.8\n  User ops\n';
    const preview = previewImport(file, { existing: [], homeDir: '/home/u', ...memoryFs({ [file]: text }) });
    const byAlias = new Map(preview.candidates.map((c) => [c.alias, c]));
    expect([...byAlias.keys()]).toEqual(['__proto__', 'constructor', 'prototype', 'ok-1']);
    for (const alias of ['__proto__', 'constructor', 'prototype']) {
      expect(byAlias.get(alias)?.errors).toEqual([{ field: 'name', message: expect.stringContaining(`Name "${alias}" is reserved`) }]);
    }
    expect(byAlias.get('ok-1')?.errors).toEqual([]);
    expect(({} as Record<string, unknown>).hostname).toBeUndefined();
  });

  it('rejects a missing config file with a message on field "file"', () => {
    const missing = path.join(HOME, '.ssh', 'nope');
    try {
      previewImport(missing, { existing: [], homeDir: HOME });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(FleetError);
      expect(err).toMatchObject({ code: 'invalid-input', field: 'file' });
      expect((err as Error).message).toContain(`No SSH config at ${missing}. Choose the file`);
    }
  });
});

describe('UserKnownHostsFile', () => {
  const home = '/home/u';
  const config = (body: string) => {
    const mem = memoryFs({ [`${home}/.ssh/config`]: body });
    return previewImport(`${home}/.ssh/config`, { existing: [], homeDir: home, fileExists: allFilesExist, ...mem });
  };

  it('is carried into the host, ~ and %-tokens expanded, several files kept in order, none and /dev/null left out', () => {
    const p = config(
      [
        'Host work',
        '  HostName 10.0.0.9',
        '  UserKnownHostsFile ~/.ssh/known_hosts.d/%h /etc/ssh/work_known_hosts',
        'Host throwaway',
        '  UserKnownHostsFile /dev/null',
        'Host plain',
        '  HostName 10.0.0.10',
      ].join('\n'),
    );
    const byAlias = Object.fromEntries(p.candidates.map((c) => [c.alias, c]));
    expect(byAlias.work!.input.knownHostsFiles).toEqual([`${home}/.ssh/known_hosts.d/10.0.0.9`, '/etc/ssh/work_known_hosts']);
    expect(byAlias.work!.errors).toEqual([]);
    expect(byAlias.throwaway!.input.knownHostsFiles).toBeUndefined();
    expect(byAlias.plain!.input.knownHostsFiles).toBeUndefined();
  });

  it('a relative file is an error on that candidate, naming the field', () => {
    const p = config('Host rel\n  UserKnownHostsFile known_hosts.rel\n');
    expect(p.candidates[0]!.errors).toEqual([{ field: 'knownHostsFiles', message: expect.stringMatching(/must be a full path .*known_hosts\.rel/) }]);
  });
});
