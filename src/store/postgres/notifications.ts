// One LISTEN connection per store, fanning PostgreSQL notifications out to
// the repositories' watchers. The schema's triggers (and the registration
// write-behind) NOTIFY on one channel with the name of the feed that moved.
// A notification is only a wake-up: the watcher reads the log or revision
// itself, so one lost while reconnecting costs a delay (the safety-net timer
// or the catch-up after reconnecting), never a change.
import pg from 'pg';

export const CHANNEL = 'switchboard_changes';
export type Feed = 'users' | 'trunks' | 'hunt_groups' | 'short_codes' | 'registrations' | 'voicemail' | 'ivr_menus' | 'conference_rooms' | 'audio_files' | 'gateway' | 'gateway_mwi';

const RECONNECT_MS = 1000;

export class Notifications {
  private client: pg.Client | undefined;
  private readonly subscribers = new Map<Feed, Set<() => void>>();
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  /** Why the LISTEN connection is down, or undefined while it is up. */
  problem: string | undefined = 'not connected yet';

  constructor(
    private readonly config: pg.ClientConfig,
    private readonly onError: (err: Error) => void,
  ) {}

  async start(): Promise<void> {
    await this.connect();
  }

  subscribe(feed: Feed, fire: () => void): () => void {
    let set = this.subscribers.get(feed);
    if (!set) this.subscribers.set(feed, (set = new Set()));
    set.add(fire);
    return () => set.delete(fire);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client(this.config);
    client.on('notification', (n) => {
      for (const fire of this.subscribers.get(n.payload as Feed) ?? []) fire();
    });
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, new Error('connection ended')));
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
    if (this.closed) {
      await client.end();
      return;
    }
    this.client = client;
    this.problem = undefined;
  }

  private lost(client: pg.Client, err: Error): void {
    if (this.client !== client || this.closed) return;
    this.client = undefined;
    this.problem = `change notifications: ${err.message}`;
    this.onError(new Error(this.problem));
    client.removeAllListeners('end');
    void client.end().catch(() => {});
    this.retry();
  }

  private retry(): void {
    this.timer = setTimeout(() => {
      this.connect().then(
        // Whatever changed while we were away: every watcher looks once.
        () => { for (const set of this.subscribers.values()) for (const fire of set) fire(); },
        (err: unknown) => {
          this.problem = `change notifications: ${(err as Error).message}`;
          if (!this.closed) this.retry();
        },
      );
    }, RECONNECT_MS);
    this.timer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    const c = this.client;
    this.client = undefined;
    if (c) {
      c.removeAllListeners('end');
      await c.end();
    }
  }
}
