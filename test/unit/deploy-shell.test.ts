import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { envPrefix, shq, systemdQuote } from '../../main/remote/shell.js';
import { privilegedCommand } from '../../main/remote/host.js';

/** What a real POSIX sh makes of `printf '%s' <word>`. */
function shEcho(word: string): string {
  return execFileSync('sh', ['-c', `printf '%s' ${word}`], { encoding: 'utf8' });
}

describe('shq', () => {
  const nasty = [
    '',
    'plain',
    '/opt/fleetwake/fleetwake-agent.cjs',
    'has space',
    "it's",
    "''",
    '$(rm -rf /)',
    '`id`',
    '"; echo pwned; "',
    'a\nb',
    '*',
    '~/x',
    '-n',
    '\\',
    'tab\there',
    'ünïcode ✓',
    "'$HOME'\"$HOME\"",
  ];
  it.each(nasty)('round-trips %j through a real sh unchanged', (s) => {
    expect(shEcho(shq(s))).toBe(s);
  });

  it('leaves safe words bare and quotes everything else', () => {
    expect(shq('/usr/bin/node')).toBe('/usr/bin/node');
    expect(shq('a b')).toBe("'a b'");
    expect(shq("it's")).toBe(`'it'\\''s'`);
    expect(shq('')).toBe("''");
    expect(shq('~/x')).toBe("'~/x'"); // no tilde expansion
    expect(shq('*')).toBe("'*'"); // no globbing
  });

  it('refuses NUL', () => {
    expect(() => shq('a\0b')).toThrow(/NUL/);
  });

  it('envPrefix quotes values and refuses odd names', () => {
    expect(envPrefix({ A: 'x y', B: "q'" })).toBe(`A='x y' B='q'\\''`.concat("'"));
    expect(shEcho(`"$(env ${envPrefix({ FW: '$(id) `x`' })} sh -c 'printf %s "$FW"')"`)).toBe('$(id) `x`');
    expect(() => envPrefix({ 'A;rm': 'x' })).toThrow(/bad variable name/);
  });

  it('systemdQuote escapes quotes, backslashes, % and $', () => {
    expect(systemdQuote('/opt/fleetwake/x')).toBe('"/opt/fleetwake/x"');
    expect(systemdQuote('a "b" \\ 50% $HOME')).toBe('"a \\"b\\" \\\\ 50%% $$HOME"');
    expect(() => systemdQuote('a\nb')).toThrow();
  });
});

describe('privilegedCommand', () => {
  it('wraps the script in sh -c and never carries a password', () => {
    const script = `echo "it's" > '/x y'`;
    expect(privilegedCommand(script, 'self')).toBe(`sh -c ${shq(script)}`);
    expect(privilegedCommand(script, 'sudo-n')).toBe(`sudo -n sh -c ${shq(script)}`);
    expect(privilegedCommand(script, 'sudo-S')).toBe(`sudo -S -p '' sh -c ${shq(script)}`);
  });
});
