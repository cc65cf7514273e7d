// When write-behind writes, the same for both engines: a timer every
// flushIntervalMs after the first enqueue, at once when maxQueue entries
// wait, on the next turn of the event loop when someone waits for durability
// (group commit: the REGISTERs that arrived in one turn share one
// transaction, and their 200 OKs go out after it committed), backing off
// while flushes fail. Each engine's write-behind (sqlite/write-behind.ts,
// postgres/write-behind.ts) says how a flush runs.
import { WriteHealth } from './write-health.ts';

export interface WriteBehindOptions {
  flushIntervalMs: number;
  maxQueue: number;
  /** Entries dropped for bad data (salvage pass); and write failures when no health tracker is given. */
  onError: (err: Error) => void;
  /** The store's tracker of failing writes (reports once per outage and interval); default: a private one reporting to onError. */
  health?: WriteHealth;
  /** How long whenDurable waits out another writer's lock before giving up (default 2 s). */
  durableWaitMs?: number;
  now?: () => number;
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
  /** Calls back once everything queued so far is committed, or with the error that stopped it. */
  whenDurable(done: (err?: Error) => void): void;
}

/** Failed retries (backing off from 20 ms: ~300 ms) before another writer's lock counts as an outage. */
const LOCK_OUT_RETRIES = 3;

interface Waiter {
  /** The batch that holds what was queued before the wait began. */
  batch: number;
  since: number;
  done: (err?: Error) => void;
}

export abstract class WriteBehindSchedule<B> implements WriteBehindGate {
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  /** A quick retry for waiters held up by another writer's lock. */
  private retry: NodeJS.Timeout | undefined;
  protected isClosed = false;
  /** Consecutive failed background flushes. */
  protected failures = 0;
  /** Number of the batch being queued; take() hands it over and starts the next. */
  private queuing = 1;
  /** The batch being written (PostgreSQL writes asynchronously), if any. */
  private writing: number | undefined;
  private waiters: Waiter[] = [];
  protected readonly health: WriteHealth;
  private readonly now: () => number;

  constructor(
    protected readonly queue: WriteQueue<B>,
    protected readonly opts: WriteBehindOptions,
    /** Names this queue in reports ("registration writes", "call record writes"). */
    protected readonly what: string,
  ) {
    this.health = opts.health ?? new WriteHealth({ report: opts.onError, now: opts.now });
    this.now = opts.now ?? Date.now;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Flushes from the timer, the full-queue path or a durability wait: errors are reported, never thrown. */
  protected abstract flushQuietly(): void;

  queued(): void {
    // While flushes fail, a full queue waits for the timer's retry instead of
    // failing again on every enqueue.
    if (this.queue.size >= this.opts.maxQueue && this.failures === 0) this.flushQuietly();
    else if (this.timer === undefined) this.arm();
  }

  whenDurable(done: (err?: Error) => void): void {
    if (this.queue.size === 0) {
      if (this.writing === undefined) done();
      else this.waiters.push({ batch: this.writing, since: this.now(), done });
      return;
    }
    // An outage that is not another writer's lock (disk full, read-only,
    // connection gone) fails at once: the backoff timer keeps retrying, and
    // the SIP path does not hammer a broken disk once per request.
    const err = this.health.lastError(this.what);
    if (err !== undefined && !this.isLockOut(err)) {
      done(err);
      return;
    }
    this.waiters.push({ batch: this.queuing, since: this.now(), done });
    this.immediate ??= setImmediate(() => {
      this.immediate = undefined;
      this.flushQuietly();
    });
  }

  /** Another writer holds the lock: worth waiting for (durableWaitMs) rather than failing the waiter. */
  protected abstract isLockOut(err: unknown): boolean;

  /** For the engines: the queue handed over for writing, with its batch number. */
  protected takeBatch(): { batch: B; n: number } {
    const n = this.queuing++;
    this.writing = n;
    return { batch: this.queue.take(), n };
  }

  /** For the engines: batch n is committed. */
  protected committed(n: number): void {
    this.writing = undefined;
    this.failures = 0;
    this.health.succeeded(this.what);
    if (this.waiters.length === 0) return;
    const done: Waiter[] = [];
    this.waiters = this.waiters.filter((w) => (w.batch <= n ? (done.push(w), false) : true));
    for (const w of done) w.done();
  }

  /**
   * For the engines: batch n could not be written and is back in the queue.
   * Its waiters now wait for the next batch, or get the error: at once when it
   * is not a lock-out, and when a lock-out outlasts durableWaitMs.
   */
  protected failed(n: number, err: Error): void {
    this.writing = undefined;
    this.failures++;
    const lockOut = this.isLockOut(err);
    // Another worker holding the lock for a moment is normal (they share the
    // file): an outage only once it outlasts a few retries (~300 ms).
    if (!lockOut || this.failures > LOCK_OUT_RETRIES) this.health.failed(this.what, err);
    if (this.waiters.length === 0) return;
    const limit = this.now() - (this.opts.durableWaitMs ?? 2000);
    const failedNow: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.batch > n) continue;
      if (lockOut && w.since > limit) w.batch = this.queuing;
      else failedNow.push(w);
    }
    if (failedNow.length > 0) {
      this.waiters = this.waiters.filter((w) => !failedNow.includes(w));
      for (const w of failedNow) w.done(err);
    }
    // Someone waits for a lock to pass: try again soon, not at the backoff's pace.
    if (this.waiters.length > 0 && this.retry === undefined) {
      this.retry = setTimeout(() => {
        this.retry = undefined;
        this.flushQuietly();
      }, Math.min(10 * 2 ** this.failures, 200));
    }
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

  /** At close: waiters still waiting get the error (or a plain "closed"). */
  protected releaseWaiters(err?: Error): void {
    clearImmediate(this.immediate);
    this.immediate = undefined;
    clearTimeout(this.retry);
    this.retry = undefined;
    const w = this.waiters;
    this.waiters = [];
    for (const x of w) x.done(err ?? new Error('store closed'));
  }
}
