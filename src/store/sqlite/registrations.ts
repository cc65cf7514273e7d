// Registration bindings persisted write-behind: the registrar's in-memory
// location index is the truth while running; this table only lets it come
// back after a restart. REGISTER handling enqueues and returns; write-behind.ts
// writes the coalesced queue (binding-queue.ts) in the background.
import type Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import type { Binding, ChangeWatcher, RegistrationRepository, WatchOptions } from '../types.ts';
import { watchLog } from '../watch.ts';
import { BindingIntake, type AorWork, type Batch } from './binding-queue.ts';
import { WriteBehind, isLockedOut, type WriteBehindOptions } from './write-behind.ts';

export interface BindingRow {
  aor: string;
  contact_uri: string;
  contact_raw: string;
  call_id: string;
  cseq: number;
  expires_at: number;
  q: number | null;
  path: string;
  instance_id: string | null;
  reg_id: number | null;
  pub_gruu: string | null;
  temp_gruu: string | null;
  transport: string;
  source_address: string;
  source_port: number;
  local_address: string | null;
  local_port: number | null;
  user_agent: string | null;
  updated_at: number;
  node: string | null;
}

/** A JSON array of strings as stored (path, the AORs of a change); [] for anything else. */
export function parseStringArray(json: string): string[] {
  if (json === '[]') return [];
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) ? v.filter((p): p is string => typeof p === 'string') : [];
  } catch {
    return [];
  }
}

export function toBinding(r: BindingRow): Binding {
  return {
    aor: r.aor, contactUri: r.contact_uri, contactRaw: r.contact_raw, callId: r.call_id, cseq: r.cseq,
    expiresAt: r.expires_at, q: r.q, path: parseStringArray(r.path), instanceId: r.instance_id, regId: r.reg_id,
    pubGruu: r.pub_gruu, tempGruu: r.temp_gruu, transport: r.transport, sourceAddress: r.source_address,
    sourcePort: r.source_port, localAddress: r.local_address, localPort: r.local_port,
    userAgent: r.user_agent, updatedAt: r.updated_at, node: r.node,
  };
}

/** Bind values of UPSERT. */
export function bindingValues(b: Binding): (string | number | null)[] {
  return [
    b.aor, b.contactUri, b.contactRaw, b.callId, b.cseq, b.expiresAt, b.q ?? null,
    b.path.length === 0 ? '[]' : JSON.stringify(b.path), b.instanceId ?? null, b.regId ?? null,
    b.pubGruu ?? null, b.tempGruu ?? null, b.transport, b.sourceAddress, b.sourcePort,
    b.localAddress ?? null, b.localPort ?? null, b.userAgent ?? null, b.updatedAt, b.node ?? null,
  ];
}

export const UPSERT = `INSERT INTO registrations (aor, contact_uri, contact_raw, call_id, cseq, expires_at, q, path,
  instance_id, reg_id, pub_gruu, temp_gruu, transport, source_address, source_port, local_address, local_port,
  user_agent, updated_at, node) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
  ON CONFLICT (aor, contact_uri) DO UPDATE SET contact_raw = excluded.contact_raw, call_id = excluded.call_id,
  cseq = excluded.cseq, expires_at = excluded.expires_at, q = excluded.q, path = excluded.path,
  instance_id = excluded.instance_id, reg_id = excluded.reg_id, pub_gruu = excluded.pub_gruu,
  temp_gruu = excluded.temp_gruu, transport = excluded.transport, source_address = excluded.source_address,
  source_port = excluded.source_port, local_address = excluded.local_address, local_port = excluded.local_port,
  user_agent = excluded.user_agent, updated_at = excluded.updated_at, node = excluded.node`;

export class SqliteRegistrationRepository extends BindingIntake implements RegistrationRepository {
  protected readonly wb: WriteBehind<Batch>;
  private readonly s;
  /** Marks this instance's entries in the change log, which its own watchers skip. */
  private readonly writer = randomUUID();

