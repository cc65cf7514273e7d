// Writes the addresses users authenticated from (the lockout allow-lists) to
// the store off the path that saw them: the SIP path only drops a sighting
// into a bounded map; a timer writes the map in one batch and now and then
// ages out old addresses.
import type { TrustedSourceRepository, TrustedSourceSighting, TrustKind } from '../store/admin-types.ts';

export interface TrustRecorderOptions {
  now: () => number;
  /** How long an address stays trusted without a new sighting. Default 30 days. */
  keepMs?: number;
  /** Default 1 s. */
  flushMs?: number;
  /** Sightings waiting for the next batch; more are dropped (and counted) until it is written. Default 10 000. */
  maxPending?: number;
  /** A batch failed (it is kept and retried with the next one); the caller logs, once per interval. */
  onError?: (err: Error) => void;
}

export const TRUST_KEEP_MS = 30 * 86_400_000;
/** Users read for a banned address: a gateway's phones, bounded (more recent ones first). */
export const ALLOWED_USERS_PER_ADDRESS = 10_000;
const PRUNE_EVERY_MS = 3_600_000;

export class TrustRecorder {
  private pending = new Map<string, TrustedSourceSighting>();
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private lastPrune = 0;
  private closed = false;
  private readonly keepMs: number;
  private readonly flushMs: number;
  private readonly maxPending: number;
  /** Sightings dropped because the queue was full (the next sighting of the pair, an hour on, retries). */
  dropped = 0;

  constructor(private readonly repo: TrustedSourceRepository, private readonly opts: TrustRecorderOptions) {
    this.keepMs = opts.keepMs ?? TRUST_KEEP_MS;
    this.flushMs = opts.flushMs ?? 1000;
    this.maxPending = opts.maxPending ?? 10_000;
  }

  /** O(1); never waits. */
  add(kind: TrustKind, subject: string, address: string): void {
    const key = `${kind}\0${subject}\0${address}`;
    if (!this.pending.has(key) && this.pending.size >= this.maxPending) {
      this.dropped++;
      return;
    }
    this.pending.set(key, { kind, subject, address, at: this.opts.now() });
    this.schedule();
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.flushMs).unref();
  }

  /** The cut-off for `has`/`list`: sightings older than this no longer count. */
  since(): number {
    return this.opts.now() - this.keepMs;
  }

  /** Writes what is waiting (after any batch in progress). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    this.writing = this.write(batch).finally(() => (this.writing = undefined));
    await this.writing;
  }

  /** Stops the timer and writes what is waiting. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private async write(batch: Map<string, TrustedSourceSighting>): Promise<void> {
    try {
      await this.repo.record([...batch.values()]);
      const now = this.opts.now();
      if (now - this.lastPrune >= PRUNE_EVERY_MS) {
        this.lastPrune = now;
        await this.repo.prune(now - this.keepMs);
      }
    } catch (err) {
      // Kept for the next batch (newer sightings of the same key win), within the cap.
      for (const [k, v] of batch) {
        if (this.pending.has(k)) continue;
        if (this.pending.size >= this.maxPending) this.dropped++;
        else this.pending.set(k, v);
      }
      this.opts.onError?.(err as Error);
      if (this.pending.size > 0) this.schedule();
    }
  }
}
