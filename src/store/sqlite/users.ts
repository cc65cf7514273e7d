import type Database from 'better-sqlite3';
import type { UserCsvRow } from '../../model/user-csv.ts';
import { StoreError } from '../errors.ts';
import { DEVICE_OF_USER, userIsLine } from '../device-rows.ts';
import { newUserFields, patchedUserFields, validMedia, type UserFields } from '../user-validate.ts';
import type {
  ChangeListener, ChangeWatcher, ImportOptions, ImportRowResult, User, UserChange, UserChangeOp, UserInput,
  UserListQuery, UserMediaSettings, UserPatch, UserRepository, WatchOptions,
} from '../types.ts';
import { Numbering } from './numbering.ts';
import { applyImportRowsSync } from './user-import.ts';
import { importInChunks } from '../user-import.ts';
import { unchangedSinceLastLook } from './user-watch.ts';
import { userChangeLog, watchLog } from '../watch.ts';
import { pageOf } from '../paging.ts';

export interface UserRow {
  id: number;
  extension: string;
  name: string;
  auth_user: string;
  password: string;
  voicemail_code: string | null;
  enabled: number;
  call_waiting: number;
  codecs: string | null;
  max_calls: number | null;
  no_answer_timeout_sec: number | null;
  outbound_calls: number;
  voicemail: number;
  mwi: string;
  media: string;
  forward_unconditional: string | null;
  forward_busy: string | null;
  forward_no_answer: string | null;
  forward_no_answer_sec: number | null;
  forward_number: string | null;
  dnd: number;
  dnd_exceptions: string;
  follow_me: string | null;
  pickup_group: string | null;
  created_at: number;
  updated_at: number;
}

function parseCodecs(json: string | null): readonly string[] | null {
  if (json === null) return null;
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) ? Object.freeze(v.filter((c): c is string => typeof c === 'string')) : null;
  } catch {
    return null; // a hand-edited bad value falls back to the system default
  }
}

function parseMedia(json: string): Readonly<UserMediaSettings> {
  try {
    const v: unknown = JSON.parse(json);
    // Re-validated so a hand-edited value cannot smuggle in an unknown mode.
    return validMedia({}, v);
  } catch {
    return Object.freeze({});
  }
}

function parseList(json: string): readonly string[] {
  try {
    const v: unknown = JSON.parse(json);
    return Object.freeze(Array.isArray(v) ? v.filter((c): c is string => typeof c === 'string') : []);
  } catch {
    return Object.freeze([]);
  }
}

export function toUser(r: UserRow): User {
  return Object.freeze({
    id: r.id,
    extension: r.extension,
    name: r.name,
    authUser: r.auth_user,
    password: r.password,
    voicemailCode: r.voicemail_code,
    enabled: r.enabled !== 0,
    callWaiting: r.call_waiting !== 0,
    codecs: parseCodecs(r.codecs),
    maxCalls: r.max_calls,
    noAnswerTimeoutSec: r.no_answer_timeout_sec,
    outboundCalls: r.outbound_calls !== 0,
    voicemail: r.voicemail !== 0,
    mwi: r.mwi === 'unsolicited' ? 'unsolicited' : 'subscribe',
    media: parseMedia(r.media),
    forwardUnconditional: r.forward_unconditional,
    forwardBusy: r.forward_busy,
    forwardNoAnswer: r.forward_no_answer,
    forwardNoAnswerSec: r.forward_no_answer_sec,
    forwardNumber: r.forward_number,
    dnd: r.dnd !== 0,
    dndExceptions: parseList(r.dnd_exceptions),
    followMe: r.follow_me,
    pickupGroup: r.pickup_group,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  });
}

/** Bind values of the writable columns, in COLUMNS order. */
export function values(f: UserFields): (string | number | null)[] {
  return [
    f.extension, f.name, f.authUser, f.password, f.voicemailCode,
    f.enabled ? 1 : 0, f.callWaiting ? 1 : 0, f.codecs === null ? null : JSON.stringify(f.codecs),
    f.maxCalls, f.noAnswerTimeoutSec, f.outboundCalls ? 1 : 0, JSON.stringify(f.media),
    f.forwardUnconditional, f.forwardBusy, f.forwardNoAnswer, f.forwardNoAnswerSec, f.forwardNumber,
    f.dnd ? 1 : 0, JSON.stringify(f.dndExceptions), f.followMe, f.pickupGroup, f.voicemail ? 1 : 0, f.mwi,
  ];
}

