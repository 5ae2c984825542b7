/**
 * Shows the core's FleetNotifications as native notifications. The core (main/notify) already decided
 * what to show and filtered by preference; this only presents. Electron's Notification is injected.
 */
import type { FleetNotification } from '../../preload/api.js';

export interface NotificationLike {
  show(): void;
  close(): void;
  on(event: 'click' | 'close' | 'failed', listener: (...args: unknown[]) => void): unknown;
}

export interface NotificationOptionsLike {
  title: string;
  body: string;
  silent?: boolean;
  icon?: string;
  urgency?: 'normal' | 'critical' | 'low';
}

/** Electron's Notification class, structurally. */
export interface NotificationClassLike {
  new (options: NotificationOptionsLike): NotificationLike;
  isSupported(): boolean;
}

export interface NotificationPresenterOptions {
  Notification: NotificationClassLike;
  /** Clicking a notification opens that host. */
  onClick(host: string): void;
  icon?: string;
  log?: { warn(message: string): void };
}

/** At most this many notifications are kept alive (referenced) for their click handlers. */
const MAX_LIVE = 20;

export class NotificationPresenter {
  /**
   * Electron garbage-collects a Notification nobody references, and its click handler with it; keep
   * each one until it is closed or clicked.
   */
  private readonly live = new Set<NotificationLike>();

  constructor(private readonly opts: NotificationPresenterOptions) {}

  /** Returns false when the platform has no notifications. */
  show(n: FleetNotification): boolean {
    let supported = false;
    try {
      supported = this.opts.Notification.isSupported();
    } catch {
      supported = false;
    }
    if (!supported) return false;
    const critical = n.kind === 'host-key-changed';
    const note = new this.opts.Notification({
      title: n.title,
      body: n.body,
      silent: n.kind === 'slept',
      ...(this.opts.icon ? { icon: this.opts.icon } : {}),
      ...(critical ? { urgency: 'critical' as const } : {}),
    });
    const release = () => void this.live.delete(note);
    note.on('click', () => {
      release();
      this.opts.onClick(n.host);
    });
    note.on('close', release);
    note.on('failed', (...args: unknown[]) => {
      release();
      (this.opts.log ?? console).warn(`Could not show a notification: ${String(args[1] ?? 'unknown error')}`);
    });
    if (this.live.size >= MAX_LIVE) {
      const oldest = this.live.values().next().value;
      if (oldest) this.live.delete(oldest);
    }
    this.live.add(note);
    note.show();
    return true;
  }

  get liveCount(): number {
    return this.live.size;
  }

  closeAll(): void {
    for (const n of this.live) n.close();
    this.live.clear();
  }
}
