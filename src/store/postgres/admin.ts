// PostgreSQL implementation of the management repositories (admin-types.ts),
// with the SQLite one's semantics (src/store/sqlite/admin.ts: validation and
// row mappers shared).
import { StoreError } from '../errors.ts';
import type {
  AdminAccount, AdminAccountInput, AdminAccountPatch, AdminAccountRepository, AdminSession, AdminSessionRepository,
  AdminStore, AuditEntry, AuditInput, AuditQuery, AuditRepository, SettingsRepository,
  TrustKind, TrustedSource, TrustedSourceRepository, TrustedSourceSighting,
} from '../admin-types.ts';
import {
  auditWhere, parseJson, toAccount, toAudit, toSession, toTrustedSource, TRUSTED_SQL, trustedUpsert, validHash, validName,
  validRoles, validSighting, type AccountRow, type AuditRow, type SessionRow, type TrustedSourceRow,
} from '../sqlite/admin.ts';
import type { PgDb } from './db.ts';
import { pageOf } from '../paging.ts';

async function byName(t: PgDb, name: string): Promise<AccountRow | undefined> {
  return t.get<AccountRow>('SELECT * FROM admin_accounts WHERE lower(name) = lower(?)', [name]);
}

async function mustGet(t: PgDb, name: string): Promise<AdminAccount> {
  const row = typeof name === 'string' ? await byName(t, name) : undefined;
  if (!row) throw new StoreError('not-found', 'name', `no administrator named ${String(name)}`);
  return toAccount(row);
}

class PgAdminAccounts implements AdminAccountRepository {
  constructor(private readonly db: PgDb, private readonly now: () => number) {}

  add(input: AdminAccountInput): Promise<AdminAccount> {
    return this.db.tx(async (t) => {
      const name = validName(input.name);
      if (await byName(t, name)) throw new StoreError('duplicate', 'name', `name ${name} is already used`);
      const at = this.now();
      const row = await t.get<AccountRow>(`INSERT INTO admin_accounts (name, roles, password_hash, must_change_password,
        password_changed_at, enabled, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?) RETURNING *`, [
        name, JSON.stringify(validRoles(input.roles)), validHash(input.passwordHash),
        (input.mustChangePassword ?? true) ? 1 : 0, at, (input.enabled ?? true) ? 1 : 0, at, at,
      ]);
      return toAccount(row!);
    }, { lock: true });
  }

  update(name: string, patch: AdminAccountPatch): Promise<AdminAccount> {
    return this.db.tx(async (t) => {
      const cur = await mustGet(t, name);
      const newName = patch.name === undefined ? cur.name : validName(patch.name);
      const clash = await byName(t, newName);
      if (clash && clash.id !== cur.id) throw new StoreError('duplicate', 'name', `name ${newName} is already used`);
      const roles = patch.roles === undefined ? cur.roles : validRoles(patch.roles);
      const hash = patch.passwordHash === undefined ? cur.passwordHash : validHash(patch.passwordHash);
      const at = this.now();
      if (newName !== cur.name) await t.run(TRUSTED_SQL.renameAdmin, [newName, cur.name]);
      const row = await t.get<AccountRow>(`UPDATE admin_accounts SET name=?, roles=?, password_hash=?, must_change_password=?,
        password_changed_at=?, enabled=?, updated_at=? WHERE id=? RETURNING *`, [
        newName, JSON.stringify(roles), hash, (patch.mustChangePassword ?? cur.mustChangePassword) ? 1 : 0,
        patch.passwordHash === undefined ? cur.passwordChangedAt : at, (patch.enabled ?? cur.enabled) ? 1 : 0, at, cur.id,
      ]);
      return toAccount(row!);
    }, { lock: true });
  }

  remove(name: string): Promise<AdminAccount> {
    return this.db.tx(async (t) => {
      const cur = await mustGet(t, name);
      await t.run('DELETE FROM admin_accounts WHERE id = ?', [cur.id]); // sessions go with it (ON DELETE CASCADE)
      await t.run(TRUSTED_SQL.forgetAdmin, [cur.name]);
      return cur;
    }, { lock: true });
  }

  async get(name: string): Promise<AdminAccount | undefined> {
    const row = await byName(this.db, name);
    return row && toAccount(row);
  }

  async getById(id: number): Promise<AdminAccount | undefined> {
    const row = await this.db.get<AccountRow>('SELECT * FROM admin_accounts WHERE id = ?', [id]);
    return row && toAccount(row);
  }

  async list(): Promise<AdminAccount[]> {
    return (await this.db.all<AccountRow>('SELECT * FROM admin_accounts ORDER BY lower(name) COLLATE "C"')).map(toAccount);
  }

  async count(): Promise<number> {
    return (await this.db.get<{ n: number }>('SELECT count(*) AS n FROM admin_accounts'))!.n;
  }
}

class PgAdminSessions implements AdminSessionRepository {
  constructor(private readonly db: PgDb) {}

  async create(x: AdminSession): Promise<void> {
    await this.db.run('INSERT INTO admin_sessions (id_hash, admin_id, csrf_token, source_ip, created_at, last_seen_at) VALUES (?,?,?,?,?,?)',
      [x.idHash, x.adminId, x.csrfToken, x.sourceIp, x.createdAt, x.lastSeenAt]);
  }

  async get(idHash: string): Promise<AdminSession | undefined> {
    const r = await this.db.get<SessionRow>('SELECT * FROM admin_sessions WHERE id_hash = ?', [idHash]);
    return r && toSession(r);
  }

