// The write-behind engine over PostgreSQL (the SQLite one is
// src/store/sqlite/write-behind.ts; the queues are shared): callers enqueue
// and return; a timer writes the queue in one transaction every
// flushIntervalMs, or at once when maxQueue entries wait. A batch that fails
// for a passing reason (connection lost, server restarting) goes back in the
// queue for the next try; one that fails on its data is salvaged entry by
// entry in savepoints, so one bad entry cannot block persistence forever.
import { WriteBehindSchedule, type WriteBehindOptions, type WriteQueue } from '../write-behind-schedule.ts';
import type { PgDb } from './db.ts';

export interface PgBatchWriter<B> {
  /** Runs the batch's statements inside one transaction. */
  write(t: PgDb, batch: B): Promise<void>;
  /** The batch as independent entries for the salvage pass. */
  split(batch: B): Iterable<{ label: string; apply(t: PgDb): Promise<void> }>;
  /** Noun for the report of dropped entries, e.g. "registration writes". */
  readonly what: string;
}

/** Connection, resource and concurrency failures (SQLSTATE classes 08, 40, 53, 57) and network errors. */
function isTransient(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return true;
  return /^(08|40|53|57)/.test(code);
}

export class PgWriteBehind<B> extends WriteBehindSchedule<B> {
  /** Flushes run one after another: a batch is never written twice at once. */
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: PgDb,
    queue: WriteQueue<B>,
    private readonly writer: PgBatchWriter<B>,
    opts: WriteBehindOptions,
  ) {
    super(queue, opts, writer.what);
  }

  /** PostgreSQL waits for row locks itself: nothing here is worth waiting out. */
  protected isLockOut(): boolean {
    return false;
  }

  /** For the timer, the full-queue path and durability waits: errors are reported (WriteHealth, once per outage), never thrown. */
  protected flushQuietly(): void {
    this.flush().catch(() => {
      // Reported by writeQueued() through failed().
    });
  }

  /** Writes everything queued now. @throws the database error (the batch is kept for a retry) */
  flush(): Promise<void> {
    this.disarm();
    const run = this.chain.then(() => this.writeQueued());
    this.chain = run.catch(() => {});
    return run;
  }

  private async writeQueued(): Promise<void> {
    if (this.queue.size === 0) return;
    const { batch, n } = this.takeBatch();
    try {
      await this.db.tx((t) => this.writer.write(t, batch));
      this.committed(n);
      return;
    } catch (err) {
      if (isTransient(err)) {
        this.failed(n, err as Error);
        this.requeue(batch);
        throw err;
      }
    }
    let failed: string[];
    try {
      failed = await this.db.tx(async (t) => {
        const out: string[] = [];
        for (const e of this.writer.split(batch)) {
          try {
            await t.tx((s) => e.apply(s));
          } catch (err) {
            out.push(`${e.label}: ${(err as Error).message}`);
          }
        }
        return out;
      });
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

  /** Flushes and stops the timer; later enqueues should be dropped (see closed). */
  async close(): Promise<void> {
    if (this.isClosed) return;
    let error: Error | undefined;
    try {
      await this.flush();
    } catch (err) {
      error = err as Error;
      throw err;
    } finally {
      this.isClosed = true;
      this.disarm();
      this.releaseWaiters(error);
    }
  }
}
