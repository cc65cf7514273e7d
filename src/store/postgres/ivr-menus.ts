// IVR menus in PostgreSQL (semantics as src/store/sqlite/ivr-menus.ts).
import { ivrMenuInputSchema, type IvrMenu, type IvrMenuInput } from '../../model/ivr-menu.ts';
import { StoreError } from '../errors.ts';
import { parseModel } from '../model-parse.ts';
import { watchRevision } from '../watch.ts';
import { checkMenuLinks, checkMenuUnused, checkNotReserved, menuNotFound } from '../app-checks.ts';
import type { IvrMenuRepository } from '../app-types.ts';
import type { ChangeWatcher, WatchOptions } from '../types.ts';
import { MENU_UPSERT, menuValues, toMenu, type MenuRow } from '../sqlite/ivr-menus.ts';
import type { PgDb } from './db.ts';
import { PgNumbering } from './numbering.ts';
import { revisionOf } from './revisions.ts';
import type { WatchWiring } from './watch-wiring.ts';

const ALL = 'SELECT * FROM ivr_menus ORDER BY length(number), number COLLATE "C"';

async function find(t: PgDb, number: string): Promise<IvrMenu | undefined> {
  if (typeof number !== 'string') return undefined;
  const row = await t.get<MenuRow>('SELECT * FROM ivr_menus WHERE number = ?', [number]);
  return row && toMenu(row);
}

export class PgIvrMenuRepository implements IvrMenuRepository {
  constructor(
    private readonly db: PgDb,
    private readonly now: () => number,
    private readonly reserved: () => readonly string[],
    private readonly wiring: WatchWiring,
  ) {}

  set(input: IvrMenuInput): Promise<IvrMenu> {
    return this.db.tx(async (t) => {
      const f = parseModel(ivrMenuInputSchema, input);
      if (!(await find(t, f.number))) {
        await new PgNumbering(t).checkNumber('ivr', 'number', f.number);
        checkNotReserved('number', f.number, this.reserved());
      }
      if (f.greeting !== null && !(await t.get('SELECT 1 FROM audio_files WHERE name = ?', [f.greeting]))) {
        throw new StoreError('not-found', 'greeting', `greeting: no audio file ${f.greeting}`);
      }
      checkMenuLinks(f, new Map((await t.all<MenuRow>(ALL)).map((r) => [r.number, toMenu(r)])));
      const at = this.now();
      await t.run(MENU_UPSERT, [f.number, ...menuValues(f), at, at]);
      return (await find(t, f.number))!;
    }, { lock: true });
  }

  get(number: string): Promise<IvrMenu | undefined> {
    return find(this.db, number);
  }

  async list(): Promise<IvrMenu[]> {
    return (await this.db.all<MenuRow>(ALL)).map(toMenu);
  }

  remove(number: string): Promise<IvrMenu> {
    return this.db.tx(async (t) => {
      const m = await find(t, number);
      if (!m) throw menuNotFound(number);
      checkMenuUnused(number, (await t.all<MenuRow>(ALL)).map(toMenu));
      await t.run('DELETE FROM ivr_menus WHERE number = ?', [number]);
      return m;
    }, { lock: true });
  }

  revision(): Promise<number> {
    return revisionOf(this.db, 'ivr_menus');
  }

  watch(listener: () => void | Promise<void>, opts: WatchOptions = {}): ChangeWatcher {
    return watchRevision(() => this.revision(), listener, this.wiring.triggers('ivr_menus', opts));
  }
}
