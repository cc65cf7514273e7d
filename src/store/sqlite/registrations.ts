// Registration bindings persisted write-behind: the registrar's in-memory
// location index is the truth while running; this table only lets it come
// back after a restart. REGISTER handling enqueues and returns; a timer writes
// the coalesced queue in one transaction every flushIntervalMs, or at once
// when maxQueue keys are waiting.
import type Database from 'better-sqlite3';
import type { Binding, RegistrationRepository } from '../types.ts';
import { BindingQueue, type AorWork, type Batch } from './binding-queue.ts';
import { BUSY_TIMEOUT_MS } from './connection.ts';

interface BindingRow {
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
}

function parsePath(json: string): string[] {
  if (json === '[]') return [];
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) ? v.filter((p): p is string => typeof p === 'string') : [];
  } catch {
    return [];
  }
}

function toBinding(r: BindingRow): Binding {
  return {
    aor: r.aor, contactUri: r.contact_uri, contactRaw: r.contact_raw, callId: r.call_id, cseq: r.cseq,
    expiresAt: r.expires_at, q: r.q, path: parsePath(r.path), instanceId: r.instance_id, regId: r.reg_id,
    pubGruu: r.pub_gruu, tempGruu: r.temp_gruu, transport: r.transport, sourceAddress: r.source_address,
    sourcePort: r.source_port, localAddress: r.local_address, localPort: r.local_port,
    userAgent: r.user_agent, updatedAt: r.updated_at,
  };
}

const UPSERT = `INSERT INTO registrations (aor, contact_uri, contact_raw, call_id, cseq, expires_at, q, path,
  instance_id, reg_id, pub_gruu, temp_gruu, transport, source_address, source_port, local_address, local_port,
  user_agent, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
  ON CONFLICT (aor, contact_uri) DO UPDATE SET contact_raw = excluded.contact_raw, call_id = excluded.call_id,
  cseq = excluded.cseq, expires_at = excluded.expires_at, q = excluded.q, path = excluded.path,
  instance_id = excluded.instance_id, reg_id = excluded.reg_id, pub_gruu = excluded.pub_gruu,
  temp_gruu = excluded.temp_gruu, transport = excluded.transport, source_address = excluded.source_address,
  source_port = excluded.source_port, local_address = excluded.local_address, local_port = excluded.local_port,
  user_agent = excluded.user_agent, updated_at = excluded.updated_at`;

function sqliteCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

/** Errors worth retrying with the same batch; anything else points at a bad entry. */
function isTransient(err: unknown): boolean {
  return /^SQLITE_(BUSY|LOCKED|FULL|IOERR|CANTOPEN|READONLY)/.test(sqliteCode(err));
}

function isLockedOut(err: unknown): boolean {
  return /^SQLITE_(BUSY|LOCKED)/.test(sqliteCode(err));
}

export interface WriteBehindOptions {
  flushIntervalMs: number;
  maxQueue: number;
  onError: (err: Error) => void;
}

export class SqliteRegistrationRepository implements RegistrationRepository {
  private readonly queue = new BindingQueue();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Consecutive timer flushes that found the database locked by another writer. */
  private busyStreak = 0;
  private readonly s;
  private readonly writeAll;
  private readonly writeSalvage;

  constructor(private readonly db: Database.Database, private readonly opts: WriteBehindOptions) {
    this.s = {
      upsert: db.prepare(UPSERT),
      del: db.prepare('DELETE FROM registrations WHERE aor = ? AND contact_uri = ?'),
      delAor: db.prepare('DELETE FROM registrations WHERE aor = ?'),
      delExpired: db.prepare('DELETE FROM registrations WHERE expires_at <= ?'),
      all: db.prepare<[], BindingRow>('SELECT * FROM registrations'),
      live: db.prepare<[number], BindingRow>('SELECT * FROM registrations WHERE expires_at > ?'),
    };
    const applyOne = db.transaction((aor: string, w: AorWork) => this.apply(aor, w));
    this.writeAll = db.transaction((batch: Batch) => {
      for (const [aor, w] of batch) this.apply(aor, w);
    });
    // Fallback when the batch fails for a non-transient reason: each AOR in
    // its own savepoint, so one bad entry cannot block persistence forever.
    this.writeSalvage = db.transaction((batch: Batch): string[] => {
      const failed: string[] = [];
      for (const [aor, w] of batch) {
        try {
          applyOne(aor, w);
        } catch (err) {
          failed.push(`${aor}: ${(err as Error).message}`);
        }
      }
      return failed;
    });
  }

