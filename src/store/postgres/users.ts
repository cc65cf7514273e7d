// Users in PostgreSQL: the SQLite repository's semantics (users.ts there),
// with the writes under the directory lock (db.ts) so uniqueness and
// numbering checks hold across nodes, and the change log announced by NOTIFY.
import { StoreError } from '../errors.ts';
import { DEVICE_OF_USER, userIsLine } from '../device-rows.ts';
import { newUserFields, patchedUserFields, type UserFields } from '../user-validate.ts';
import type {
  ChangeListener, ChangeWatcher, ImportOptions, ImportRowResult, User, UserChange, UserChangeOp, UserInput, UserListQuery,
  UserPatch, UserRepository, WatchOptions,
} from '../types.ts';
import { COLUMN_LIST, SEARCH, SEARCH_PARAMS, likePattern, toUser, values, type UserRow } from '../sqlite/users.ts';
import { applyImportRows, importInChunks } from '../user-import.ts';
import { userChangeLog, watchLog } from '../watch.ts';
import type { PgDb } from './db.ts';
import { PgNumbering } from './numbering.ts';
import type { WatchWiring } from './watch-wiring.ts';
import { pageOf } from '../paging.ts';

/** Binary order, as SQLite sorts: the database's collation must not reorder extensions. */
const ORDER = 'ORDER BY length(extension), extension COLLATE "C"';
const INSERT = `INSERT INTO users (${COLUMN_LIST.join(', ')}, created_at, updated_at)
  VALUES (${COLUMN_LIST.map(() => '?').join(',')},?,?)`;
const UPDATE = `UPDATE users SET ${COLUMN_LIST.map((c) => `${c}=?`).join(', ')}, updated_at=? WHERE id=?`;

export class PgUserRepository implements UserRepository {
  constructor(
    private readonly db: PgDb,
    private readonly now: () => number,
    private readonly changeLogKeep: number,
    private readonly wiring: WatchWiring,
  ) {}

  private static async byExt(t: PgDb, extension: string): Promise<UserRow | undefined> {
    return typeof extension === 'string' ? t.get<UserRow>('SELECT * FROM users WHERE extension = ?', [extension]) : undefined;
  }

  private static async mustGet(t: PgDb, extension: string): Promise<User> {
    const row = await PgUserRepository.byExt(t, extension);
    if (!row) throw new StoreError('not-found', 'extension', `no user with extension ${String(extension)}`);
    return toUser(row);
  }

  // As in SQLite: checked by query so the caller learns which field clashed.
  private static async checkUnique(t: PgDb, f: UserFields, selfId: number | null): Promise<void> {
    const clash = (row: UserRow | undefined) => row !== undefined && row.id !== selfId;
    const sameRow = await PgUserRepository.byExt(t, f.extension);
    if (clash(sameRow)) throw new StoreError('duplicate', 'extension', `extension ${f.extension} already exists`);
    if (!sameRow) await new PgNumbering(t).checkUserExtension(f.extension);
    if (clash(await t.get<UserRow>('SELECT * FROM users WHERE auth_user = ?', [f.authUser]))) {
      throw new StoreError('duplicate', 'authUser', `auth user ${f.authUser} is already used`);
    }
  }

  private async log(t: PgDb, extension: string, op: UserChangeOp, at: number): Promise<void> {
    const row = await t.get<{ seq: number }>('INSERT INTO user_changes (extension, op, at) VALUES (?, ?, ?) RETURNING seq', [extension, op, at]);
    if (row!.seq > this.changeLogKeep) await t.run('DELETE FROM user_changes WHERE seq <= ?', [row!.seq - this.changeLogKeep]);
  }

  private async addIn(t: PgDb, input: UserInput): Promise<User> {
    const f = newUserFields(input);
    await PgUserRepository.checkUnique(t, f, null);
    const at = this.now();
    await t.run(INSERT, [...values(f), at, at]);
    await this.log(t, f.extension, 'add', at);
    return toUser((await PgUserRepository.byExt(t, f.extension))!);
  }

  private async updateIn(t: PgDb, extension: string, patch: UserPatch): Promise<User> {
    const cur = await PgUserRepository.mustGet(t, extension);
    const f = patchedUserFields(cur, patch);
    await PgUserRepository.checkUnique(t, f, cur.id);
    const at = this.now();
    await t.run(UPDATE, [...values(f), at, cur.id]);
    if (f.extension === cur.extension) {
      await this.log(t, f.extension, 'update', at);
    } else {
      await this.log(t, cur.extension, 'remove', at);
      await this.log(t, f.extension, 'add', at);
    }
    return toUser((await PgUserRepository.byExt(t, f.extension))!);
  }

