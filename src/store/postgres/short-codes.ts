// The short code table in PostgreSQL (semantics as src/store/sqlite/short-codes.ts:
// a dense position column 0..n-1 keeps the matching order).
import {
  matchShortCode, shortCodeInputSchema, shortCodePatchSchema, shortCodeProblem, type ShortCode, type ShortCodeInput,
  type ShortCodeMatch, type ShortCodePatch,
} from '../../model/short-code.ts';
import { StoreError } from '../errors.ts';
import { parseModel } from '../model-parse.ts';
import { watchRevision } from '../watch.ts';
import type { ChangeWatcher, ShortCodeRepository, WatchOptions } from '../types.ts';
import { toCode, type CodeRow, type Fields } from '../sqlite/short-codes.ts';
import type { PgDb } from './db.ts';
import { PgNumbering } from './numbering.ts';
import { revisionOf } from './revisions.ts';
import type { WatchWiring } from './watch-wiring.ts';

const ALL = 'SELECT * FROM short_codes ORDER BY position, id';

async function byCode(t: PgDb, code: string): Promise<CodeRow | undefined> {
  return typeof code === 'string' ? t.get<CodeRow>('SELECT * FROM short_codes WHERE code = ?', [code]) : undefined;
}

async function mustGet(t: PgDb, code: string): Promise<ShortCode> {
  const row = await byCode(t, code);
  if (!row) throw new StoreError('not-found', 'code', `no short code ${String(code)}`);
  return toCode(row);
}

async function check(t: PgDb, f: Fields, cur: ShortCode | null): Promise<void> {
  const problem = shortCodeProblem(f.code, f.feature, f.value);
  if (problem) throw new StoreError('invalid', problem.field, `${problem.field}: ${problem.message}`);
  if (f.code !== cur?.code) {
    if (await byCode(t, f.code)) throw new StoreError('duplicate', 'code', `short code ${f.code} already exists`);
    await new PgNumbering(t).checkCode(f.code);
  }
}

/** Renumbers the rows 0..n-1 in the given id order, writing only the rows whose place changed. */
async function renumber(t: PgDb, ids: readonly number[], positions: ReadonlyMap<number, number>): Promise<void> {
  for (const [i, id] of ids.entries()) {
    if (positions.get(id) !== i) await t.run('UPDATE short_codes SET position = ? WHERE id = ?', [i, id]);
  }
}

/** Puts row id at index `to` (clamped; the end when undefined). */
async function place(t: PgDb, id: number, to: number | undefined): Promise<void> {
  const rows = await t.all<CodeRow>(ALL);
  const ids = rows.map((r) => r.id).filter((x) => x !== id);
  ids.splice(to === undefined ? ids.length : Math.min(to, ids.length), 0, id);
  await renumber(t, ids, new Map(rows.map((r) => [r.id, r.position])));
}

export class PgShortCodeRepository implements ShortCodeRepository {
  /** The table as last read, and the revision it reflects (match() re-reads only when it moved). */
  private cached: { revision: number; codes: ShortCode[] } | null = null;

  constructor(
    private readonly db: PgDb,
    private readonly now: () => number,
    private readonly wiring: WatchWiring,
  ) {}

  async list(): Promise<ShortCode[]> {
    return (await this.db.all<CodeRow>(ALL)).map(toCode);
  }

  async get(code: string): Promise<ShortCode | undefined> {
    const row = await byCode(this.db, code);
    return row && toCode(row);
  }

  add(input: ShortCodeInput): Promise<ShortCode> {
    return this.db.tx(async (t) => {
      const f = parseModel(shortCodeInputSchema, input);
      await check(t, f, null);
      const at = this.now();
      const row = await t.get<{ id: number }>(`INSERT INTO short_codes (position, code, feature, value, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, [2 ** 31 - 1, f.code, f.feature, f.value, at, at]);
      await place(t, row!.id, f.position);
      return toCode((await byCode(t, f.code))!);
    }, { lock: true });
  }

  update(code: string, patch: ShortCodePatch): Promise<ShortCode> {
    return this.db.tx(async (t) => {
      const cur = await mustGet(t, code);
      const p = parseModel(shortCodePatchSchema, patch);
      const feature = p.feature ?? cur.feature;
      // A new feature that takes no parameter drops the old fixed value rather than refuse.
      const value = p.value !== undefined ? p.value : p.feature !== undefined && p.feature !== cur.feature ? null : cur.value;
      const f: Fields = { code: p.code ?? cur.code, feature, value };
      await check(t, f, cur);
      await t.run('UPDATE short_codes SET code = ?, feature = ?, value = ?, updated_at = ? WHERE id = ?', [f.code, f.feature, f.value, this.now(), cur.id]);
      if (p.position !== undefined) await place(t, cur.id, p.position);
      return toCode((await byCode(t, f.code))!);
    }, { lock: true });
  }

  async set(input: ShortCodeInput): Promise<ShortCode> {
    const code = (input as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && (await byCode(this.db, code))) {
      const { code: _c, ...rest } = input;
      return this.update(code, rest);
    }
    return this.add(input);
  }

  remove(code: string): Promise<ShortCode> {
    return this.db.tx(async (t) => {
      const cur = await mustGet(t, code);
      await t.run('DELETE FROM short_codes WHERE id = ?', [cur.id]);
      const rows = await t.all<CodeRow>(ALL);
      await renumber(t, rows.map((r) => r.id), new Map(rows.map((r) => [r.id, r.position])));
      return cur;
    }, { lock: true });
  }

  async match(dialled: string): Promise<ShortCodeMatch | undefined> {
    const revision = await this.revision();
    if (this.cached?.revision !== revision) this.cached = { revision, codes: await this.list() };
    return matchShortCode(this.cached.codes, dialled);
  }

  revision(): Promise<number> {
    return revisionOf(this.db, 'short_codes');
  }

  watch(listener: () => void | Promise<void>, opts: WatchOptions = {}): ChangeWatcher {
    return watchRevision(() => this.revision(), listener, this.wiring.triggers('short_codes', opts));
  }
}
