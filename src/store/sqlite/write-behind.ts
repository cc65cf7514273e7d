// The write-behind engine shared by the repositories fed from the SIP path
// (registrations, call records): callers enqueue and return; a timer writes
// the queue in one transaction every flushIntervalMs, or at once when
// maxQueue entries are waiting. The queue itself (what coalesces, what a
// batch is) belongs to each repository; this file owns timing, locking and
// failure handling so both behave alike.
import type Database from 'better-sqlite3';
import { BUSY_TIMEOUT_MS } from './connection.ts';

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

export interface BatchWriter<B> {
  /** Runs the batch's statements; called inside one IMMEDIATE transaction. */
  write(batch: B): void;
  /**
   * The batch as independent entries, for the salvage pass after a
   * non-transient failure: each is applied in its own savepoint.
   */
  split(batch: B): Iterable<{ label: string; apply(): void }>;
  /** Noun for the report of dropped entries, e.g. "registration writes". */
  readonly what: string;
}

function sqliteCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

/** Errors worth retrying with the same batch; anything else points at a bad entry. */
function isTransient(err: unknown): boolean {
  return /^SQLITE_(BUSY|LOCKED|FULL|IOERR|CANTOPEN|READONLY)/.test(sqliteCode(err));
}

export function isLockedOut(err: unknown): boolean {
  return /^SQLITE_(BUSY|LOCKED)/.test(sqliteCode(err));
}

export class WriteBehind<B> {
  private timer: NodeJS.Timeout | undefined;
  private isClosed = false;
  /** Consecutive timer flushes that found the database locked by another writer. */
  private busyStreak = 0;
  private readonly writeAll;
  private readonly writeSalvage;

  constructor(
    private readonly db: Database.Database,
    private readonly queue: WriteQueue<B>,
    private readonly writer: BatchWriter<B>,
    private readonly opts: WriteBehindOptions,
  ) {
    this.writeAll = db.transaction((batch: B) => writer.write(batch));
    const applyOne = db.transaction((apply: () => void) => apply());
    // Fallback when the batch fails for a non-transient reason: each entry in
    // its own savepoint, so one bad entry cannot block persistence forever.
    this.writeSalvage = db.transaction((batch: B): string[] => {
      const failed: string[] = [];
      for (const e of writer.split(batch)) {
        try {
          applyOne(e.apply);
        } catch (err) {
          failed.push(`${e.label}: ${(err as Error).message}`);
        }
      }
      return failed;
    });
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Call after adding to the queue. */
  queued(): void {
    // While another process holds the write lock, a full queue waits for the
    // timer's retry instead of failing again on every enqueue.
    if (this.queue.size >= this.opts.maxQueue && this.busyStreak === 0) this.flushQuietly();
    else if (this.timer === undefined) this.arm();
  }

  private arm(): void {
    // Back off while locked out: 2x the interval per failed try, up to 1 s.
    const delay = Math.min(this.opts.flushIntervalMs * 2 ** this.busyStreak, Math.max(1000, this.opts.flushIntervalMs));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flushQuietly();
    }, delay);
    this.timer.unref();
  }

  /**
   * For the timer and the full-queue path, which run on the SIP event loop:
   * no busy waiting (a CLI import may hold the lock for seconds; the data is
   * safe in memory meanwhile), and errors are reported, never thrown.
   */
  private flushQuietly(): void {
    try {
      this.withoutBusyWait(() => this.flush());
      this.busyStreak = 0;
    } catch (err) {
      const busy = isLockedOut(err);
      // One report per lock-out, not one per retry.
      if (!busy || this.busyStreak === 0) this.opts.onError(err as Error);
      this.busyStreak = busy ? this.busyStreak + 1 : 0;
    }
  }

  withoutBusyWait<T>(fn: () => T): T {
    this.db.pragma('busy_timeout = 0');
    try {
      return fn();
    } finally {
      if (this.db.open) this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    }
  }

  /** A batch that could not be written goes back in the queue, with a timer to retry it. */
  private requeue(batch: B): void {
    this.queue.restore(batch);
    if (!this.isClosed && this.timer === undefined) this.arm();
  }

  /**
   * Writes everything queued in one transaction now, waiting for another
   * process's lock up to the busy timeout. @throws the database error (the
   * batch is kept for a retry)
   */
  flush(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.queue.size === 0) return;
    const batch = this.queue.take();
    try {
      this.writeAll.immediate(batch);
      return;
    } catch (err) {
      if (isTransient(err) || !this.db.open) {
        this.requeue(batch);
        throw err;
      }
    }
    let failed: string[];
    try {
      failed = this.writeSalvage.immediate(batch);
    } catch (err) {
      this.requeue(batch);
      throw err;
    }
    if (failed.length > 0) {
      this.opts.onError(new Error(`dropped ${this.writer.what} for ${failed.length} entr${failed.length === 1 ? 'y' : 'ies'}: ${failed.slice(0, 3).join('; ')}`));
    }
  }

  /** Flushes and stops the timer; later enqueues should be dropped (see closed). */
  close(): void {
    if (this.isClosed) return;
    try {
      this.flush();
    } finally {
      // A failed final write is thrown to the caller; no retry outlives close.
      this.isClosed = true;
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }
}