  constructor(db: Database.Database, private readonly opts: WriteBehindOptions & { changeLogKeep: number }) {
    super();
    this.s = {
      upsert: db.prepare(UPSERT),
      del: db.prepare('DELETE FROM registrations WHERE aor = ? AND contact_uri = ?'),
      delAor: db.prepare('DELETE FROM registrations WHERE aor = ?'),
      delExpired: db.prepare('DELETE FROM registrations WHERE expires_at <= ?'),
      all: db.prepare<[], BindingRow>('SELECT * FROM registrations'),
      live: db.prepare<[number], BindingRow>('SELECT * FROM registrations WHERE expires_at > ?'),
      aor: db.prepare<[string], BindingRow>('SELECT * FROM registrations WHERE aor = ?'),
      aorLive: db.prepare<[string, number], BindingRow>('SELECT * FROM registrations WHERE aor = ? AND expires_at > ?'),
      log: db.prepare('INSERT INTO registration_changes (writer, aors) VALUES (?, ?)'),
      trim: db.prepare('DELETE FROM registration_changes WHERE seq <= ?'),
      lastSeq: db.prepare<[], number | null>('SELECT max(seq) FROM registration_changes').pluck(),
      changes: db.prepare<[number, string, number], { seq: number; aors: string }>(
        'SELECT seq, aors FROM registration_changes WHERE seq > ? AND writer <> ? ORDER BY seq LIMIT ?'),
    };
    this.wb = new WriteBehind(db, this.queue, {
      what: 'registration writes',
      write: (batch) => {
        for (const [aor, w] of batch) this.apply(aor, w);
        this.logBatch([...batch.keys()]);
      },
      split: (batch) => [...batch].map(([aor, w]) => ({ label: aor, apply: () => {
        this.apply(aor, w);
        this.logBatch([aor]);
      } })),
    }, opts);
  }

  private apply(aor: string, w: AorWork): void {
    if (w.deleteAll) this.s.delAor.run(aor);
    for (const [uri, b] of w.ops) {
      if (b === null) {
        this.s.del.run(aor, uri);
        continue;
      }
      this.s.upsert.run(...bindingValues(b));
    }
  }

  /** One change-log row per batch; trimming by primary key range is one cheap indexed delete. */
  private logBatch(aors: string[]): void {
    const seq = Number(this.s.log.run(this.writer, JSON.stringify(aors)).lastInsertRowid);
    if (seq > this.opts.changeLogKeep) this.s.trim.run(seq - this.opts.changeLogKeep);
  }

  async loadAll(now?: number): Promise<Binding[]> {
    return (now === undefined ? this.s.all.all() : this.s.live.all(now)).map(toBinding);
  }

  async loadAor(aor: string, now?: number): Promise<Binding[]> {
    return (now === undefined ? this.s.aor.all(aor) : this.s.aorLive.all(aor, now)).map(toBinding);
  }

  watch(listener: (aors: readonly string[]) => void | Promise<void>, opts: WatchOptions = {}): ChangeWatcher {
    const log = {
      lastSeq: async () => this.s.lastSeq.get() ?? 0,
      after: async (seq: number, limit: number) => this.s.changes.all(seq, this.writer, limit),
    };
    // A trimmed stretch (reset) cannot be recovered per AOR; the entries still
    // name what changed since, and bindings expire on their own anyway.
    return watchLog(log, (entries) => listener([...new Set(entries.flatMap((e) => parseStringArray(e.aors)))]), this.s.lastSeq.get() ?? 0,
      { intervalMs: opts.intervalMs ?? 500, onError: this.opts.onError });
  }

  async flush(): Promise<void> {
    this.wb.flush();
  }

  async deleteExpired(now: number): Promise<number> {
    // Called by the sweeper on the event loop, so it must not wait for a lock
    // another process holds; stale rows are harmless (loadAll(now) skips them).
    try {
      return this.wb.withoutBusyWait(() => {
        this.wb.flush();
        return this.s.delExpired.run(now).changes;
      });
    } catch (err) {
      if (isLockedOut(err)) return 0;
      throw err;
    }
  }

  async close(): Promise<void> {
    this.wb.close();
  }
}
