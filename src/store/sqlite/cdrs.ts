// Call detail records, written behind the call path: the B2BUA enqueues a
// record when a call ends and goes on; write-behind.ts writes the queue in
// batches. Records never coalesce, so the queue is a plain list with a cap
// that keeps memory bounded while another process holds the lock for long.
import type Database from 'better-sqlite3';
import { StoreError } from '../errors.ts';
import { CALL_DIRECTIONS, CALL_DISPOSITIONS } from '../types.ts';
import type { CallDirection, CallDisposition, Cdr, CdrInput, CdrLeg, CdrMedia, CdrMediaSide, CdrQuery, CdrRepository, CdrSegment } from '../types.ts';
import { WriteBehind, isLockedOut, type WriteBehindGate, type WriteBehindOptions, type WriteQueue } from './write-behind.ts';
import { pageOf } from '../paging.ts';

export interface CdrRow {
  id: number;
  call_ref: string;
  direction: string;
  caller: string;
  caller_name: string;
  caller_extension: string | null;
  callee: string;
  callee_extension: string | null;
  trunk: string | null;
  started_at: number;
  answered_at: number | null;
  ended_at: number;
  disposition: string;
  status: number;
  reason: string;
  codec: string | null;
  legs: string;
  segments: string;
  media: string | null;
}

function parseLegs(json: string): CdrLeg[] {
  try {
    const v: unknown = JSON.parse(json);
    if (!Array.isArray(v)) return [];
    return v.filter((l): l is CdrLeg => l !== null && typeof l === 'object')
      .map((l) => Object.freeze({ target: String(l.target ?? ''), status: Number(l.status) || 0, callId: String(l.callId ?? ''), ...(typeof l.reason === 'string' ? { reason: l.reason } : {}) }));
  } catch {
    return [];
  }
}

function parseSegments(json: string): CdrSegment[] {
  try {
    const v: unknown = JSON.parse(json);
    if (!Array.isArray(v)) return [];
    return v.filter((x): x is CdrSegment => x !== null && typeof x === 'object')
      .map((x) => Object.freeze({ a: String(x.a ?? ''), b: String(x.b ?? ''), startedAt: Number(x.startedAt) || 0, endedAt: Number(x.endedAt) || 0 }));
  } catch {
    return [];
  }
}

const numOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function mediaSide(v: unknown): CdrMediaSide {
  const o = (v !== null && typeof v === 'object' ? v : {}) as Record<string, unknown>;
  return Object.freeze({
    address: typeof o.address === 'string' ? o.address : null,
    stream: String(o.stream ?? ''),
    packetsIn: numOrNull(o.packetsIn),
    packetsOut: numOrNull(o.packetsOut),
    lost: numOrNull(o.lost),
    lossPercent: numOrNull(o.lossPercent),
    jitterMs: numOrNull(o.jitterMs),
  });
}

function parseMedia(json: string | null): CdrMedia | null {
  if (json === null) return null;
  try {
    const v: unknown = JSON.parse(json);
    if (v === null || typeof v !== 'object') return null;
    const m = v as Record<string, unknown>;
    return Object.freeze({ connectionType: String(m.connectionType ?? ''), caller: mediaSide(m.caller), callee: mediaSide(m.callee) });
  } catch {
    return null;
  }
}

export function toCdr(r: CdrRow): Cdr {
  return Object.freeze({
    id: r.id,
    callRef: r.call_ref,
    direction: r.direction as CallDirection,
    caller: r.caller,
    callerName: r.caller_name,
    callerExtension: r.caller_extension,
    callee: r.callee,
    calleeExtension: r.callee_extension,
    trunk: r.trunk,
    startedAt: r.started_at,
    answeredAt: r.answered_at,
    endedAt: r.ended_at,
    disposition: r.disposition as CallDisposition,
    status: r.status,
    reason: r.reason,
    codec: r.codec,
    legs: Object.freeze(parseLegs(r.legs)),
    segments: Object.freeze(parseSegments(r.segments)),
    media: parseMedia(r.media),
  });
}

