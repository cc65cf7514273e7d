// SQLite implementation of the management repositories (admin-types.ts).
import type Database from 'better-sqlite3';
import { StoreError } from '../errors.ts';
import {
  ADMIN_ROLES, type AdminAccount, type AdminAccountInput, type AdminAccountPatch, type AdminAccountRepository,
  type AdminRole, type AdminSession, type AdminSessionRepository, type AdminStore, type AuditEntry, type AuditInput,
  type AuditQuery, type AuditRepository, type SettingsRepository, TRUST_KINDS, TRUSTED_SOURCES_PER_SUBJECT,
  type TrustKind, type TrustedSource, type TrustedSourceRepository, type TrustedSourceSighting,
} from '../admin-types.ts';
import { pageOf } from '../paging.ts';

export const ADMIN_NAME_RE = /^[A-Za-z0-9_.@-]{1,64}$/;

export interface AccountRow {
  id: number;
  name: string;
  roles: string;
  password_hash: string;
  must_change_password: number;
  password_changed_at: number;
  enabled: number;
  created_at: number;
  updated_at: number;
}

function parseRoles(json: string): AdminRole[] {
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) ? v.filter((r): r is AdminRole => ADMIN_ROLES.includes(r as AdminRole)) : [];
  } catch {
    return []; // a hand-edited bad value grants nothing
  }
}

export function toAccount(r: AccountRow): AdminAccount {
  return Object.freeze({
    id: r.id,
    name: r.name,
    roles: Object.freeze(parseRoles(r.roles)),
    passwordHash: r.password_hash,
    mustChangePassword: r.must_change_password !== 0,
    passwordChangedAt: r.password_changed_at,
    enabled: r.enabled !== 0,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  });
}

export function validName(name: unknown): string {
  if (typeof name !== 'string' || !ADMIN_NAME_RE.test(name)) {
    throw new StoreError('invalid', 'name', 'name: must be 1-64 letters, digits or _.@-');
  }
  return name;
}

export function validRoles(roles: unknown): AdminRole[] {
  if (!Array.isArray(roles) || roles.length === 0 || roles.some((r) => !ADMIN_ROLES.includes(r as AdminRole))) {
    throw new StoreError('invalid', 'roles', `roles: must be a non-empty list of ${ADMIN_ROLES.join(', ')}`);
  }
  return [...new Set(roles as AdminRole[])];
}

export function validHash(hash: unknown): string {
  if (typeof hash !== 'string' || hash.length < 16 || hash.length > 512) {
    throw new StoreError('invalid', 'passwordHash', 'passwordHash: not a password hash');
  }
  return hash;
}

class SqliteAdminAccounts implements AdminAccountRepository {
  private readonly s;
  private readonly updateTx;

  constructor(private readonly db: Database.Database, private readonly now: () => number) {
    const p = <R>(sql: string) => db.prepare<unknown[], R>(sql);
    this.s = {
      byName: p<AccountRow>('SELECT * FROM admin_accounts WHERE lower(name) = lower(?)'),
      byId: p<AccountRow>('SELECT * FROM admin_accounts WHERE id = ?'),
      all: p<AccountRow>('SELECT * FROM admin_accounts ORDER BY lower(name)'),
      count: p<number>('SELECT count(*) FROM admin_accounts').pluck(),
      insert: p(`INSERT INTO admin_accounts (name, roles, password_hash, must_change_password, password_changed_at,
        enabled, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)`),
      update: p(`UPDATE admin_accounts SET name=?, roles=?, password_hash=?, must_change_password=?,
        password_changed_at=?, enabled=?, updated_at=? WHERE id=?`),
      remove: p('DELETE FROM admin_accounts WHERE id = ?'),
    };
    this.updateTx = db.transaction((name: string, patch: AdminAccountPatch): AdminAccount => {
      const cur = this.mustGet(name);
      const newName = patch.name === undefined ? cur.name : validName(patch.name);
      const clash = this.s.byName.get(newName);
      if (clash && clash.id !== cur.id) throw new StoreError('duplicate', 'name', `name ${newName} is already used`);
      const roles = patch.roles === undefined ? cur.roles : validRoles(patch.roles);
      const hash = patch.passwordHash === undefined ? cur.passwordHash : validHash(patch.passwordHash);
      const t = this.now();
      if (newName !== cur.name) this.db.prepare(TRUSTED_SQL.renameAdmin).run(newName, cur.name);
      this.s.update.run(
        newName, JSON.stringify(roles), hash, (patch.mustChangePassword ?? cur.mustChangePassword) ? 1 : 0,
        patch.passwordHash === undefined ? cur.passwordChangedAt : t, (patch.enabled ?? cur.enabled) ? 1 : 0, t, cur.id,
      );
      return toAccount(this.s.byId.get(cur.id)!);
    });
  }