  add(input: UserInput): Promise<User> {
    return this.db.tx((t) => this.addIn(t, input), { lock: true });
  }

  update(extension: string, patch: UserPatch): Promise<User> {
    return this.db.tx((t) => this.updateIn(t, extension, patch), { lock: true });
  }

  remove(extension: string): Promise<User> {
    return this.db.tx(async (t) => {
      const cur = await PgUserRepository.mustGet(t, extension);
      const device = await t.get<{ mac: string }>(DEVICE_OF_USER, [cur.extension]);
      if (device) throw userIsLine(cur.extension, device.mac);
      await t.run('DELETE FROM users WHERE id = ?', [cur.id]);
      await this.log(t, cur.extension, 'remove', this.now());
      return cur;
    }, { lock: true });
  }

  async getByExtension(extension: string): Promise<User | undefined> {
    const row = await PgUserRepository.byExt(this.db, extension);
    return row && toUser(row);
  }

  async getByAuthUser(authUser: string): Promise<User | undefined> {
    const row = await this.db.get<UserRow>('SELECT * FROM users WHERE auth_user = ?', [authUser]);
    return row && toUser(row);
  }

  async list(query: UserListQuery = {}): Promise<User[]> {
    const { limit, offset } = pageOf(query);
    const search = query.search?.trim();
    const rows = search
      ? await this.db.all<UserRow>(`SELECT * FROM users ${SEARCH} ${ORDER} LIMIT ? OFFSET ?`, [...Array<string>(SEARCH_PARAMS).fill(likePattern(search)), limit, offset])
      : await this.db.all<UserRow>(`SELECT * FROM users ${ORDER} LIMIT ? OFFSET ?`, [limit, offset]);
    return rows.map(toUser);
  }

  async count(search?: string): Promise<number> {
    const s = search?.trim();
    const row = s
      ? await this.db.get<{ n: number }>(`SELECT count(*) AS n FROM users ${SEARCH}`, Array<string>(SEARCH_PARAMS).fill(likePattern(s)))
      : await this.db.get<{ n: number }>('SELECT count(*) AS n FROM users');
    return row!.n;
  }

  snapshot(): Promise<{ users: User[]; seq: number }> {
    // One transaction: the users and the sequence come from the same snapshot.
    return this.db.tx(async (t) => {
      const users = (await t.all<UserRow>(`SELECT * FROM users ${ORDER}`)).map(toUser);
      return { users, seq: await lastSeq(t) };
    }, { snapshot: true });
  }

  eachUser(visit: (user: User) => void): Promise<number> {
    // Pages by id within one snapshot: never every row in memory at once.
    return this.db.tx(async (t) => {
      let after = 0;
      for (;;) {
        const rows = await t.all<UserRow>('SELECT * FROM users WHERE id > ? ORDER BY id LIMIT 10000', [after]);
        for (const r of rows) visit(toUser(r));
        if (rows.length < 10000) break;
        after = rows[rows.length - 1]!.id;
      }
      return lastSeq(t);
    }, { snapshot: true });
  }

  async afterId(id: number, limit: number): Promise<User[]> {
    return (await this.db.all<UserRow>('SELECT * FROM users WHERE id > ? ORDER BY id LIMIT ?', [id, limit])).map(toUser);
  }

  importCsv(text: string, opts?: ImportOptions): Promise<ImportRowResult[]> {
    return importInChunks(text, (rows) => this.db.tx((t) => applyImportRows(rows, {
      exists: async (extension) => (await PgUserRepository.byExt(t, extension)) !== undefined,
      // Each row in a savepoint: a bad row is rolled back alone.
      add: (input) => t.tx((s) => this.addIn(s, input)),
      update: (extension, patch) => t.tx((s) => this.updateIn(s, extension, patch)),
    }), { lock: true }), opts);
  }

  lastChangeSeq(): Promise<number> {
    return lastSeq(this.db);
  }

  pollChanges(afterSeq: number, limit = 1000): Promise<UserChange[]> {
    return this.db.all<UserChange>('SELECT seq, extension, op FROM user_changes WHERE seq > ? ORDER BY seq LIMIT ?', [afterSeq, limit]);
  }

  watchChanges(listener: ChangeListener, opts: WatchOptions & { afterSeq?: number } = {}): ChangeWatcher {
    return watchLog(userChangeLog(this), listener, opts.afterSeq, this.wiring.triggers('users', opts));
  }
}

async function lastSeq(db: PgDb): Promise<number> {
  return (await db.get<{ seq: number | null }>('SELECT max(seq) AS seq FROM user_changes'))?.seq ?? 0;
}
