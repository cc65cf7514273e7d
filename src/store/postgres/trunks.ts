// Trunks and DIDs in PostgreSQL (semantics as src/store/sqlite/trunks.ts);
// the schema's triggers bump the revision and NOTIFY on every write.
import { StoreError } from '../errors.ts';
import { newTrunkFields, patchedTrunkFields, validDidNumber, type TrunkFields } from '../trunk-validate.ts';
import { validExtension } from '../user-validate.ts';
import { watchRevision } from '../watch.ts';
import type { ChangeWatcher, Did, Trunk, TrunkInput, TrunkRepository, WatchOptions } from '../types.ts';
import { ALL_DIDS, COLUMNS, noDidTarget, toDid, toTrunk, values, type DidRow, type TrunkRow } from '../sqlite/trunks.ts';
import type { PgDb } from './db.ts';
import { revisionOf } from './revisions.ts';
import type { WatchWiring } from './watch-wiring.ts';

export class PgTrunkRepository implements TrunkRepository {
  constructor(
    private readonly db: PgDb,
    private readonly now: () => number,
    private readonly wiring: WatchWiring,
  ) {}

  private static async mustGet(t: PgDb, name: string): Promise<Trunk> {
    const row = typeof name === 'string' ? await t.get<TrunkRow>('SELECT * FROM trunks WHERE name = ?', [name]) : undefined;
    if (!row) throw new StoreError('not-found', 'name', `no trunk named ${String(name)}`);
    return toTrunk(row);
  }

  private static async checkUnique(t: PgDb, f: TrunkFields, selfId: number | null): Promise<void> {
    const clash = (row: TrunkRow | undefined) => row !== undefined && row.id !== selfId;
    if (clash(await t.get<TrunkRow>('SELECT * FROM trunks WHERE name = ?', [f.name]))) {
      throw new StoreError('duplicate', 'name', `trunk ${f.name} already exists`);
    }
    const other = await t.get<TrunkRow>('SELECT * FROM trunks WHERE prefix = ?', [f.prefix]);
    if (clash(other)) {
      const shown = f.prefix === '' ? 'the empty prefix' : `prefix ${f.prefix}`;
      throw new StoreError('duplicate', 'prefix', `${shown} is already used by trunk ${other!.name}`);
    }
    if (f.fallbackTrunk !== null && !(await t.get<TrunkRow>('SELECT * FROM trunks WHERE name = ?', [f.fallbackTrunk]))) {
      throw new StoreError('invalid', 'fallbackTrunk', `fallbackTrunk: no trunk named ${f.fallbackTrunk}`);
    }
  }

  add(input: TrunkInput): Promise<Trunk> {
    return this.db.tx(async (t) => {
      const f = newTrunkFields(input);
      await PgTrunkRepository.checkUnique(t, f, null);
      const at = this.now();
      const row = await t.get<TrunkRow>(`INSERT INTO trunks (${COLUMNS}, created_at, updated_at)
        VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING *`, [...values(f), at, at]);
      return toTrunk(row!);
    }, { lock: true });
  }

  update(name: string, patch: Partial<TrunkInput>): Promise<Trunk> {
    return this.db.tx(async (t) => {
      const cur = await PgTrunkRepository.mustGet(t, name);
      const f = patchedTrunkFields(cur, patch);
      await PgTrunkRepository.checkUnique(t, f, cur.id);
      const row = await t.get<TrunkRow>(`UPDATE trunks SET name=?, host=?, port=?, transport=?, register_user=?,
        register_password=?, outbound_proxy=?, prefix=?, strip=?, add_prefix=?, enabled=?, fallback_trunk=?, probe_interval_sec=?, updated_at=? WHERE id=? RETURNING *`,
      [...values(f), this.now(), cur.id]);
      // Trunks falling back to this one follow its new name.
      if (f.name !== cur.name) await t.run('UPDATE trunks SET fallback_trunk = ? WHERE fallback_trunk = ?', [f.name, cur.name]);
      return toTrunk(row!);
    }, { lock: true });
  }

  remove(name: string): Promise<Trunk> {
    return this.db.tx(async (t) => {
      const cur = await PgTrunkRepository.mustGet(t, name);
      await t.run('DELETE FROM trunks WHERE id = ?', [cur.id]);
      // Trunks that fell back to it have no fallback now.
      await t.run('UPDATE trunks SET fallback_trunk = NULL WHERE fallback_trunk = ?', [cur.name]);
      return cur;
    }, { lock: true });
  }

  async get(name: string): Promise<Trunk | undefined> {
    const row = await this.db.get<TrunkRow>('SELECT * FROM trunks WHERE name = ?', [name]);
    return row && toTrunk(row);
  }

  async list(): Promise<Trunk[]> {
    return (await this.db.all<TrunkRow>('SELECT * FROM trunks ORDER BY name COLLATE "C"')).map(toTrunk);
  }

  addDid(number: string, extension: string): Promise<Did> {
    return this.db.tx(async (t) => {
      const n = validDidNumber(number);
      const ext = validExtension(extension);
      const user = (await t.get('SELECT 1 FROM users WHERE extension = ?', [ext])) !== undefined;
      if (!user && !(await t.get('SELECT 1 FROM ivr_menus WHERE number = ?', [ext]))) throw noDidTarget(ext);
      if (await t.get(`SELECT 1 FROM (${ALL_DIDS}) d WHERE number = ?`, [n])) throw new StoreError('duplicate', 'number', `DID ${n} already exists`);
      const insert = user ? 'INSERT INTO dids (number, extension, created_at)' : 'INSERT INTO ivr_dids (number, menu, created_at)';
      await t.run(`${insert} VALUES (?, ?, ?)`, [n, ext, this.now()]);
      return toDid((await t.get<DidRow>(`SELECT * FROM (${ALL_DIDS}) d WHERE number = ?`, [n]))!);
    }, { lock: true });
  }

  removeDid(number: string): Promise<Did> {
    return this.db.tx(async (t) => {
      const row = typeof number === 'string' ? await t.get<DidRow>(`SELECT * FROM (${ALL_DIDS}) d WHERE number = ?`, [number]) : undefined;
      if (!row) throw new StoreError('not-found', 'number', `no DID ${String(number)}`);
      await t.run('DELETE FROM dids WHERE number = ?', [row.number]);
      await t.run('DELETE FROM ivr_dids WHERE number = ?', [row.number]);
      return toDid(row);
    }, { lock: true });
  }

  async listDids(): Promise<Did[]> {
    return (await this.db.all<DidRow>(`SELECT * FROM (${ALL_DIDS}) d ORDER BY length(number), number COLLATE "C"`)).map(toDid);
  }

  revision(): Promise<number> {
    return revisionOf(this.db, 'trunks');
  }

  watch(listener: () => void | Promise<void>, opts: WatchOptions = {}): ChangeWatcher {
    return watchRevision(() => this.revision(), listener, this.wiring.triggers('trunks', opts));
  }
}