  private mustGet(name: string): AdminAccount {
    const row = typeof name === 'string' ? this.s.byName.get(name) : undefined;
    if (!row) throw new StoreError('not-found', 'name', `no administrator named ${String(name)}`);
    return toAccount(row);
  }

  async add(input: AdminAccountInput): Promise<AdminAccount> {
    return this.db.transaction((): AdminAccount => {
      const name = validName(input.name);
      if (this.s.byName.get(name)) throw new StoreError('duplicate', 'name', `name ${name} is already used`);
      const t = this.now();
      const id = this.s.insert.run(
        name, JSON.stringify(validRoles(input.roles)), validHash(input.passwordHash),
        (input.mustChangePassword ?? true) ? 1 : 0, t, (input.enabled ?? true) ? 1 : 0, t, t,
      ).lastInsertRowid;
      return toAccount(this.s.byId.get(Number(id))!);
    }).immediate();
  }

  async update(name: string, patch: AdminAccountPatch): Promise<AdminAccount> {
    return this.updateTx.immediate(name, patch);
  }

  async remove(name: string): Promise<AdminAccount> {
    return this.db.transaction((): AdminAccount => {
      const cur = this.mustGet(name);
      this.s.remove.run(cur.id); // sessions go with it (ON DELETE CASCADE)
      this.db.prepare(TRUSTED_SQL.forgetAdmin).run(cur.name);
      return cur;
    }).immediate();
  }

  async get(name: string): Promise<AdminAccount | undefined> {
    const row = this.s.byName.get(name);
    return row && toAccount(row);
  }

  async getById(id: number): Promise<AdminAccount | undefined> {
    const row = this.s.byId.get(id);
    return row && toAccount(row);
  }

  async list(): Promise<AdminAccount[]> {
    return this.s.all.all().map(toAccount);
  }

  async count(): Promise<number> {
    return this.s.count.get()!;
  }
}

export interface SessionRow {
  id_hash: string;
  admin_id: number;
  csrf_token: string;
  source_ip: string;
  created_at: number;
  last_seen_at: number;
}

export function toSession(r: SessionRow): AdminSession {
  return {
    idHash: r.id_hash, adminId: r.admin_id, csrfToken: r.csrf_token, sourceIp: r.source_ip,
    createdAt: r.created_at, lastSeenAt: r.last_seen_at,
  };
}

class SqliteAdminSessions implements AdminSessionRepository {
  private readonly s;

  constructor(db: Database.Database) {
    const p = <R>(sql: string) => db.prepare<unknown[], R>(sql);
    this.s = {
      insert: p('INSERT INTO admin_sessions (id_hash, admin_id, csrf_token, source_ip, created_at, last_seen_at) VALUES (?,?,?,?,?,?)'),
      get: p<SessionRow>('SELECT * FROM admin_sessions WHERE id_hash = ?'),
      touch: p('UPDATE admin_sessions SET last_seen_at = ? WHERE id_hash = ?'),
      remove: p('DELETE FROM admin_sessions WHERE id_hash = ?'),
      removeForAdmin: p('DELETE FROM admin_sessions WHERE admin_id = ?'),
      removeIdle: p('DELETE FROM admin_sessions WHERE last_seen_at < ? AND id_hash NOT IN (SELECT value FROM json_each(?))'),
    };
  }