  private apply(aor: string, w: AorWork): void {
    if (w.deleteAll) this.s.delAor.run(aor);
    for (const [uri, b] of w.ops) {
      if (b === null) {
        this.s.del.run(aor, uri);
        continue;
      }
      this.s.upsert.run(
        b.aor, b.contactUri, b.contactRaw, b.callId, b.cseq, b.expiresAt, b.q ?? null,
        b.path.length === 0 ? '[]' : JSON.stringify(b.path), b.instanceId ?? null, b.regId ?? null,
        b.pubGruu ?? null, b.tempGruu ?? null, b.transport, b.sourceAddress, b.sourcePort,
        b.localAddress ?? null, b.localPort ?? null, b.userAgent ?? null, b.updatedAt,
      );
    }
  }

  get pending(): number {
    return this.queue.size;
  }

  loadAll(now?: number): Binding[] {
    return (now === undefined ? this.s.all.all() : this.s.live.all(now)).map(toBinding);
  }

  /** The binding object is kept by reference until written; mutating it later changes what gets written. */
  enqueueUpsert(binding: Binding): void {
    if (this.closed) return;
    this.queue.upsert(binding);
    this.queued();
  }

  enqueueDelete(aor: string, contactUri: string): void {
    if (this.closed) return;
    this.queue.delete(aor, contactUri);
    this.queued();
  }

  enqueueDeleteAor(aor: string): void {
    if (this.closed) return;
    this.queue.deleteAor(aor);
    this.queued();
  }

  private queued(): void {
    // While another process holds the write lock, a full queue waits for the
    // timer's retry instead of failing again on every REGISTER.
    if (this.queue.size >= this.opts.maxQueue && this.busyStreak === 0) this.flushQuietly();
    else if (this.timer === undefined) this.arm();
  }

  private arm(): void {
    // Back off while locked out: 2x the interval per failed try, up to 1 s.
    const delay = Math.min(this.opts.flushIntervalMs * 2 ** this.busyStreak, Math.max(1000, this.opts.flushIntervalMs));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flushQuietly();
    }, delay);
    this.timer.unref();
  }

  /**
   * For the timer and the full-queue path, which run on the SIP event loop:
   * no busy waiting (a CLI import may hold the lock for seconds; the data is
   * safe in memory meanwhile), and errors are reported, never thrown.
   */
  private flushQuietly(): void {
    try {
      this.withoutBusyWait(() => this.flush());
      this.busyStreak = 0;
    } catch (err) {
      const busy = isLockedOut(err);
      // One report per lock-out, not one per retry.
      if (!busy || this.busyStreak === 0) this.opts.onError(err as Error);
      this.busyStreak = busy ? this.busyStreak + 1 : 0;
    }
  }

  private withoutBusyWait<T>(fn: () => T): T {
    this.db.pragma('busy_timeout = 0');
    try {
      return fn();
    } finally {
      if (this.db.open) this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    }
  }

  /** A batch that could not be written goes back in the queue, with a timer to retry it. */
  private requeue(batch: Batch): void {
    this.queue.restore(batch);
    if (!this.closed && this.timer === undefined) this.arm();
  }

  flush(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.queue.size === 0) return;
    const batch = this.queue.take();
    try {
      this.writeAll.immediate(batch);
      return;
    } catch (err) {
      if (isTransient(err) || !this.db.open) {
        this.requeue(batch);
        throw err;
      }
    }
    let failed: string[];
    try {
      failed = this.writeSalvage.immediate(batch);
    } catch (err) {
      this.requeue(batch);
      throw err;
    }
    if (failed.length > 0) {
      this.opts.onError(new Error(`dropped registration writes for ${failed.length} AOR(s): ${failed.slice(0, 3).join('; ')}`));
    }
  }

  deleteExpired(now: number): number {
    // Called by the sweeper on the event loop, so it must not wait for a lock
    // another process holds; stale rows are harmless (loadAll(now) skips them).
    try {
      return this.withoutBusyWait(() => {
        this.flush();
        return this.s.delExpired.run(now).changes;
      });
    } catch (err) {
      if (isLockedOut(err)) return 0;
      throw err;
    }
  }

  close(): void {
    if (this.closed) return;
    try {
      this.flush();
    } finally {
      // A failed final write is thrown to the caller; no retry outlives close.
      this.closed = true;
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }
}