export const INSERT = `INSERT INTO cdrs (call_ref, direction, caller, caller_name, caller_extension, callee, callee_extension,
  trunk, started_at, answered_at, ended_at, disposition, status, reason, codec, legs, segments, media) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`;

/** Bind values of INSERT. */
export function cdrValues(c: CdrInput): (string | number | null)[] {
  return [
    c.callRef, c.direction, c.caller, c.callerName ?? '', c.callerExtension ?? null, c.callee,
    c.calleeExtension ?? null, c.trunk ?? null, c.startedAt, c.answeredAt ?? null, c.endedAt, c.disposition,
    c.status, c.reason ?? '', c.codec ?? null, JSON.stringify(c.legs ?? []), JSON.stringify(c.segments ?? []),
    c.media ? JSON.stringify(c.media) : null,
  ];
}

export class CdrQueue implements WriteQueue<CdrInput[]> {
  private items: CdrInput[] = [];
  get size(): number {
    return this.items.length;
  }
  push(cdr: CdrInput): void {
    this.items.push(cdr);
  }
  take(): CdrInput[] {
    const batch = this.items;
    this.items = [];
    return batch;
  }
  restore(older: CdrInput[]): void {
    this.items = older.concat(this.items);
  }
}

/** Query parts: WHERE clause text and its bind values. */
export function where(q: CdrQuery): { sql: string; args: (string | number)[] } {
  const conds: string[] = [];
  const args: (string | number)[] = [];
  if (q.kind !== undefined && !['placed', 'received', 'missed'].includes(q.kind)) {
    throw new StoreError('invalid', 'kind', 'kind: must be placed, received or missed');
  }
  if (q.extension !== undefined && typeof q.extension !== 'string') {
    throw new StoreError('invalid', 'extension', 'extension: must be a string');
  }
  const ext = q.extension;
  // Without an extension, a kind still narrows to local users' calls.
  const byExt = (col: string) => {
    if (ext === undefined) {
      conds.push(`${col} IS NOT NULL`);
    } else {
      conds.push(`${col} = ?`);
      args.push(ext);
    }
  };
  if (q.kind === 'placed') {
    byExt('caller_extension');
  } else if (q.kind === 'received' || q.kind === 'missed') {
    byExt('callee_extension');
    conds.push(q.kind === 'received' ? 'answered_at IS NOT NULL' : 'answered_at IS NULL');
  } else if (ext !== undefined) {
    conds.push('(caller_extension = ? OR callee_extension = ?)');
    args.push(ext, ext);
  }
  if (q.since !== undefined && Number.isFinite(q.since)) {
    conds.push('started_at >= ?');
    args.push(Math.trunc(q.since));
  }
  if (q.until !== undefined && Number.isFinite(q.until)) {
    conds.push('started_at < ?');
    args.push(Math.trunc(q.until));
  }
  const oneOf = <T extends string>(field: 'direction' | 'disposition', v: T | undefined, allowed: readonly T[]) => {
    if (v === undefined) return;
    if (!allowed.includes(v)) throw new StoreError('invalid', field, `${field}: must be one of ${allowed.join(', ')}`);
    conds.push(`${field} = ?`);
    args.push(v);
  };
  oneOf('direction', q.direction, CALL_DIRECTIONS);
  oneOf('disposition', q.disposition, CALL_DISPOSITIONS);
  if (q.status !== undefined) {
    if (!Number.isInteger(q.status)) throw new StoreError('invalid', 'status', 'status: must be a whole number');
    conds.push('status = ?');
    args.push(q.status);
  }
  if (q.trunk !== undefined) {
    conds.push('trunk = ?');
    args.push(String(q.trunk));
  }
  if (q.search !== undefined && q.search !== '') {
    // A substring, not a pattern: % and _ typed by the user match themselves.
    const like = `%${String(q.search).toLowerCase().replace(/[!%_]/g, (c) => `!${c}`)}%`;
    conds.push("(lower(caller) LIKE ? ESCAPE '!' OR lower(callee) LIKE ? ESCAPE '!' OR lower(caller_name) LIKE ? ESCAPE '!')");
    args.push(like, like, like);
  }
  if (q.after !== undefined) {
    conds.push('(started_at < ? OR (started_at = ? AND id < ?))');
    args.push(Math.trunc(q.after.startedAt), Math.trunc(q.after.startedAt), Math.trunc(q.after.id));
  }
  return { sql: conds.length === 0 ? '' : `WHERE ${conds.join(' AND ')}`, args };
}

