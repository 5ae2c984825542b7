import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FleetError } from '../../main/core/errors.js';
import type { HostRecord } from '../../main/hosts/types.js';
import { checkHostInput, validateHostInput, type ValidationContext } from '../../main/hosts/validation.js';

const HOME = '/home/tester';

function record(name: string, jump: string | null = null): HostRecord {
  return { name, host: `${name}.example.com`, port: 22, user: 'ops', identityFile: null, passwordEnv: null, jump, mac: null, wolAddress: null, wolPort: null, knownHostsFiles: [] };
}

function ctx(overrides: Partial<ValidationContext> = {}): ValidationContext {
  return { existing: [], homeDir: HOME, fileExists: (p) => p === `${HOME}/.ssh/id_ed25519`, ...overrides };
}

function errorOf(input: unknown, context: ValidationContext = ctx()): FleetError {
  try {
    validateHostInput(input, context);
  } catch (err) {
    expect(err).toBeInstanceOf(FleetError);
    return err as FleetError;
  }
  throw new Error('expected validateHostInput to throw');
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

describe('validateHostInput', () => {
  it('returns a full record with defaults and nulls for unset fields', () => {
    expect(validateHostInput({ name: ' gpu-1 ', host: ' 10.0.0.5 ' }, ctx())).toEqual({
      name: 'gpu-1',
      host: '10.0.0.5',
      port: 22,
      user: 'localme',
      identityFile: null,
      passwordEnv: null,
      jump: null,
      mac: null,
      wolAddress: null,
      wolPort: null,
      knownHostsFiles: [],
    });
  });

  it('stores every optional field in normal form', () => {
    const r = validateHostInput(
      {
        name: 'gpu-2',
        host: '[fe80::1]',
        port: '2222',
        user: 'deploy$',
        identityFile: '~/.ssh/id_ed25519',
        passwordEnv: 'GPU2_PASSWORD',
        jump: 'BASTION',
        mac: 'AA-BB-CC-DD-EE-01',
        wolAddress: '192.168.1.255',
        wolPort: 7,
        knownHostsFiles: ['~/.ssh/known_hosts.work', 'none', '/etc/ssh/work_hosts', '~/.ssh/known_hosts.work'],
      },
      ctx({ existing: [record('bastion')] }),
    );
    expect(r).toEqual({
      name: 'gpu-2',
      host: 'fe80::1',
      port: 2222,
      user: 'deploy$',
      identityFile: `${HOME}/.ssh/id_ed25519`,
      passwordEnv: 'GPU2_PASSWORD',
      jump: 'bastion',
      mac: 'aa:bb:cc:dd:ee:01',
      wolAddress: '192.168.1.255',
      wolPort: 7,
      knownHostsFiles: [`${HOME}/.ssh/known_hosts.work`, '/etc/ssh/work_hosts'],
    });
  });

  it('refuses known_hosts files that are not a list of full paths, naming the field', () => {
    const bad = (knownHostsFiles: unknown) => () => validateHostInput({ name: 'a', host: 'h', knownHostsFiles }, ctx());
    expect(bad('~/.ssh/kh')).toThrow(expect.objectContaining({ field: 'knownHostsFiles', message: expect.stringMatching(/must be a list of paths/) }));
    expect(bad(['kh'])).toThrow(/must be a full path such as ~\/\.ssh\/known_hosts\.work \(got "kh"\)/);
    expect(bad(['~bob/kh'])).toThrow(/~user, which is not supported/);
    expect(bad(Array.from({ length: 9 }, (_, i) => `/k${i}`))).toThrow(/At most 8 known hosts files per host \(got 9\)/);
  });

  it('treats empty optional strings as not set', () => {
    const r = validateHostInput({ name: 'a', host: 'a.lan', port: '', user: '', identityFile: ' ', passwordEnv: '', jump: '', mac: '', wolAddress: '', wolPort: '' }, ctx());
    expect(r).toMatchObject({ port: 22, user: 'localme', identityFile: null, passwordEnv: null, jump: null, mac: null, wolAddress: null, wolPort: null });
  });

  it('rejects non-objects without a field', () => {
    for (const bad of [null, 'gpu-1', 42, ['a']]) {
      const e = errorOf(bad);
      expect(e.code).toBe('invalid-input');
      expect(e.field).toBeUndefined();
      expect(e.message).toMatch(/must be an object/);
    }
  });

  it.each([
    [{ host: 'x' }, 'name', /Name is required/],
    [{ name: '', host: 'x' }, 'name', /Name is required/],
    [{ name: '-gpu', host: 'x' }, 'name', /must not start with "-" or "\."/],
    [{ name: '.gpu', host: 'x' }, 'name', /must not start/],
    [{ name: 'gpu 1', host: 'x' }, 'name', /only letters, digits/],
    [{ name: 'a'.repeat(65), host: 'x' }, 'name', /at most 64/],
    [{ name: 7, host: 'x' }, 'name', /must be text/],
    [{ name: 'a' }, 'host', /Host is required/],
    [{ name: 'a', host: 'root@gpu' }, 'host', /User field/],
    [{ name: 'a', host: 'gpu:2222' }, 'host', /Port field/],
    [{ name: 'a', host: '[::1]:22' }, 'host', /Port field/],
    [{ name: 'a', host: 'gpu one' }, 'host', /spaces/],
    [{ name: 'a', host: '256.1.1.1' }, 'host', /not a valid IPv4/],
    [{ name: 'a', host: '10.0.0.01' }, 'host', /leading zeros/],
    [{ name: 'a', host: '-gpu.lan' }, 'host', /not a valid host name/],
    [{ name: 'a', host: 'gpu-.lan' }, 'host', /not a valid host name/],
    [{ name: 'a', host: 'gpu..lan' }, 'host', /not a valid host name/],
    [{ name: 'a', host: 'gpu_1.lan' }, 'host', /not a valid host name/],
    [{ name: 'a', host: 'gpu.lan.' }, 'host', /must not end with a dot/],
    [{ name: 'a', host: `${'a'.repeat(63)}.`.repeat(4) + 'a' }, 'host', /at most 253/],
    [{ name: 'a', host: 'fe80::zz' }, 'host', /not a valid IPv6/],
    [{ name: 'a', host: 'x', port: 0 }, 'port', /whole number from 1 to 65535 \(got "0"\)/],
    [{ name: 'a', host: 'x', port: '70000' }, 'port', /\(got "70000"\)/],
    [{ name: 'a', host: 'x', port: 22.5 }, 'port', /whole number/],
    [{ name: 'a', host: 'x', port: '0x16' }, 'port', /whole number/],
    [{ name: 'a', host: 'x', user: '1root' }, 'user', /not a valid user name/],
    [{ name: 'a', host: 'x', user: 'a'.repeat(33) }, 'user', /at most 32/],
    [{ name: 'a', host: 'x', identityFile: 'id_rsa' }, 'identityFile', /full path/],
    [{ name: 'a', host: 'x', identityFile: '~/.ssh/missing' }, 'identityFile', /\/home\/tester\/\.ssh\/missing" does not exist/],
    [{ name: 'a', host: 'x', identityFile: '~bob/.ssh/id' }, 'identityFile', /~user/],
    [{ name: 'a', host: 'x', passwordEnv: 'hunter2 !' }, 'passwordEnv', /not the password/],
    [{ name: 'a', host: 'x', jump: 'nowhere' }, 'jump', /does not exist. Add it first/],
    [{ name: 'a', host: 'x', jump: 'A' }, 'jump', /itself/],
    [{ name: 'a', host: 'x', mac: 'nope' }, 'mac', /MAC address/],
    [{ name: 'a', host: 'x', wolAddress: 'bcast:9' }, 'wolAddress', /Wake-on-LAN port field/],
    [{ name: 'a', host: 'x', wolPort: 65536 }, 'wolPort', /Wake-on-LAN port must be a whole number/],
  ])('rejects %j on field %s', (input, field, message) => {
    const e = errorOf(input);
    expect(e.code).toBe('invalid-input');
    expect(e.field).toBe(field);
    expect(e.message).toMatch(message);
  });

  it('keeps the file name of a long missing key path in the message', () => {
    const deep = `/${'very-long-directory-name/'.repeat(6)}.ssh/id_lab_missing`;
    const e = errorOf({ name: 'a', host: 'x', identityFile: deep });
    expect(e.field).toBe('identityFile');
    expect(e.message).toContain('.ssh/id_lab_missing"');
    expect(e.message).toContain('…');
    expect(e.message.length).toBeLessThan(220);
  });

  it('never echoes a password typed into passwordEnv', () => {
    const e = errorOf({ name: 'a', host: 'x', passwordEnv: 'S3cr3t-P@ss' });
    expect(e.message).not.toContain('S3cr3t');
  });

  it('accepts IPv4, IPv6 with and without brackets, and host names', () => {
    for (const [host, stored] of [
      ['192.168.0.1', '192.168.0.1'],
      ['::1', '::1'],
      ['[2001:db8::7]', '2001:db8::7'],
      ['GPU-Box.lab.example.com', 'GPU-Box.lab.example.com'],
      ['localhost', 'localhost'],
    ]) {
      expect(validateHostInput({ name: 'n', host }, ctx()).host).toBe(stored);
    }
  });

  it('reports a taken name (any case) as a conflict, except for the host being edited', () => {
    const existing = [record('gpu-1')];
    const e = errorOf({ name: 'GPU-1', host: 'x' }, ctx({ existing }));
    expect(e.code).toBe('conflict');
    expect(e.field).toBe('name');
    expect(validateHostInput({ name: 'gpu-1', host: 'x' }, ctx({ existing, editing: 'gpu-1' })).name).toBe('gpu-1');
  });

  it('refuses a jump chain that loops back', () => {
    const existing = [record('a', 'b'), record('b', 'c'), record('c')];
    expect(validateHostInput({ name: 'c', host: 'x', jump: 'b' }, ctx({ existing: [record('a', 'b'), record('b')], editing: 'c' })).jump).toBe('b');
    const e = errorOf({ name: 'c', host: 'x', jump: 'a' }, ctx({ existing, editing: 'c' }));
    expect(e.field).toBe('jump');
    expect(e.message).toMatch(/loop \(c -> a -> b -> c\)/);
  });

  it('asks for a user when the local user name cannot be used', () => {
    process.env.USER = 'John Smith';
    expect(errorOf({ name: 'a', host: 'x' }).field).toBe('user');
    expect(validateHostInput({ name: 'a', host: 'x', user: 'john' }, ctx()).user).toBe('john');
  });

  it('checkHostInput lists every bad field at once', () => {
    const { record: r, errors } = checkHostInput({ name: 'ok', host: 'a b', port: 'x', mac: 'nope' }, ctx());
    expect(r).toBeNull();
    expect(errors.map((e) => e.field)).toEqual(['host', 'port', 'mac']);
  });
});

describe('reserved host names (issue 10, item 7)', () => {
  it.each(['__proto__', 'constructor', 'prototype', 'Constructor', 'toString', 'hasOwnProperty', '__defineGetter__', 'valueOf'])(
    'refuses %j as a name with a clear message, and leaves Object.prototype alone',
    (name) => {
      const e = errorOf({ name, host: '10.0.0.5' });
      expect(e.code).toBe('invalid-input');
      expect(e.field).toBe('name');
      expect(e.message).toContain(`Name ${JSON.stringify(name)} is reserved`);
      expect(e.message).toMatch(/Choose another name/);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    },
  );

  it('reports a reserved name among all field errors of checkHostInput (as import shows them)', () => {
    const { record, errors } = checkHostInput({ name: '__proto__', host: 'bad host' }, ctx());
    expect(record).toBeNull();
    expect(errors.map((e) => e.field)).toEqual(['name', 'host']);
  });

  it('still accepts names that merely contain a reserved word', () => {
    expect(validateHostInput({ name: 'constructor-1', host: '10.0.0.5' }, ctx()).name).toBe('constructor-1');
    expect(validateHostInput({ name: 'proto', host: '10.0.0.5' }, ctx()).name).toBe('proto');
  });
});

describe('Wake-on-LAN address (issue 10, item 12)', () => {
  it.each(['192.168.1.255', '10.0.0.7', '127.0.0.1', '255.255.255.255'])('accepts the IPv4 address %s', (wolAddress) => {
    expect(validateHostInput({ name: 'a', host: 'x', wolAddress }, ctx()).wolAddress).toBe(wolAddress);
  });

  it.each([
    ['gpu1-bcast.lan', /must be an IPv4 address \(got a host name, "gpu1-bcast.lan"\)/],
    ['broadcast', /must be an IPv4 address \(got a host name, "broadcast"\)/],
    ['fe80::1', /must be an IPv4 address \(got an IPv6 address, "fe80::1"\)/],
    ['[fe80::1]', /must be an IPv6|must be an IPv4 address \(got an IPv6 address/],
    ['ff02::1', /names are never resolved/],
    ['0.0.0.0', /not an address a packet can be sent to/],
    ['250.1.2.3', /reserved range/],
    ['192.168.1.256', /not a valid IPv4 address/],
    ['192.168.1.255:9', /Wake-on-LAN port field/],
    ['root@192.168.1.255', /without a user/],
  ])('refuses %j when it is set, not at wake time', (wolAddress, message) => {
    const e = errorOf({ name: 'a', host: 'x', wolAddress });
    expect(e.code).toBe('invalid-input');
    expect(e.field).toBe('wolAddress');
    expect(e.message).toMatch(message);
    expect(e.message).not.toContain('undefined');
  });

  it('tells how to fix a host name: the broadcast address, or leave it empty', () => {
    expect(errorOf({ name: 'a', host: 'x', wolAddress: 'bcast.example.com' }).message).toMatch(/192\.168\.1\.255, or leave it empty/);
  });
});
