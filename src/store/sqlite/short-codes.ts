// The short code table in SQLite, kept in order by a dense position column
// (0..n-1). Validation comes from the model (src/model/short-code.ts).
import type Database from 'better-sqlite3';
import {
  matchShortCode, shortCodeInputSchema, shortCodePatchSchema, shortCodeProblem, type ShortCode, type ShortCodeFeature,
  type ShortCodeInput, type ShortCodeMatch, type ShortCodePatch,
} from '../../model/short-code.ts';
import { StoreError } from '../errors.ts';
import { parseModel } from '../model-parse.ts';
import { watchRevision } from '../watch.ts';
import type { ChangeWatcher, ShortCodeRepository, WatchOptions } from '../types.ts';
import { Numbering } from './numbering.ts';

export interface CodeRow {
  id: number;
  position: number;
  code: string;
  feature: string;
  value: string | null;
  created_at: number;
  updated_at: number;
}

export interface Fields {
  code: string;
  feature: ShortCodeFeature;
  value: string | null;
}

export class SqliteShortCodeRepository implements ShortCodeRepository {
  private readonly s;
  private readonly numbering;
  /** The table as last read, and the revision it reflects (match() re-reads only when it moved). */
  private cached: { revision: number; codes: ShortCode[] } | null = null;

  constructor(
    private readonly db: Database.Database,
    private readonly now: () => number,
    private readonly onError: (err: Error) => void,
  ) {
    const p = <R>(sql: string) => db.prepare<unknown[], R>(sql);
    this.numbering = new Numbering(db);
    this.s = {
      all: p<CodeRow>('SELECT * FROM short_codes ORDER BY position, id'),
      byCode: p<CodeRow>('SELECT * FROM short_codes WHERE code = ?'),
      insert: p('INSERT INTO short_codes (position, code, feature, value, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)'),
      update: p('UPDATE short_codes SET code = ?, feature = ?, value = ?, updated_at = ? WHERE id = ?'),
      move: p('UPDATE short_codes SET position = ? WHERE id = ?'),
      remove: p('DELETE FROM short_codes WHERE id = ?'),
      revision: p<number>("SELECT revision FROM revisions WHERE name = 'short_codes'").pluck(),
    };
  }

  private check(f: Fields, cur: ShortCode | null): void {
    const problem = shortCodeProblem(f.code, f.feature, f.value);
    if (problem) throw new StoreError('invalid', problem.field, `${problem.field}: ${problem.message}`);
    if (f.code !== cur?.code) {
      if (this.s.byCode.get(f.code)) throw new StoreError('duplicate', 'code', `short code ${f.code} already exists`);
      this.numbering.checkCode(f.code);
    }
  }

  /** Puts row id at index `to` (clamped), renumbering the rows whose place changed. */
  private place(id: number, to: number | undefined): void {
    const ids = this.s.all.all().map((r) => r.id).filter((x) => x !== id);
    const at = to === undefined ? ids.length : Math.min(to, ids.length);
    ids.splice(at, 0, id);
    const rows = new Map(this.s.all.all().map((r) => [r.id, r.position]));
    ids.forEach((x, i) => {
      if (rows.get(x) !== i) this.s.move.run(i, x);
    });
  }

  private mustGet(code: string): ShortCode {
    const row = typeof code === 'string' ? this.s.byCode.get(code) : undefined;
    if (!row) throw new StoreError('not-found', 'code', `no short code ${String(code)}`);
    return toCode(row);
  }

  async list(): Promise<ShortCode[]> {
    return this.s.all.all().map(toCode);
  }

  async get(code: string): Promise<ShortCode | undefined> {
    const row = this.s.byCode.get(code);
    return row && toCode(row);
  }

  async add(input: ShortCodeInput): Promise<ShortCode> {
    return this.db.transaction(() => {
      const f = parseModel(shortCodeInputSchema, input);
      this.check(f, null);
      const t = this.now();
      const id = Number(this.s.insert.run(Number.MAX_SAFE_INTEGER, f.code, f.feature, f.value, t, t).lastInsertRowid);
      this.place(id, f.position);
      return toCode(this.s.byCode.get(f.code)!);
    }).immediate();
  }

  async update(code: string, patch: ShortCodePatch): Promise<ShortCode> {
    return this.db.transaction(() => {
      const cur = this.mustGet(code);
      const p = parseModel(shortCodePatchSchema, patch);
      const feature = p.feature ?? cur.feature;
      // A new feature that takes no parameter drops the old fixed value rather than refuse.
      const value = p.value !== undefined ? p.value : p.feature !== undefined && p.feature !== cur.feature ? null : cur.value;
      const f: Fields = { code: p.code ?? cur.code, feature, value };
      this.check(f, cur);
      this.s.update.run(f.code, f.feature, f.value, this.now(), cur.id);
      if (p.position !== undefined) this.place(cur.id, p.position);
      return toCode(this.s.byCode.get(f.code)!);
    }).immediate();
  }

  async set(input: ShortCodeInput): Promise<ShortCode> {
    const code = (input as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && this.s.byCode.get(code)) {
      const { code: _c, ...rest } = input;
      return this.update(code, rest);
    }
    return this.add(input);
  }

  async remove(code: string): Promise<ShortCode> {
    return this.db.transaction(() => {
      const cur = this.mustGet(code);
      this.s.remove.run(cur.id);
      this.s.all.all().forEach((r, i) => {
        if (r.position !== i) this.s.move.run(i, r.id);
      });
      return cur;
    }).immediate();
  }

  async match(dialled: string): Promise<ShortCodeMatch | undefined> {
    const revision = this.s.revision.get() ?? 0;
    if (this.cached?.revision !== revision) this.cached = { revision, codes: this.s.all.all().map(toCode) };
    return matchShortCode(this.cached.codes, dialled);
  }

  async revision(): Promise<number> {
    return this.s.revision.get() ?? 0;
  }

  watch(listener: () => void | Promise<void>, opts: WatchOptions = {}): ChangeWatcher {
    return watchRevision(() => this.revision(), listener, { intervalMs: opts.intervalMs ?? 500, onError: this.onError });
  }
}

export function toCode(r: CodeRow): ShortCode {
  return Object.freeze({
    id: r.id,
    code: r.code,
    feature: r.feature as ShortCodeFeature,
    value: r.value,
    position: r.position,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  });
}
