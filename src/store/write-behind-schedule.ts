// When write-behind writes, the same for both engines: a timer every
// flushIntervalMs after the first enqueue, at once when maxQueue entries
// wait, backing off while flushes fail. Each engine's write-behind
// (sqlite/write-behind.ts, postgres/write-behind.ts) says how a flush runs.

export interface WriteBehindOptions {
  flushIntervalMs: number;
  maxQueue: number;
  onError: (err: Error) => void;
}

/** Pending work, handed over as a batch and put back when it could not be written. */
export interface WriteQueue<B> {
  /** Distinct queued entries. */
  readonly size: number;
  /** Hands over everything queued and starts an empty queue. */
  take(): B;
  /** Puts back a batch that could not be written, under anything queued since (newer wins). */
  restore(older: B): void;
}

/** What the repositories' enqueue methods need of either engine's write-behind. */
export interface WriteBehindGate {
  readonly closed: boolean;
  /** Call after adding to the queue. */
  queued(): void;
}

export abstract class WriteBehindSchedule<B> implements WriteBehindGate {
  private timer: NodeJS.Timeout | undefined;
  protected isClosed = false;
  /** Consecutive failed background flushes (SQLite: found the database locked by another writer). */
  protected failures = 0;

  constructor(
    protected readonly queue: WriteQueue<B>,
    protected readonly opts: WriteBehindOptions,
  ) {}

  get closed(): boolean {
    return this.isClosed;
  }

  /** Flushes from the timer or the full-queue path: errors are reported, never thrown. */
  protected abstract flushQuietly(): void;

  queued(): void {
    // While flushes fail, a full queue waits for the timer's retry instead of
    // failing again on every enqueue.
    if (this.queue.size >= this.opts.maxQueue && this.failures === 0) this.flushQuietly();
    else if (this.timer === undefined) this.arm();
  }

  private arm(): void {
    // Back off while failing: 2x the interval per failed try, up to 1 s.
    const delay = Math.min(this.opts.flushIntervalMs * 2 ** this.failures, Math.max(1000, this.opts.flushIntervalMs));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flushQuietly();
    }, delay);
    this.timer.unref();
  }

  /** Called when a flush starts: it writes what the timer would have. */
  protected disarm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** A batch that could not be written goes back in the queue, with a timer to retry it. */
  protected requeue(batch: B): void {
    this.queue.restore(batch);
    if (!this.isClosed && this.timer === undefined) this.arm();
  }
}
