// Call detail records in PostgreSQL, written behind the call path as in
// SQLite (src/store/sqlite/cdrs.ts: queue, insert and query shapes shared).
import type { Cdr, CdrInput, CdrQuery, CdrRepository } from '../types.ts';
import { CdrQueue, INSERT, cdrValues, toCdr, where, type CdrRow } from '../sqlite/cdrs.ts';
import type { WriteBehindOptions } from '../sqlite/write-behind.ts';
import type { PgDb } from './db.ts';
import { PgWriteBehind } from './write-behind.ts';

export class PgCdrRepository implements CdrRepository {
  private readonly queue = new CdrQueue();
  private readonly wb: PgWriteBehind<CdrInput[]>;
  /** Records refused because the queue was at its cap. */
  dropped = 0;
  private readonly cap: number;

  constructor(private readonly db: PgDb, private readonly opts: WriteBehindOptions) {
    // Far above what a timer tick accumulates; reached only when writes fail for long.
    this.cap = Math.max(100_000, opts.maxQueue * 10);
    this.wb = new PgWriteBehind(db, this.queue, {
      what: 'call records',
      write: async (t, batch) => {
        for (const c of batch) await t.run(INSERT, cdrValues(c));
      },
      split: (batch) => batch.map((c) => ({ label: String(c.callRef), apply: async (t: PgDb) => void (await t.run(INSERT, cdrValues(c))) })),
    }, opts);
  }

  get pending(): number {
    return this.queue.size;
  }

  enqueue(cdr: CdrInput): void {
    if (this.wb.closed) return;
    if (this.queue.size >= this.cap) {
      this.dropped++;
      if (this.dropped % 10_000 === 1) {
        this.opts.onError(new Error(`call record queue full (${this.cap}); ${this.dropped} record(s) dropped so far`));
      }
      return;
    }
    this.queue.push(cdr);
    this.wb.queued();
  }

  flush(): Promise<void> {
    return this.wb.flush();
  }

  /** Flushes what this node queued; when the database refuses, committed rows only. */
  private async flushForRead(): Promise<void> {
    try {
      await this.wb.flush();
    } catch {
      // The batch is back in the queue for the timer; the read shows what is committed.
    }
  }

  async list(query: CdrQuery = {}): Promise<Cdr[]> {
    const w = where(query);
    await this.flushForRead();
    const int = (v: number | undefined, dflt: number) => (Number.isFinite(v) ? Math.trunc(v!) : dflt);
    const limit = Math.min(Math.max(int(query.limit, 100), 1), 1000);
    const offset = Math.max(int(query.offset, 0), 0);
    const rows = await this.db.all<CdrRow>(`SELECT * FROM cdrs ${w.sql} ORDER BY started_at DESC, id DESC LIMIT ? OFFSET ?`, [...w.args, limit, offset]);
    return rows.map(toCdr);
  }

  async count(query: CdrQuery = {}): Promise<number> {
    const w = where(query);
    await this.flushForRead();
    return (await this.db.get<{ n: number }>(`SELECT count(*) AS n FROM cdrs ${w.sql}`, w.args))!.n;
  }

  close(): Promise<void> {
    return this.wb.close();
  }
}