/** The enqueue side of a call-record repository, the same over both engines. */
export abstract class CdrIntake {
  protected readonly queue = new CdrQueue();
  protected abstract readonly wb: WriteBehindGate;
  /** Records refused because the queue was at its cap. */
  dropped = 0;
  private readonly cap: number;

  constructor(private readonly limits: Pick<WriteBehindOptions, 'maxQueue' | 'onError'>) {
    // Far above what a timer tick accumulates; reached only when writes fail for long.
    this.cap = Math.max(100_000, limits.maxQueue * 10);
  }

  get pending(): number {
    return this.queue.size;
  }

  /** The record is kept by reference until written. */
  enqueue(cdr: CdrInput): void {
    if (this.wb.closed) return;
    if (this.queue.size >= this.cap) {
      this.dropped++;
      // The first loss and then one report per 10,000, not one per call.
      if (this.dropped % 10_000 === 1) {
        this.limits.onError(new Error(`call record queue full (${this.cap}); ${this.dropped} record(s) dropped so far`));
      }
      return;
    }
    this.queue.push(cdr);
    this.wb.queued();
  }
}

export class SqliteCdrRepository extends CdrIntake implements CdrRepository {
  protected readonly wb: WriteBehind<CdrInput[]>;
  private readonly insert;
  /** Prepared queries by SQL text; the query shapes are few (one per set of filters used). */
  private readonly queries = new Map<string, Database.Statement<unknown[], unknown>>();

  constructor(private readonly db: Database.Database, opts: WriteBehindOptions) {
    super(opts);
    this.insert = db.prepare(INSERT);
    this.wb = new WriteBehind(db, this.queue, {
      what: 'call record writes',
      write: (batch) => {
        for (const c of batch) this.apply(c);
      },
      split: (batch) => batch.map((c) => ({ label: String(c.callRef), apply: () => this.apply(c) })),
    }, opts);
  }

  private apply(c: CdrInput): void {
    this.insert.run(...cdrValues(c));
  }

  async flush(): Promise<void> {
    this.wb.flush();
  }

  private statement(sql: string): Database.Statement<unknown[], unknown> {
    let st = this.queries.get(sql);
    if (!st) {
      st = this.db.prepare<unknown[], unknown>(sql);
      this.queries.set(sql, st);
    }
    return st;
  }

  /** Flushes what this process queued (unless another process holds the lock: then committed rows only). */
  private flushForRead(): void {
    try {
      this.wb.withoutBusyWait(() => this.wb.flush());
    } catch (err) {
      if (!isLockedOut(err)) throw err;
    }
  }

  async list(query: CdrQuery = {}): Promise<Cdr[]> {
    this.flushForRead();
    const { limit, offset } = pageOf(query);
    const w = where(query);
    const st = this.statement(`SELECT * FROM cdrs ${w.sql} ORDER BY started_at DESC, id DESC LIMIT ? OFFSET ?`);
    return (st.all(...w.args, limit, offset) as CdrRow[]).map(toCdr);
  }

  async count(query: CdrQuery = {}): Promise<number> {
    this.flushForRead();
    const w = where(query);
    return this.statement(`SELECT count(*) FROM cdrs ${w.sql}`).pluck().get(...w.args) as number;
  }

  async get(id: number): Promise<Cdr | undefined> {
    this.flushForRead();
    const row = this.statement('SELECT * FROM cdrs WHERE id = ?').get(id) as CdrRow | undefined;
    return row ? toCdr(row) : undefined;
  }

  async close(): Promise<void> {
    this.wb.close();
  }
}
