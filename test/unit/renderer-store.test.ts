import { beforeEach, describe, expect, it } from 'vitest';
import type { HostStatus, HostView } from '../../preload/api.js';
import {
  applyHosts,
  applyStatus,
  openDialog,
  pushPrompt,
  removePrompt,
  resetFleetStore,
  selectSummary,
  useFleet,
  watchHost,
} from '../../renderer/state/store.js';

const host = (name: string, extra: Partial<HostView> = {}): HostView => ({
  name,
  host: `${name}.lan`,
  port: 22,
  user: 'me',
  identityFile: null,
  passwordEnv: null,
  jump: null,
  mac: null,
  wolAddress: null,
  wolPort: null,
  hasStoredPassword: false,
  hasStoredPassphrase: false,
  ...extra,
});
const status = (name: string, state: HostStatus['state'], since: number, extra: Partial<HostStatus> = {}): HostStatus => ({
  name,
  state,
  since,
  ...extra,
});

describe('renderer fleet store', () => {
  beforeEach(() => resetFleetStore());

  it('keeps object identity of unchanged hosts and of the name list', () => {
    applyHosts([host('a'), host('b')]);
    const s1 = useFleet.getState();
    applyHosts([host('a'), host('b', { user: 'root' })]);
    const s2 = useFleet.getState();
    expect(s2.hostsByName.a).toBe(s1.hostsByName.a);
    expect(s2.hostsByName.b).not.toBe(s1.hostsByName.b);
    expect(s2.hostNames).toBe(s1.hostNames);
    applyHosts([host('b'), host('a')]);
    expect(useFleet.getState().hostNames).toEqual(['b', 'a']);
  });

  it("a status update touches only that host's status object", () => {
    applyHosts([host('a'), host('b')]);
    applyStatus(status('a', 'connecting', 1));
    applyStatus(status('b', 'connecting', 1));
    const before = useFleet.getState().statuses;
    applyStatus(status('a', 'online', 2));
    const after = useFleet.getState().statuses;
    expect(after.a?.state).toBe('online');
    expect(after.b).toBe(before.b);
    // Older and identical statuses are ignored.
    applyStatus(status('a', 'offline', 1));
    applyStatus(status('a', 'online', 2));
    expect(useFleet.getState().statuses).toBe(after);
  });

  it('summarises the fleet', () => {
    expect(selectSummary(useFleet.getState())).toBe('No hosts yet');
    applyHosts([host('a'), host('b'), host('c'), host('d'), host('e')]);
    applyStatus(status('a', 'online', 1));
    applyStatus(status('b', 'online', 1));
    applyStatus(status('c', 'auth-failed', 1));
    applyStatus(status('e', 'connecting', 1));
    expect(selectSummary(useFleet.getState())).toBe('2 online · 1 offline · 1 connecting · 1 needs attention');
  });

  it('opens the host key dialog for a host the user just connected, not for others', () => {
    applyHosts([host('a'), host('b')]);
    applyStatus(status('b', 'host-key-unknown', 1, { fingerprint: 'SHA256:x' }));
    expect(useFleet.getState().dialog).toBeNull();
    watchHost('a');
    applyStatus(status('a', 'connecting', 2));
    expect(useFleet.getState().dialog).toBeNull();
    applyStatus(status('a', 'host-key-changed', 3, { fingerprint: 'SHA256:y', expectedFingerprint: 'SHA256:z' }));
    expect(useFleet.getState().dialog).toEqual({ kind: 'host-key', name: 'a' });
    expect(useFleet.getState().watching).toEqual({});
  });

  it('does not replace a dialog the user has open', () => {
    applyHosts([host('a')]);
    openDialog({ kind: 'import' });
    watchHost('a');
    applyStatus(status('a', 'host-key-unknown', 1, { fingerprint: 'SHA256:x' }));
    expect(useFleet.getState().dialog).toEqual({ kind: 'import' });
  });

  it('closes a dialog about a host that was removed', () => {
    applyHosts([host('a')]);
    openDialog({ kind: 'edit', name: 'a' });
    applyHosts([]);
    expect(useFleet.getState().dialog).toBeNull();
  });

  it('queues prompts and drops them on prompt-closed', () => {
    const p = (id: string) => ({
      id,
      host: 'a',
      kind: 'password' as const,
      title: 't',
      instructions: '',
      prompts: [{ text: 'Password', echo: false }],
      canRemember: false,
    });
    pushPrompt(p('1'));
    pushPrompt(p('2'));
    expect(useFleet.getState().prompts.map((x) => x.id)).toEqual(['1', '2']);
    removePrompt('1');
    expect(useFleet.getState().prompts.map((x) => x.id)).toEqual(['2']);
  });
});