  async create(x: AdminSession): Promise<void> {
    this.s.insert.run(x.idHash, x.adminId, x.csrfToken, x.sourceIp, x.createdAt, x.lastSeenAt);
  }

  async get(idHash: string): Promise<AdminSession | undefined> {
    const r = this.s.get.get(idHash);
    return r && toSession(r);
  }

  async touch(idHash: string, at: number): Promise<void> {
    this.s.touch.run(at, idHash);
  }

  async remove(idHash: string): Promise<void> {
    this.s.remove.run(idHash);
  }

  async removeForAdmin(adminId: number): Promise<number> {
    return this.s.removeForAdmin.run(adminId).changes;
  }

  async removeIdle(before: number, keep: readonly string[] = []): Promise<number> {
    return this.s.removeIdle.run(before, JSON.stringify(keep)).changes;
  }
}

export interface AuditRow {
  id: number;
  at: number;
  actor: string;
  source_ip: string | null;
  action: string;
  target: string;
  before_json: string | null;
  after_json: string | null;
}

export function parseJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

export function toAudit(r: AuditRow): AuditEntry {
  return {
    id: r.id, at: r.at, actor: r.actor, sourceIp: r.source_ip, action: r.action, target: r.target,
    before: parseJson(r.before_json), after: parseJson(r.after_json),
  };
}