export const COLUMN_LIST = ['extension', 'name', 'auth_user', 'password', 'voicemail_code', 'enabled', 'call_waiting',
  'codecs', 'max_calls', 'no_answer_timeout_sec', 'outbound_calls', 'media', 'forward_unconditional', 'forward_busy',
  'forward_no_answer', 'forward_no_answer_sec', 'forward_number', 'dnd', 'dnd_exceptions', 'follow_me', 'pickup_group', 'voicemail', 'mwi'];
const COLUMNS = COLUMN_LIST.join(', ');
export const ORDER = 'ORDER BY length(extension), extension';
export const SEARCH = `WHERE lower(extension) LIKE ? ESCAPE '\\' OR lower(name) LIKE ? ESCAPE '\\'
  OR lower(auth_user) LIKE ? ESCAPE '\\'`;
/** How many times SEARCH takes the pattern. */
export const SEARCH_PARAMS = 3;

export function likePattern(search: string): string {
  return `%${search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export class SqliteUserRepository implements UserRepository {
  /** Bumped on every write through this connection; see user-watch.ts for why. */
  localWrites = 0;
  private readonly s;
  private readonly addTx;
  private readonly updateTx;
  private readonly removeTx;
  private readonly numbering;

  constructor(
    readonly db: Database.Database,
    private readonly now: () => number,
    private readonly changeLogKeep: number,
    private readonly onError: (err: Error) => void,
  ) {
    const p = <R>(sql: string) => db.prepare<unknown[], R>(sql);
    this.numbering = new Numbering(db);
    this.s = {
      byExt: p<UserRow>('SELECT * FROM users WHERE extension = ?'),
      byAuth: p<UserRow>('SELECT * FROM users WHERE auth_user = ?'),
      insert: p(`INSERT INTO users (${COLUMNS}, created_at, updated_at) VALUES (${COLUMN_LIST.map(() => '?').join(',')},?,?)`),
      update: p(`UPDATE users SET ${COLUMN_LIST.map((c) => `${c}=?`).join(', ')}, updated_at=? WHERE id=?`),
      remove: p('DELETE FROM users WHERE id = ?'),
      deviceOf: p<string>(DEVICE_OF_USER).pluck(),
      all: p<UserRow>(`SELECT * FROM users ${ORDER}`),
      afterId: p<UserRow>('SELECT * FROM users WHERE id > ? ORDER BY id LIMIT ?'),
      page: p<UserRow>(`SELECT * FROM users ${ORDER} LIMIT ? OFFSET ?`),
      pageSearch: p<UserRow>(`SELECT * FROM users ${SEARCH} ${ORDER} LIMIT ? OFFSET ?`),
      count: p<number>('SELECT count(*) FROM users').pluck(),
      countSearch: p<number>(`SELECT count(*) FROM users ${SEARCH}`).pluck(),
      log: p('INSERT INTO user_changes (extension, op, at) VALUES (?, ?, ?)'),
      trim: p('DELETE FROM user_changes WHERE seq <= ?'),
      lastSeq: p<number | null>('SELECT max(seq) FROM user_changes').pluck(),
      changes: p<UserChange>('SELECT seq, extension, op FROM user_changes WHERE seq > ? ORDER BY seq LIMIT ?'),
    };
    this.addTx = db.transaction((input: UserInput): User => {
      const f = newUserFields(input);
      this.checkUnique(f, null);
      const t = this.now();
      this.s.insert.run(...values(f), t, t);
      this.log(f.extension, 'add', t);
      return toUser(this.s.byExt.get(f.extension)!);
    });
    this.updateTx = db.transaction((extension: string, patch: UserPatch): User => {
      const cur = this.mustGet(extension);
      const f = patchedUserFields(cur, patch);
      this.checkUnique(f, cur.id);
      const t = this.now();
      this.s.update.run(...values(f), t, cur.id);
      if (f.extension === cur.extension) {
        this.log(f.extension, 'update', t);
      } else {
        this.log(cur.extension, 'remove', t);
        this.log(f.extension, 'add', t);
      }
      return toUser(this.s.byExt.get(f.extension)!);
    });
    this.removeTx = db.transaction((extension: string): User => {
      const cur = this.mustGet(extension);
      const mac = this.s.deviceOf.get(cur.extension);
      if (mac !== undefined) throw userIsLine(cur.extension, mac);
      this.s.remove.run(cur.id);
      this.log(cur.extension, 'remove', this.now());
      return cur;
    });
  }

  private mustGet(extension: string): User {
    const row = typeof extension === 'string' ? this.s.byExt.get(extension) : undefined;
    if (!row) throw new StoreError('not-found', 'extension', `no user with extension ${String(extension)}`);
    return toUser(row);
  }

  // Checked by query rather than from the constraint error so the caller
  // learns which field clashed; the UNIQUE indexes still guard the data, and
  // IMMEDIATE transactions keep another process from slipping in between.
  private checkUnique(f: UserFields, selfId: number | null): void {
    const clash = (row: UserRow | undefined) => row !== undefined && row.id !== selfId;
    const sameRow = this.s.byExt.get(f.extension);
    if (clash(sameRow)) {
      throw new StoreError('duplicate', 'extension', `extension ${f.extension} already exists`);
    }
    if (!sameRow) this.numbering.checkUserExtension(f.extension);
    if (clash(this.s.byAuth.get(f.authUser))) {
      throw new StoreError('duplicate', 'authUser', `auth user ${f.authUser} is already used`);
    }
  }

  private log(extension: string, op: UserChangeOp, at: number): void {
    const seq = Number(this.s.log.run(extension, op, at).lastInsertRowid);
    // Trimming by primary key range is one cheap indexed delete per change.
    if (seq > this.changeLogKeep) this.s.trim.run(seq - this.changeLogKeep);
    this.localWrites++;
  }

  async add(input: UserInput): Promise<User> {
    return this.addTx.immediate(input);
  }

  async update(extension: string, patch: UserPatch): Promise<User> {
    return this.updateTx.immediate(extension, patch);
  }

  async remove(extension: string): Promise<User> {
    return this.removeTx.immediate(extension);
  }

  async getByExtension(extension: string): Promise<User | undefined> {
    const row = this.s.byExt.get(extension);
    return row && toUser(row);
  }

  async getByAuthUser(authUser: string): Promise<User | undefined> {
    const row = this.s.byAuth.get(authUser);
    return row && toUser(row);
  }

  async list(query: UserListQuery = {}): Promise<User[]> {
    const { limit, offset } = pageOf(query);
    const search = query.search?.trim();
    const rows = search
      ? this.s.pageSearch.all(...Array<string>(SEARCH_PARAMS).fill(likePattern(search)), limit, offset)
      : this.s.page.all(limit, offset);
    return rows.map(toUser);
  }

  async count(search?: string): Promise<number> {
    const s = search?.trim();
    return s ? this.s.countSearch.get(...Array<string>(SEARCH_PARAMS).fill(likePattern(s)))! : this.s.count.get()!;
  }

  async snapshot(): Promise<{ users: User[]; seq: number }> {
    // A read transaction pins one WAL snapshot, so the users and the sequence agree.
    return this.db.transaction(() => ({ users: this.s.all.all().map(toUser), seq: this.s.lastSeq.get() ?? 0 })).deferred();
  }

  async eachUser(visit: (user: User) => void): Promise<number> {
    return this.db.transaction(() => {
      for (const row of this.s.all.iterate()) visit(toUser(row));
      return this.s.lastSeq.get() ?? 0;
    }).deferred();
  }

  async afterId(id: number, limit: number): Promise<User[]> {
    return this.s.afterId.all(id, limit).map(toUser);
  }

  async importCsv(text: string, opts?: ImportOptions): Promise<ImportRowResult[]> {
    const target = {
      exists: (extension: string) => this.s.byExt.get(extension) !== undefined,
      add: (input: UserInput) => this.addTx(input),
      update: (extension: string, patch: UserPatch) => this.updateTx(extension, patch),
    };
    const chunk = this.db.transaction((rows: readonly UserCsvRow[]) => applyImportRowsSync(target, rows));
    return importInChunks(text, (rows) => chunk.immediate(rows), opts);
  }

  async lastChangeSeq(): Promise<number> {
    return this.s.lastSeq.get() ?? 0;
  }

  async pollChanges(afterSeq: number, limit = 1000): Promise<UserChange[]> {
    return this.s.changes.all(afterSeq, limit);
  }

  watchChanges(listener: ChangeListener, opts: WatchOptions & { afterSeq?: number } = {}): ChangeWatcher {
    const triggers = { intervalMs: opts.intervalMs ?? 500, onError: this.onError };
    // The starting point is read now, synchronously: a write right after this call is seen.
    const from = opts.afterSeq ?? this.s.lastSeq.get() ?? 0;
    return watchLog(userChangeLog(this), listener, from, triggers, unchangedSinceLastLook(this.db, () => this.localWrites));
  }
}
