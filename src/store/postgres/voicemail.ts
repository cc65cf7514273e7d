// Mailboxes in PostgreSQL (semantics as src/store/sqlite/voicemail.ts): the
// WAV in a bytea beside its metadata, the change log written by triggers and
// announced on the 'voicemail' feed, so every node's MWI hears of a deposit
// within milliseconds (its own included).
import type { ChangeWatcher, VoicemailCounts, VoicemailFolder, VoicemailMessage, VoicemailRepository, WatchOptions } from '../types.ts';
import { watchLog } from '../watch.ts';
import {
  SQL, allCountsOf, checkFolder, checkWav, countsOf, depositValues, noSuchUser, toMessage, type MessageRow,
} from '../voicemail-rows.ts';
import type { PgDb } from './db.ts';
import type { WatchWiring } from './watch-wiring.ts';

export class PgVoicemailRepository implements VoicemailRepository {
  constructor(
    private readonly db: PgDb,
    private readonly now: () => number,
    private readonly changeLogKeep: number,
    private readonly wiring: WatchWiring,
  ) {}

  async deposit(mailbox: string, meta: { caller: string; callerName: string; receivedAt: number; durationMs: number }, wav: Buffer): Promise<VoicemailMessage> {
    const { message, values } = depositValues(mailbox, meta, wav);
    await this.db.tx(async (t) => {
      if (!(await t.get(SQL.user, [mailbox]))) throw noSuchUser(mailbox);
      await t.run(SQL.insert, values);
      const seq = (await t.get<{ seq: number | null }>(SQL.lastSeq))?.seq ?? 0;
      if (seq > this.changeLogKeep) await t.run(SQL.trim, [seq - this.changeLogKeep]);
    });
    return message;
  }

  async list(mailbox: string, folder?: VoicemailFolder): Promise<VoicemailMessage[]> {
    const rows = folder === undefined
      ? await this.db.all<MessageRow>(SQL.list, [mailbox])
      : await this.db.all<MessageRow>(SQL.listFolder, [mailbox, checkFolder(folder)]);
    return rows.map(toMessage);
  }

  async get(mailbox: string, id: string): Promise<VoicemailMessage | undefined> {
    const r = await this.db.get<MessageRow>(SQL.get, [mailbox, id]);
    return r && toMessage(r);
  }

  async audio(mailbox: string, id: string): Promise<Buffer | undefined> {
    return (await this.db.get<{ wav: Buffer }>(SQL.audio, [mailbox, id]))?.wav;
  }

  async setFolder(mailbox: string, id: string, folder: VoicemailFolder): Promise<boolean> {
    const f = checkFolder(folder);
    if ((await this.db.run(SQL.setFolder, [f, mailbox, id, f])) > 0) return true;
    return (await this.db.get(SQL.exists, [mailbox, id])) !== undefined;
  }

  async remove(mailbox: string, id: string): Promise<boolean> {
    return (await this.db.run(SQL.remove, [mailbox, id])) > 0;
  }

  async counts(mailbox: string): Promise<VoicemailCounts> {
    return countsOf(await this.db.all<{ folder: string; n: number }>(SQL.counts, [mailbox]));
  }

  async allCounts(): Promise<Map<string, VoicemailCounts>> {
    return allCountsOf(await this.db.all<{ mailbox: string; folder: string; n: number }>(SQL.allCounts));
  }

  async setGreeting(mailbox: string, wav: Buffer | null): Promise<void> {
    if (wav === null) {
      await this.db.run(SQL.removeGreeting, [mailbox]);
      return;
    }
    checkWav(wav);
    await this.db.tx(async (t) => {
      if (!(await t.get(SQL.user, [mailbox]))) throw noSuchUser(mailbox);
      await t.run(SQL.setGreeting, [mailbox, wav, this.now()]);
    });
  }

  async greeting(mailbox: string): Promise<Buffer | undefined> {
    return (await this.db.get<{ wav: Buffer }>(SQL.greeting, [mailbox]))?.wav;
  }

  watch(listener: (mailboxes: readonly string[]) => void | Promise<void>, opts: WatchOptions = {}): ChangeWatcher {
    const log = {
      lastSeq: async () => (await this.db.get<{ seq: number | null }>(SQL.lastSeq))?.seq ?? 0,
      after: (seq: number, limit: number) => this.db.all<{ seq: number; mailbox: string }>(SQL.changes, [seq, limit]),
    };
    return watchLog(log, async (entries, reset) => {
      const boxes = new Set(entries.map((e) => e.mailbox));
      if (reset) for (const m of (await this.allCounts()).keys()) boxes.add(m);
      await listener([...boxes]);
    }, undefined, this.wiring.triggers('voicemail', opts));
  }
}
