// How a PostgreSQL repository's watcher is woken: by NOTIFY through the
// store's LISTEN connection, with a slow timer as the safety net.
import type { WatchOptions } from '../types.ts';
import type { WatchTriggers } from '../watch.ts';
import type { Feed, Notifications } from './notifications.ts';

/** The safety-net period: notifications normally arrive within milliseconds. */
const SAFETY_NET_MS = 5000;

export class WatchWiring {
  constructor(
    private readonly notifications: Notifications,
    readonly onError: (err: Error) => void,
  ) {}

  triggers(feed: Feed, opts: WatchOptions): WatchTriggers {
    const interval = opts.intervalMs ?? 500;
    return {
      intervalMs: interval === 0 ? 0 : Math.max(interval, SAFETY_NET_MS),
      wake: (fire) => this.notifications.subscribe(feed, fire),
      onError: this.onError,
    };
  }
}
