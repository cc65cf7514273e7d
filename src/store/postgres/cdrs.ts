// Call detail records in PostgreSQL, written behind the call path as in
// SQLite (src/store/sqlite/cdrs.ts: queue, insert and query shapes shared).
import type { Cdr, CdrInput, CdrQuery, CdrRepository } from '../types.ts';
import { CdrIntake, INSERT, cdrValues, toCdr, where, type CdrRow } from '../sqlite/cdrs.ts';
import type { WriteBehindOptions } from '../write-behind-schedule.ts';
import type { PgDb } from './db.ts';
import { PgWriteBehind } from './write-behind.ts';
import { pageOf } from '../paging.ts';

export class PgCdrRepository extends CdrIntake implements CdrRepository {
  protected readonly wb: PgWriteBehind<CdrInput[]>;

  constructor(private readonly db: PgDb, opts: WriteBehindOptions) {
    super(opts);
    this.wb = new PgWriteBehind(db, this.queue, {
      what: 'call record writes',
      write: async (t, batch) => {
        for (const c of batch) await t.run(INSERT, cdrValues(c));
      },
      split: (batch) => batch.map((c) => ({ label: String(c.callRef), apply: async (t: PgDb) => void (await t.run(INSERT, cdrValues(c))) })),
    }, opts);
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
    const { limit, offset } = pageOf(query);
    const rows = await this.db.all<CdrRow>(`SELECT * FROM cdrs ${w.sql} ORDER BY started_at DESC, id DESC LIMIT ? OFFSET ?`, [...w.args, limit, offset]);
    return rows.map(toCdr);
  }

  async count(query: CdrQuery = {}): Promise<number> {
    const w = where(query);
    await this.flushForRead();
    return (await this.db.get<{ n: number }>(`SELECT count(*) AS n FROM cdrs ${w.sql}`, w.args))!.n;
  }

  async get(id: number): Promise<Cdr | undefined> {
    await this.flushForRead();
    const row = await this.db.get<CdrRow>('SELECT * FROM cdrs WHERE id = ?', [id]);
    return row ? toCdr(row) : undefined;
  }

  close(): Promise<void> {
    return this.wb.close();
  }
}
