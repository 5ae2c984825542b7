import { describe, expect, it } from 'vitest';
import { compareVersions, parseVersion, versionAtLeast } from '../../main/remote/version.js';
import { parseAgentVersionOutput } from '../../main/deploy/artifacts.js';

describe('versions', () => {
  it('parses node -v, bare, and prose forms', () => {
    expect(parseVersion('v20.19.0')).toEqual({ major: 20, minor: 19, patch: 0 });
    expect(parseVersion('18.0.0-pre')).toEqual({ major: 18, minor: 0, patch: 0 });
    expect(parseVersion('glibc 2.36')).toEqual({ major: 2, minor: 36, patch: 0 });
    expect(parseVersion('node v22.1.3\n')).toEqual({ major: 22, minor: 1, patch: 3 });
    expect(parseVersion('')).toBeNull();
    expect(parseVersion('bash: node: command not found')).toBeNull();
  });

  it('compares numerically, not as strings', () => {
    expect(compareVersions('v9.11.2', 'v18.0.0')).toBeLessThan(0);
    expect(compareVersions('v18.0.0', '18.0.0')).toBe(0);
    expect(compareVersions('v20.10.0', 'v20.9.9')).toBeGreaterThan(0);
    expect(compareVersions('2.28', '2.17')).toBeGreaterThan(0);
    expect(compareVersions('garbage', '1.0.0')).toBeLessThan(0);
  });

  it('versionAtLeast: node >= 18, glibc >= 2.28', () => {
    expect(versionAtLeast('v18.0.0', '18.0.0')).toBe(true);
    expect(versionAtLeast('v17.9.1', '18.0.0')).toBe(false);
    expect(versionAtLeast('v16.20.2', '18.0.0')).toBe(false);
    expect(versionAtLeast('2.27', '2.28')).toBe(false);
    expect(versionAtLeast('2.36', '2.28')).toBe(true);
    expect(versionAtLeast(null, '18.0.0')).toBe(false);
  });

  it('reads the agent version token from `fleetwake-agent version`', () => {
    expect(parseAgentVersionOutput('0.1.0+1a2b3c4d5e6f\n')).toBe('0.1.0+1a2b3c4d5e6f');
    expect(parseAgentVersionOutput('fleetwake-agent 0.1.0+1a2b3c4d5e6f (protocol 1)\n')).toBe('0.1.0+1a2b3c4d5e6f');
    expect(parseAgentVersionOutput('0.0.0-dev')).toBe('0.0.0-dev');
  });
});
