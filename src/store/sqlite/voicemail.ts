// Mailboxes in SQLite (the contract: VoicemailRepository in ../types.ts).
// Writes are synchronous transactions, so deposit() resolves once committed.
// The change log is written by the schema's triggers (migrations.ts 13);
// watchers of this connection are woken at once by its own writes, other
// processes' are seen by polling.
import type Database from 'better-sqlite3';
import type { ChangeWatcher, VoicemailCounts, VoicemailFolder, VoicemailMessage, VoicemailRepository, WatchOptions } from '../types.ts';
import { watchLog } from '../watch.ts';
import {
  SQL, allCountsOf, checkFolder, checkWav, countsOf, depositValues, noSuchUser, toMessage, type MessageRow,
} from '../voicemail-rows.ts';

export class SqliteVoicemailRepository implements VoicemailRepository {
  private readonly s;
  private readonly wakes = new Set<() => void>();

  constructor(
    private readonly db: Database.Database,
    private readonly now: () => number,
    private readonly changeLogKeep: number,
    private readonly onError: (err: Error) => void,
  ) {
    const p = <R>(sql: string) => db.prepare<unknown[], R>(sql);
    this.s = {
      user: p<number>(SQL.user).pluck(),
      insert: p(SQL.insert),
      list: p<MessageRow>(SQL.list),
      listFolder: p<MessageRow>(SQL.listFolder),
      get: p<MessageRow>(SQL.get),
      audio: p<Buffer>(SQL.audio).pluck(),
      setFolder: p(SQL.setFolder),
      exists: p<string>(SQL.exists).pluck(),
      remove: p(SQL.remove),
      counts: p<{ folder: string; n: number }>(SQL.counts),
      allCounts: p<{ mailbox: string; folder: string; n: number }>(SQL.allCounts),
      greeting: p<Buffer>(SQL.greeting).pluck(),
      setGreeting: p(SQL.setGreeting),
      removeGreeting: p(SQL.removeGreeting),
      lastSeq: p<{ seq: number | null }>(SQL.lastSeq),
      changes: p<{ seq: number; mailbox: string }>(SQL.changes),
      trim: p(SQL.trim),
    };
  }

  /** After a commit of ours: this process's watchers look now rather than at their next tick. */
  private changed(): void {
    for (const wake of this.wakes) wake();
  }

  async deposit(mailbox: string, meta: { caller: string; callerName: string; receivedAt: number; durationMs: number }, wav: Buffer): Promise<VoicemailMessage> {
    const { message, values } = depositValues(mailbox, meta, wav);
    this.db.transaction(() => {
      if (!this.s.user.get(mailbox)) throw noSuchUser(mailbox);
      this.s.insert.run(...values);
      const seq = this.s.lastSeq.get()?.seq ?? 0;
      if (seq > this.changeLogKeep) this.s.trim.run(seq - this.changeLogKeep);
    }).immediate();
    this.changed();
    return message;
  }

  async list(mailbox: string, folder?: VoicemailFolder): Promise<VoicemailMessage[]> {
    const rows = folder === undefined ? this.s.list.all(mailbox) : this.s.listFolder.all(mailbox, checkFolder(folder));
    return rows.map(toMessage);
  }

  async get(mailbox: string, id: string): Promise<VoicemailMessage | undefined> {
    const r = this.s.get.get(mailbox, id);
    return r && toMessage(r);
  }

  async audio(mailbox: string, id: string): Promise<Buffer | undefined> {
    return this.s.audio.get(mailbox, id);
  }

  async setFolder(mailbox: string, id: string, folder: VoicemailFolder): Promise<boolean> {
    const f = checkFolder(folder);
    const moved = this.s.setFolder.run(f, mailbox, id, f).changes > 0;
    if (moved) this.changed();
    return moved || this.s.exists.get(mailbox, id) !== undefined;
  }

  async remove(mailbox: string, id: string): Promise<boolean> {
    const removed = this.s.remove.run(mailbox, id).changes > 0;
    if (removed) this.changed();
    return removed;
  }

  async counts(mailbox: string): Promise<VoicemailCounts> {
    return countsOf(this.s.counts.all(mailbox));
  }

  async allCounts(): Promise<Map<string, VoicemailCounts>> {
    return allCountsOf(this.s.allCounts.all());
  }

  async setGreeting(mailbox: string, wav: Buffer | null): Promise<void> {
    if (wav === null) {
      this.s.removeGreeting.run(mailbox);
      return;
    }
    checkWav(wav);
    this.db.transaction(() => {
      if (!this.s.user.get(mailbox)) throw noSuchUser(mailbox);
      this.s.setGreeting.run(mailbox, wav, this.now());
    }).immediate();
  }

  async greeting(mailbox: string): Promise<Buffer | undefined> {
    return this.s.greeting.get(mailbox);
  }

  watch(listener: (mailboxes: readonly string[]) => void | Promise<void>, opts: WatchOptions = {}): ChangeWatcher {
    const log = {
      lastSeq: async () => this.s.lastSeq.get()?.seq ?? 0,
      after: async (seq: number, limit: number) => this.s.changes.all(seq, limit),
    };
    // A trimmed stretch (reset) names no mailbox: then every mailbox with messages is looked at again.
    return watchLog(log, async (entries, reset) => {
      const boxes = new Set(entries.map((e) => e.mailbox));
      if (reset) for (const m of (await this.allCounts()).keys()) boxes.add(m);
      await listener([...boxes]);
    }, this.s.lastSeq.get()?.seq ?? 0, {
      intervalMs: opts.intervalMs ?? 500,
      onError: this.onError,
      wake: (fire) => {
        this.wakes.add(fire);
        return () => this.wakes.delete(fire);
      },
    });
  }
}
