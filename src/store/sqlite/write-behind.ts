// The SQLite write-behind engine of the repositories fed from the SIP path
// (registrations, call records): callers enqueue and return; the schedule
// (../write-behind-schedule.ts) writes the queue in one transaction every
// flushIntervalMs, or at once when maxQueue entries are waiting. The queue
// itself (what coalesces, what a batch is) belongs to each repository; this
// file owns locking and failure handling so both behave alike.
import type Database from 'better-sqlite3';
import { BUSY_TIMEOUT_MS } from './connection.ts';
import { WriteBehindSchedule, type WriteBehindOptions, type WriteQueue } from '../write-behind-schedule.ts';


export type { WriteBehindGate, WriteBehindOptions, WriteQueue } from '../write-behind-schedule.ts';

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

export class WriteBehind<B> extends WriteBehindSchedule<B> {
  private readonly writeAll;
  private readonly writeSalvage;

  constructor(
    private readonly db: Database.Database,
    queue: WriteQueue<B>,
    private readonly writer: BatchWriter<B>,
    opts: WriteBehindOptions,
  ) {
    super(queue, opts, writer.what);
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

  protected isLockOut(err: unknown): boolean {
    return isLockedOut(err);
  }

  /**
   * For the timer, the full-queue path and durability waits, which run on the
   * SIP event loop: no busy waiting (a CLI import may hold the lock for
   * seconds; the data is safe in memory meanwhile), and errors are reported
   * (through the store's WriteHealth, once per outage), never thrown.
   */
  protected flushQuietly(): void {
    try {
      this.withoutBusyWait(() => this.flush());
    } catch {
      // Reported by flush() through failed().
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

  /**
   * Writes everything queued in one transaction now, waiting for another
   * process's lock up to the busy timeout. @throws the database error (the
   * batch is kept for a retry)
   */
  flush(): void {
    this.disarm();
    if (this.queue.size === 0) return;
    const { batch, n } = this.takeBatch();
    try {
      this.writeAll.immediate(batch);
      this.committed(n);
      return;
    } catch (err) {
      if (isTransient(err) || !this.db.open) {
        this.failed(n, err as Error);
        this.requeue(batch);
        throw err;
      }
    }
    let failed: string[];
    try {
      failed = this.writeSalvage.immediate(batch);
    } catch (err) {
      this.failed(n, err as Error);
      this.requeue(batch);
      throw err;
    }
    this.committed(n);
    if (failed.length > 0) {
      this.opts.onError(new Error(`dropped ${this.writer.what} for ${failed.length} entr${failed.length === 1 ? 'y' : 'ies'}: ${failed.slice(0, 3).join('; ')}`));
    }
  }

  /** Flushes and stops the timer; later enqueues should be dropped (see closed). @throws the final write's error */
  close(): void {
    if (this.isClosed) return;
    let error: Error | undefined;
    try {
      this.flush();
    } catch (err) {
      error = err as Error;
      throw err;
    } finally {
      // A failed final write is thrown to the caller; no retry outlives close.
      this.isClosed = true;
      this.disarm();
      this.releaseWaiters(error);
    }
  }
}
