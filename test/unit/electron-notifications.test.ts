import { describe, expect, it } from 'vitest';
import type { FleetNotification } from '../../preload/api.js';
import { NotificationPresenter, type NotificationOptionsLike } from '../../main/electron/notifications.js';

function fakeNotificationClass(supported = true) {
  const made: FakeNote[] = [];
  class FakeNote {
    handlers = new Map<string, (...a: unknown[]) => void>();
    shown = false;
    closed = false;
    constructor(readonly options: NotificationOptionsLike) {
      made.push(this);
    }
    static isSupported() {
      return supported;
    }
    show() {
      this.shown = true;
    }
    close() {
      this.closed = true;
    }
    on(e: string, l: (...a: unknown[]) => void) {
      this.handlers.set(e, l);
      return this;
    }
  }
  return { FakeNote, made };
}

const note = (kind: FleetNotification['kind'], host = 'gpu-1'): FleetNotification => ({ kind, host, title: `${host} ${kind}`, body: 'body', at: 1 });

describe('NotificationPresenter', () => {
  it('shows a notification and opens the host on click', () => {
    const { FakeNote, made } = fakeNotificationClass();
    const opened: string[] = [];
    const p = new NotificationPresenter({ Notification: FakeNote, onClick: (h) => opened.push(h), icon: '/icon.png' });
    expect(p.show(note('woke'))).toBe(true);
    expect(made[0]!.shown).toBe(true);
    expect(made[0]!.options).toEqual({ title: 'gpu-1 woke', body: 'body', silent: false, icon: '/icon.png' });
    expect(p.liveCount).toBe(1);
    made[0]!.handlers.get('click')!();
    expect(opened).toEqual(['gpu-1']);
    expect(p.liveCount).toBe(0);
  });

  it('slept is silent; a changed host key is critical', () => {
    const { FakeNote, made } = fakeNotificationClass();
    const p = new NotificationPresenter({ Notification: FakeNote, onClick: () => {} });
    p.show(note('slept'));
    p.show(note('host-key-changed'));
    expect(made[0]!.options.silent).toBe(true);
    expect(made[1]!.options.urgency).toBe('critical');
  });

  it('does nothing where notifications are unsupported', () => {
    const { FakeNote, made } = fakeNotificationClass(false);
    const p = new NotificationPresenter({ Notification: FakeNote, onClick: () => {} });
    expect(p.show(note('woke'))).toBe(false);
    expect(made).toHaveLength(0);
  });

  it('keeps a bounded number alive and releases closed or failed ones', () => {
    const { FakeNote, made } = fakeNotificationClass();
    const warnings: string[] = [];
    const p = new NotificationPresenter({ Notification: FakeNote, onClick: () => {}, log: { warn: (m) => warnings.push(m) } });
    for (let i = 0; i < 25; i++) p.show(note('woke', `h${i}`));
    expect(p.liveCount).toBe(20);
    made[24]!.handlers.get('close')!();
    made[23]!.handlers.get('failed')!({}, 'DBus error');
    expect(p.liveCount).toBe(18);
    expect(warnings).toEqual(['Could not show a notification: DBus error']);
    p.closeAll();
    expect(p.liveCount).toBe(0);
  });
});
