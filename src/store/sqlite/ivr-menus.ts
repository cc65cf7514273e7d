// IVR menus in SQLite: one row per menu, the actions as JSON. Validation
// comes from the model (src/model/ivr-menu.ts) and src/store/app-checks.ts.
import type Database from 'better-sqlite3';
import { ivrMenuInputSchema, type IvrAction, type IvrMenu, type IvrMenuFields, type IvrMenuInput } from '../../model/ivr-menu.ts';
import { StoreError } from '../errors.ts';
import { parseModel } from '../model-parse.ts';
import { watchRevision } from '../watch.ts';
import { checkMenuLinks, checkMenuUnused, checkNotReserved, menuNotFound } from '../app-checks.ts';
import type { IvrMenuRepository } from '../app-types.ts';
import type { ChangeWatcher, WatchOptions } from '../types.ts';
import { Numbering } from './numbering.ts';

export interface MenuRow {
  number: string;
  name: string;
  greeting: string | null;
  timeout_sec: number;
  max_retries: number;
  options: string;
  on_timeout: string;
  on_invalid: string;
  operator: string | null;
  created_at: number;
  updated_at: number;
}

export function toMenu(r: MenuRow): IvrMenu {
  return Object.freeze({
    number: r.number,
    name: r.name,
    greeting: r.greeting,
    timeoutSec: r.timeout_sec,
    maxRetries: r.max_retries,
    options: Object.freeze(JSON.parse(r.options) as IvrMenu['options']),
    onTimeout: JSON.parse(r.on_timeout) as IvrAction,
    onInvalid: JSON.parse(r.on_invalid) as IvrAction,
    operator: r.operator,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  });
}

/** Bind values after number: name .. operator, then the time. */
export function menuValues(f: IvrMenuFields): (string | number | null)[] {
  return [f.name, f.greeting, f.timeoutSec, f.maxRetries, JSON.stringify(f.options), JSON.stringify(f.onTimeout), JSON.stringify(f.onInvalid), f.operator];
}

export const MENU_UPSERT = `INSERT INTO ivr_menus (number, name, greeting, timeout_sec, max_retries, options, on_timeout, on_invalid, operator, created_at, updated_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (number) DO UPDATE SET name = excluded.name, greeting = excluded.greeting, timeout_sec = excluded.timeout_sec,
    max_retries = excluded.max_retries, options = excluded.options, on_timeout = excluded.on_timeout,
    on_invalid = excluded.on_invalid, operator = excluded.operator, updated_at = excluded.updated_at`;

export const MENU_ORDER = 'ORDER BY length(number), number';

export class SqliteIvrMenuRepository implements IvrMenuRepository {
  private readonly s;
  private readonly numbering;
  private readonly setTx;
  private readonly removeTx;

  constructor(
    db: Database.Database,
    private readonly now: () => number,
    private readonly reserved: () => readonly string[],
    private readonly onError: (err: Error) => void,
  ) {
    const p = <R>(sql: string) => db.prepare<unknown[], R>(sql);
    this.numbering = new Numbering(db);
    this.s = {
      byNumber: p<MenuRow>('SELECT * FROM ivr_menus WHERE number = ?'),
      all: p<MenuRow>(`SELECT * FROM ivr_menus ${MENU_ORDER}`),
      audio: p<number>('SELECT 1 FROM audio_files WHERE name = ?').pluck(),
      upsert: p(MENU_UPSERT),
      remove: p('DELETE FROM ivr_menus WHERE number = ?'),
      revision: p<number>("SELECT revision FROM revisions WHERE name = 'ivr_menus'").pluck(),
    };
    this.setTx = db.transaction((input: IvrMenuInput): IvrMenu => {
      const f = parseModel(ivrMenuInputSchema, input);
      if (!this.s.byNumber.get(f.number)) {
        this.numbering.checkNumber('ivr', 'number', f.number);
        checkNotReserved('number', f.number, this.reserved());
      }
      if (f.greeting !== null && !this.s.audio.get(f.greeting)) {
        throw new StoreError('not-found', 'greeting', `greeting: no audio file ${f.greeting}`);
      }
      checkMenuLinks(f, new Map(this.s.all.all().map((r) => [r.number, toMenu(r)])));
      const t = this.now();
      this.s.upsert.run(f.number, ...menuValues(f), t, t);
      return toMenu(this.s.byNumber.get(f.number)!);
    });
    this.removeTx = db.transaction((number: string): IvrMenu => {
      const row = typeof number === 'string' ? this.s.byNumber.get(number) : undefined;
      if (!row) throw menuNotFound(number);
      checkMenuUnused(number, this.s.all.all().map(toMenu));
      this.s.remove.run(number);
      return toMenu(row);
    });
  }

  async set(input: IvrMenuInput): Promise<IvrMenu> {
    return this.setTx.immediate(input);
  }

  async get(number: string): Promise<IvrMenu | undefined> {
    const row = typeof number === 'string' ? this.s.byNumber.get(number) : undefined;
    return row && toMenu(row);
  }

  async list(): Promise<IvrMenu[]> {
    return this.s.all.all().map(toMenu);
  }

  async remove(number: string): Promise<IvrMenu> {
    return this.removeTx.immediate(number);
  }

  async revision(): Promise<number> {
    return this.s.revision.get() ?? 0;
  }

  watch(listener: () => void | Promise<void>, opts: WatchOptions = {}): ChangeWatcher {
    return watchRevision(() => this.revision(), listener, { intervalMs: opts.intervalMs ?? 500, onError: this.onError });
  }
}
