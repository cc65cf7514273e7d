// Registration bindings in PostgreSQL, written behind the SIP path as in
// SQLite (src/store/sqlite/registrations.ts). Each batch also logs the AORs
// it touched; the log's trigger NOTIFYs, so other nodes re-read those AORs.
import { randomUUID } from 'node:crypto';
import type { Binding, ChangeWatcher, RegistrationRepository, WatchOptions } from '../types.ts';
import { watchLog } from '../watch.ts';
import { BindingIntake, type AorWork, type Batch } from '../sqlite/binding-queue.ts';
import { UPSERT, bindingValues, parseStringArray, toBinding, type BindingRow } from '../sqlite/registrations.ts';
import type { WriteBehindOptions } from '../write-behind-schedule.ts';
import type { PgDb } from './db.ts';
import type { WatchWiring } from './watch-wiring.ts';
import { PgWriteBehind } from './write-behind.ts';

export class PgRegistrationRepository extends BindingIntake implements RegistrationRepository {
  protected readonly wb: PgWriteBehind<Batch>;
  /** Marks this instance's entries in the change log, which its own watchers skip. */
  private readonly writer = randomUUID();

  constructor(
    private readonly db: PgDb,
    private readonly opts: WriteBehindOptions & { changeLogKeep: number },
    private readonly wiring: WatchWiring,
  ) {
    super();
    this.wb = new PgWriteBehind(db, this.queue, {
      what: 'registration writes',
      write: async (t, batch) => {
        for (const [aor, w] of batch) await this.apply(t, aor, w);
        await this.logBatch(t, [...batch.keys()]);
      },
      split: (batch) => [...batch].map(([aor, w]) => ({
        label: aor,
        apply: async (t: PgDb) => {
          await this.apply(t, aor, w);
          await this.logBatch(t, [aor]);
        },
      })),
    }, opts);
  }

  private async apply(t: PgDb, aor: string, w: AorWork): Promise<void> {
    if (w.deleteAll) await t.run('DELETE FROM registrations WHERE aor = ?', [aor]);
    for (const [uri, b] of w.ops) {
      if (b === null) {
        await t.run('DELETE FROM registrations WHERE aor = ? AND contact_uri = ?', [aor, uri]);
        continue;
      }
      await t.run(UPSERT, bindingValues(b));
    }
  }

  private async logBatch(t: PgDb, aors: string[]): Promise<void> {
    const row = await t.get<{ seq: number }>('INSERT INTO registration_changes (writer, aors) VALUES (?, ?) RETURNING seq',
      [this.writer, JSON.stringify(aors)]);
    if (row!.seq > this.opts.changeLogKeep) await t.run('DELETE FROM registration_changes WHERE seq <= ?', [row!.seq - this.opts.changeLogKeep]);
  }

  async loadAll(now?: number): Promise<Binding[]> {
    const rows = now === undefined
      ? await this.db.all<BindingRow>('SELECT * FROM registrations')
      : await this.db.all<BindingRow>('SELECT * FROM registrations WHERE expires_at > ?', [now]);
    return rows.map(toBinding);
  }

  async loadAor(aor: string, now?: number): Promise<Binding[]> {
    const rows = now === undefined
      ? await this.db.all<BindingRow>('SELECT * FROM registrations WHERE aor = ?', [aor])
      : await this.db.all<BindingRow>('SELECT * FROM registrations WHERE aor = ? AND expires_at > ?', [aor, now]);
    return rows.map(toBinding);
  }

  watch(listener: (aors: readonly string[]) => void | Promise<void>, opts: WatchOptions = {}): ChangeWatcher {
    const log = {
      lastSeq: async () => (await this.db.get<{ seq: number | null }>('SELECT max(seq) AS seq FROM registration_changes'))?.seq ?? 0,
      after: (seq: number, limit: number) => this.db.all<{ seq: number; aors: string }>(
        'SELECT seq, aors FROM registration_changes WHERE seq > ? AND writer <> ? ORDER BY seq LIMIT ?', [seq, this.writer, limit]),
    };
    return watchLog(log, (entries) => listener([...new Set(entries.flatMap((e) => parseStringArray(e.aors)))]), undefined,
      this.wiring.triggers('registrations', opts));
  }

  flush(): Promise<void> {
    return this.wb.flush();
  }

  async deleteExpired(now: number): Promise<number> {
    await this.wb.flush();
    return this.db.run('DELETE FROM registrations WHERE expires_at <= ?', [now]);
  }

  close(): Promise<void> {
    return this.wb.close();
  }
}