  async touch(idHash: string, at: number): Promise<void> {
    await this.db.run('UPDATE admin_sessions SET last_seen_at = ? WHERE id_hash = ?', [at, idHash]);
  }

  async remove(idHash: string): Promise<void> {
    await this.db.run('DELETE FROM admin_sessions WHERE id_hash = ?', [idHash]);
  }

  removeForAdmin(adminId: number): Promise<number> {
    return this.db.run('DELETE FROM admin_sessions WHERE admin_id = ?', [adminId]);
  }

  removeIdle(before: number, keep: readonly string[] = []): Promise<number> {
    return this.db.run('DELETE FROM admin_sessions WHERE last_seen_at < ? AND id_hash <> ALL(?::text[])', [before, [...keep]]);
  }
}

class PgAudit implements AuditRepository {
  constructor(private readonly db: PgDb) {}

  async append(e: AuditInput): Promise<AuditEntry> {
    const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v));
    const row = await this.db.get<AuditRow>(`INSERT INTO audit_log (at, actor, source_ip, action, target, before_json, after_json)
      VALUES (?,?,?,?,?,?,?) RETURNING *`, [e.at, e.actor, e.sourceIp, e.action, e.target, json(e.before), json(e.after)]);
    return toAudit(row!);
  }

  async list(q: AuditQuery = {}): Promise<AuditEntry[]> {
    const { limit, offset } = pageOf(q);
    const w = auditWhere(q);
    return (await this.db.all<AuditRow>(`SELECT * FROM audit_log ${w.sql} ORDER BY id DESC LIMIT ? OFFSET ?`, [...w.args, limit, offset])).map(toAudit);
  }

  async count(q: AuditQuery = {}): Promise<number> {
    const w = auditWhere(q);
    return (await this.db.get<{ n: number }>(`SELECT count(*) AS n FROM audit_log ${w.sql}`, w.args))!.n;
  }

  // As in SQLite: ids only grow, so the newest `keep` are the ids above max(id) - keep.
  async trim(keep: number): Promise<number> {
    if (!Number.isInteger(keep) || keep < 0) throw new RangeError(`audit trim: keep must be a whole number, got ${keep}`);
    return this.db.run('DELETE FROM audit_log WHERE id <= (SELECT max(id) FROM audit_log) - ?', [keep]);
  }
}

class PgSettings implements SettingsRepository {
  constructor(private readonly db: PgDb, private readonly now: () => number) {}

  async getAll(): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    for (const r of await this.db.all<{ key: string; value: string }>('SELECT key, value FROM settings ORDER BY key COLLATE "C"')) {
      out[r.key] = parseJson(r.value);
    }
    return out;
  }

  async get(key: string): Promise<unknown> {
    const r = await this.db.get<{ value: string }>('SELECT value FROM settings WHERE key = ?', [key]);
    return r === undefined ? undefined : parseJson(r.value);
  }

  set(entries: Record<string, unknown>): Promise<void> {
    return this.db.tx(async (t) => {
      const at = this.now();
      for (const [key, value] of Object.entries(entries)) {
        if (value === undefined || value === null) await t.run('DELETE FROM settings WHERE key = ?', [key]);
        else {
          await t.run(`INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
            ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, [key, JSON.stringify(value), at]);
        }
      }
    });
  }
}

const PG_UPSERT = trustedUpsert('greatest');

class PgTrustedSources implements TrustedSourceRepository {
  constructor(private readonly db: PgDb) {}

  record(sightings: readonly TrustedSourceSighting[]): Promise<void> {
    for (const x of sightings) validSighting(x);
    // Sorted, so two nodes recording the same keys take the row locks in one order.
    const sorted = [...sightings].sort((a, b) => cmp(a.kind, b.kind) || cmp(a.subject, b.subject) || cmp(a.address, b.address));
    return this.db.tx(async (t) => {
      const subjects = new Map<string, TrustedSourceSighting>();
      for (const x of sorted) {
        await t.run(PG_UPSERT, [x.kind, x.subject, x.address, x.at, x.at]);
        subjects.set(`${x.kind}\0${x.subject}`, x);
      }
      for (const x of subjects.values()) await t.run(TRUSTED_SQL.trim, [x.kind, x.subject, x.kind, x.subject]);
    });
  }

  async has(kind: TrustKind, subject: string, address: string, since: number): Promise<boolean> {
    return (await this.db.get(TRUSTED_SQL.has, [kind, subject, address, since])) !== undefined;
  }

  async list(kind: TrustKind, subject: string, since: number): Promise<TrustedSource[]> {
    return (await this.db.all<TrustedSourceRow>(TRUSTED_SQL.list, [kind, subject, since])).map(toTrustedSource);
  }

  async subjectsAt(kind: TrustKind, address: string, since: number, limit: number): Promise<string[]> {
    return (await this.db.all<{ subject: string }>(TRUSTED_SQL.subjectsAt, [kind, address, since, limit])).map((r) => r.subject);
  }

  remove(kind: TrustKind, subject: string, address?: string): Promise<number> {
    return address === undefined
      ? this.db.run(TRUSTED_SQL.removeAll, [kind, subject])
      : this.db.run(TRUSTED_SQL.removeOne, [kind, subject, address]);
  }

  prune(before: number): Promise<number> {
    return this.db.run(TRUSTED_SQL.prune, [before]);
  }
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function pgAdminStore(db: PgDb, now: () => number): AdminStore {
  return {
    accounts: new PgAdminAccounts(db, now),
    sessions: new PgAdminSessions(db),
    audit: new PgAudit(db),
    settings: new PgSettings(db, now),
    trustedSources: new PgTrustedSources(db),
  };
}