function likePattern(s: string): string {
  return `%${s.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

// The filter combinations are few and admin-only, so the SQL is built per call.
export function auditWhere(q: AuditQuery): { sql: string; args: (string | number)[] } {
  const parts: string[] = [];
  const args: (string | number)[] = [];
  if (q.actor !== undefined) {
    parts.push('lower(actor) = lower(?)');
    args.push(q.actor);
  }
  if (q.target !== undefined && q.target !== '') {
    parts.push("lower(target) LIKE ? ESCAPE '\\'");
    args.push(likePattern(q.target));
  }
  if (q.since !== undefined && Number.isFinite(q.since)) {
    parts.push('at >= ?');
    args.push(q.since);
  }
  if (q.until !== undefined && Number.isFinite(q.until)) {
    parts.push('at < ?');
    args.push(q.until);
  }
  if (q.action !== undefined && q.action !== '') {
    parts.push("lower(action) LIKE ? ESCAPE '\\'");
    args.push(likePattern(q.action));
  }
  return { sql: parts.length ? `WHERE ${parts.join(' AND ')}` : '', args };
}

class SqliteAudit implements AuditRepository {
  private readonly insert;
  private readonly byId;

  constructor(private readonly db: Database.Database) {
    this.insert = db.prepare(`INSERT INTO audit_log (at, actor, source_ip, action, target, before_json, after_json)
      VALUES (?,?,?,?,?,?,?)`);
    this.byId = db.prepare<[number], AuditRow>('SELECT * FROM audit_log WHERE id = ?');
  }

  async append(e: AuditInput): Promise<AuditEntry> {
    const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v));
    const id = this.insert.run(e.at, e.actor, e.sourceIp, e.action, e.target, json(e.before), json(e.after)).lastInsertRowid;
    return toAudit(this.byId.get(Number(id))!);
  }

  async list(q: AuditQuery = {}): Promise<AuditEntry[]> {
    const { limit, offset } = pageOf(q);
    const w = auditWhere(q);
    return this.db
      .prepare<unknown[], AuditRow>(`SELECT * FROM audit_log ${w.sql} ORDER BY id DESC LIMIT ? OFFSET ?`)
      .all(...w.args, limit, offset)
      .map(toAudit);
  }

  async count(q: AuditQuery = {}): Promise<number> {
    const w = auditWhere(q);
    return this.db.prepare<unknown[], number>(`SELECT count(*) FROM audit_log ${w.sql}`).pluck().get(...w.args)!;
  }

  // Runs after every entry, so it must not scan: ids only grow (AUTOINCREMENT) and
  // nothing else deletes, so the newest `keep` are the ids above max(id) - keep.
  // A gap in the ids (none are made today) would only make it keep fewer.
  async trim(keep: number): Promise<number> {
    if (!Number.isInteger(keep) || keep < 0) throw new RangeError(`audit trim: keep must be a whole number, got ${keep}`);
    this.trimStmt ??= this.db.prepare('DELETE FROM audit_log WHERE id <= (SELECT max(id) FROM audit_log) - ?');
    return this.trimStmt.run(keep).changes;
  }

  private trimStmt: Database.Statement<[number]> | undefined;
}

class SqliteSettings implements SettingsRepository {
  private readonly s;

  constructor(private readonly db: Database.Database, private readonly now: () => number) {
    this.s = {
      all: db.prepare<[], { key: string; value: string }>('SELECT key, value FROM settings ORDER BY key'),
      get: db.prepare<[string], string>('SELECT value FROM settings WHERE key = ?').pluck(),
      upsert: db.prepare(`INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
        ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`),
      remove: db.prepare('DELETE FROM settings WHERE key = ?'),
    };
  }

  async getAll(): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    for (const r of this.s.all.all()) out[r.key] = parseJson(r.value);
    return out;
  }

  async get(key: string): Promise<unknown> {
    const v = this.s.get.get(key);
    return v === undefined ? undefined : parseJson(v);
  }

  async set(entries: Record<string, unknown>): Promise<void> {
    this.db.transaction(() => {
      const t = this.now();
      for (const [key, value] of Object.entries(entries)) {
        if (value === undefined || value === null) this.s.remove.run(key);
        else this.s.upsert.run(key, JSON.stringify(value), t);
      }
    }).immediate();
  }
}

export interface TrustedSourceRow {
  kind: string;
  subject: string;
  address: string;
  first_seen_at: number;
  last_seen_at: number;
}

export function toTrustedSource(r: TrustedSourceRow): TrustedSource {
  return Object.freeze({
    kind: r.kind as TrustKind, subject: r.subject, address: r.address,
    firstSeenAt: Number(r.first_seen_at), lastSeenAt: Number(r.last_seen_at),
  });
}

/** Names and addresses come from the network: bounded, and of a known kind. */
export function validSighting(x: TrustedSourceSighting): TrustedSourceSighting {
  if (!TRUST_KINDS.includes(x.kind)) throw new StoreError('invalid', 'kind', `kind: must be one of ${TRUST_KINDS.join(', ')}`);
  if (typeof x.subject !== 'string' || x.subject.length === 0 || x.subject.length > 256) throw new StoreError('invalid', 'subject', 'subject: 1-256 characters');
  if (typeof x.address !== 'string' || x.address.length === 0 || x.address.length > 64) throw new StoreError('invalid', 'address', 'address: 1-64 characters');
  if (!Number.isSafeInteger(x.at)) throw new StoreError('invalid', 'at', 'at: epoch milliseconds');
  return x;
}

/** SQL both engines run unchanged (PostgreSQL through PgDb's ? placeholders). */
export const TRUSTED_SQL = {
  upsert: `INSERT INTO trusted_sources (kind, subject, address, first_seen_at, last_seen_at) VALUES (?,?,?,?,?)
    ON CONFLICT (kind, subject, address) DO UPDATE SET last_seen_at = max_of_last_seen`,
  // Keeps the newest TRUSTED_SOURCES_PER_SUBJECT of one subject.
  trim: `DELETE FROM trusted_sources WHERE kind = ? AND subject = ? AND address NOT IN (
    SELECT address FROM trusted_sources WHERE kind = ? AND subject = ? ORDER BY last_seen_at DESC, address LIMIT ${TRUSTED_SOURCES_PER_SUBJECT})`,
  has: 'SELECT 1 AS x FROM trusted_sources WHERE kind = ? AND subject = ? AND address = ? AND last_seen_at >= ?',
  list: 'SELECT * FROM trusted_sources WHERE kind = ? AND subject = ? AND last_seen_at >= ? ORDER BY last_seen_at DESC, address',
  removeOne: 'DELETE FROM trusted_sources WHERE kind = ? AND subject = ? AND address = ?',
  removeAll: 'DELETE FROM trusted_sources WHERE kind = ? AND subject = ?',
  prune: 'DELETE FROM trusted_sources WHERE last_seen_at < ?',
  subjectsAt: 'SELECT subject FROM trusted_sources WHERE kind = ? AND address = ? AND last_seen_at >= ? ORDER BY last_seen_at DESC, subject LIMIT ?',
  // An account's addresses go with it, and follow a rename (subjects are lower-case names).
  forgetAdmin: "DELETE FROM trusted_sources WHERE kind = 'admin' AND subject = lower(?)",
  renameAdmin: "UPDATE trusted_sources SET subject = lower(?) WHERE kind = 'admin' AND subject = lower(?)",
};

/** Each engine's "the later of the stored and the new last_seen_at" (SQLite: max(a, b); PostgreSQL: greatest(a, b)). */
export function trustedUpsert(maxFn: 'max' | 'greatest'): string {
  return TRUSTED_SQL.upsert.replace('max_of_last_seen', `${maxFn}(trusted_sources.last_seen_at, excluded.last_seen_at)`);
}

class SqliteTrustedSources implements TrustedSourceRepository {
  private readonly s;

  constructor(private readonly db: Database.Database) {
    const p = <R>(sql: string) => db.prepare<unknown[], R>(sql);
    this.s = {
      upsert: p(trustedUpsert('max')),
      trim: p(TRUSTED_SQL.trim),
      has: p<number>(TRUSTED_SQL.has).pluck(),
      list: p<TrustedSourceRow>(TRUSTED_SQL.list),
      removeOne: p(TRUSTED_SQL.removeOne),
      removeAll: p(TRUSTED_SQL.removeAll),
      prune: p(TRUSTED_SQL.prune),
      subjectsAt: p<string>(TRUSTED_SQL.subjectsAt).pluck(),
    };
  }

  async record(sightings: readonly TrustedSourceSighting[]): Promise<void> {
    for (const x of sightings) validSighting(x);
    this.db.transaction(() => {
      const subjects = new Map<string, TrustedSourceSighting>();
      for (const x of sightings) {
        this.s.upsert.run(x.kind, x.subject, x.address, x.at, x.at);
        subjects.set(`${x.kind}\0${x.subject}`, x);
      }
      for (const x of subjects.values()) this.s.trim.run(x.kind, x.subject, x.kind, x.subject);
    }).immediate();
  }

  async has(kind: TrustKind, subject: string, address: string, since: number): Promise<boolean> {
    return this.s.has.get(kind, subject, address, since) !== undefined;
  }

  async list(kind: TrustKind, subject: string, since: number): Promise<TrustedSource[]> {
    return this.s.list.all(kind, subject, since).map(toTrustedSource);
  }

  async subjectsAt(kind: TrustKind, address: string, since: number, limit: number): Promise<string[]> {
    return this.s.subjectsAt.all(kind, address, since, limit);
  }

  async remove(kind: TrustKind, subject: string, address?: string): Promise<number> {
    return address === undefined ? this.s.removeAll.run(kind, subject).changes : this.s.removeOne.run(kind, subject, address).changes;
  }

  async prune(before: number): Promise<number> {
    return this.s.prune.run(before).changes;
  }
}

export function sqliteAdminStore(db: Database.Database, now: () => number): AdminStore {
  return {
    accounts: new SqliteAdminAccounts(db, now),
    sessions: new SqliteAdminSessions(db),
    audit: new SqliteAudit(db),
    settings: new SqliteSettings(db, now),
    trustedSources: new SqliteTrustedSources(db),
  };
}
