import { describe, expect, it } from 'vitest';
import type { FleetNotification, HostState, Preferences } from '../../preload/api.js';
import { Notifier } from '../../main/notify/index.js';
import { defaultPreferences } from '../../main/preferences/index.js';

function setup(prefs: Preferences = defaultPreferences()) {
  let now = 1_000_000;
  const out: FleetNotification[] = [];
  const n = new Notifier({ preferences: () => prefs, emit: (x) => out.push(x), now: () => now });
  const st = (name: string, state: HostState, error?: string) => n.hostStatus({ name, state, since: now, ...(error ? { error } : {}) });
  return { n, out, st, prefs, advance: (ms: number) => (now += ms), kinds: () => out.map((x) => `${x.kind}:${x.host}`) };
}

describe('Notifier', () => {
  it('no woke on the first connect after app start', () => {
    const { st, kinds } = setup();
    st('a', 'connecting');
    st('a', 'online');
    st('a', 'offline');
    st('a', 'online');
    expect(kinds()).toEqual([]);
  });

  it('slept then woke through status transitions', () => {
    const { st, kinds, out } = setup();
    st('a', 'online');
    st('a', 'asleep');
    st('a', 'waking');
    st('a', 'online');
    expect(kinds()).toEqual(['slept:a', 'woke:a']);
    expect(out[0]!.title).toBe('a is asleep');
  });

  it('explicit slept() carries the reason and a WoL warning; the following asleep status does not repeat it', () => {
    const { n, st, out } = setup();
    st('a', 'online');
    n.slept('a', { reason: 'idle', wolArmed: false, wolMessage: 'ethtool: Operation not permitted', at: 42 });
    st('a', 'asleep');
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ kind: 'slept', at: 42 });
    expect(out[0]!.body).toContain('Wake-on-LAN could not be armed (ethtool: Operation not permitted)');
  });

  it('wake progress: woke once on ssh-up/agent-up, wake-timeout on failed', () => {
    const { n, st, kinds, out } = setup();
    st('a', 'asleep');
    n.wakeProgress({ name: 'a', step: 'packet-sent', message: '', at: 1 });
    n.wakeProgress({ name: 'a', step: 'ssh-up', message: '', at: 2 });
    n.wakeProgress({ name: 'a', step: 'agent-up', message: '', at: 3 });
    st('a', 'online');
    n.wakeProgress({ name: 'b', step: 'packet-sent', message: '', at: 1 });
    n.wakeProgress({ name: 'b', step: 'failed', message: 'No answer within 120 s.', at: 2 });
    expect(kinds()).toEqual(['woke:a', 'wake-timeout:b']);
    expect(out[1]!.title).toBe('b did not wake up');
    expect(out[1]!.body).toBe('No answer within 120 s.');
  });

  it('a wake that reached a host whose SSH needs the user says it woke; an app closing says nothing', () => {
    const { n, kinds, out } = setup();
    n.wakeProgress({ name: 'c', step: 'packet-sent', message: '', at: 1 });
    n.wakeProgress({ name: 'c', step: 'failed', message: 'c is awake but SSH needs you: host key changed', at: 2, failure: 'needs-you' });
    n.wakeProgress({ name: 'd', step: 'packet-sent', message: '', at: 1 });
    n.wakeProgress({ name: 'd', step: 'failed', message: 'Stopped waiting for d: the app is closing.', at: 2, failure: 'stopped' });
    expect(kinds()).toEqual(['wake-timeout:c']);
    expect(out[0]!.title).toBe('c woke, but SSH needs you');
    expect(out[0]!.body).toContain('host key changed');
  });

  it('asleep already at start: silent, but the later wake is news', () => {
    const { st, kinds } = setup();
    st('a', 'asleep');
    st('a', 'online');
    expect(kinds()).toEqual(['woke:a']);
  });

  it('explicit woke() only for hosts seen asleep, with timing', () => {
    const { n, out } = setup();
    n.woke('never-slept');
    expect(out).toEqual([]);
    n.slept('a');
    n.woke('a', { seconds: 41, sleptSeconds: 3 * 3600 + 600 });
    expect(out.at(-1)!.body).toBe('Answered 41 s after the magic packet. Slept 3 h 10 min.');
  });

  it('host key changed, even as the first state seen', () => {
    const { st, kinds, out } = setup();
    st('a', 'host-key-changed', 'Different key!');
    st('b', 'online');
    st('b', 'host-key-changed');
    expect(kinds()).toEqual(['host-key-changed:a', 'host-key-changed:b']);
    expect(out[0]!.body).toBe('Different key!');
  });

  it('agent unreachable only while its host is online, once per transition', () => {
    const { n, st, kinds } = setup();
    st('a', 'offline');
    n.agentStatus({ name: 'a', state: 'unreachable', message: 'host offline', since: 1 });
    st('b', 'online');
    n.agentStatus({ name: 'b', state: 'running', since: 1 });
    n.agentStatus({ name: 'b', state: 'unreachable', message: 'socket refused', since: 2 });
    n.agentStatus({ name: 'b', state: 'unreachable', message: 'still refused', since: 3 });
    expect(kinds()).toEqual(['agent-unreachable:b']);
  });

  it('de-duplicates a kind per host within 5 minutes', () => {
    const { n, kinds, advance } = setup();
    n.slept('a');
    n.slept('b');
    advance(4 * 60_000);
    n.slept('a');
    advance(61_000);
    n.slept('a');
    expect(kinds()).toEqual(['slept:a', 'slept:b', 'slept:a']);
  });

  it('honours preferences, read at each decision', () => {
    const prefs = defaultPreferences();
    const { n, kinds } = setup(prefs);
    prefs.notifications.slept = false;
    n.slept('a');
    prefs.notifications.slept = true;
    n.slept('a');
    expect(kinds()).toEqual(['slept:a']);
  });

  it('forget() clears a host', () => {
    const { n, kinds } = setup();
    n.slept('a');
    n.forget('a');
    n.slept('a');
    n.woke('a');
    n.forget('a');
    n.woke('a');
    expect(kinds()).toEqual(['slept:a', 'slept:a', 'woke:a']);
  });
});
