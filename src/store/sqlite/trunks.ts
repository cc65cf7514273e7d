// Trunks and DIDs. Both lists are small and change rarely; the server keeps
// them in memory and reloads them when revision() moves, which triggers in
// the schema bump on every write to either table (see migrations.ts).
import type Database from 'better-sqlite3';
import { StoreError } from '../errors.ts';
import { newTrunkFields, patchedTrunkFields, validDidNumber, type TrunkFields } from '../trunk-validate.ts';
import { validExtension } from '../user-validate.ts';
import { watchRevision } from '../watch.ts';
import type { ChangeWatcher, Did, Trunk, TrunkInput, TrunkRepository, TrunkTransport, WatchOptions } from '../types.ts';

export interface TrunkRow {
  id: number;
  name: string;
  host: string;
  port: number;
  transport: string;
  register_user: string | null;
  register_password: string | null;
  outbound_proxy: string | null;
  prefix: string;
  strip: number;
  add_prefix: string;
  fallback_trunk: string | null;
  probe_interval_sec: number | null;
  enabled: number;
  created_at: number;
  updated_at: number;
}

export interface DidRow {
  number: string;
  extension: string;
  created_at: number;
}

export function toTrunk(r: TrunkRow): Trunk {
  return Object.freeze({
    id: r.id,
    name: r.name,
    host: r.host,
    port: r.port,
    transport: r.transport as TrunkTransport,
    registerUser: r.register_user,
    registerPassword: r.register_password,
    outboundProxy: r.outbound_proxy,
    prefix: r.prefix,
    strip: r.strip,
    addPrefix: r.add_prefix,
    fallbackTrunk: r.fallback_trunk,
    probeIntervalSec: r.probe_interval_sec,
    enabled: r.enabled !== 0,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  });
}

/**
 * Every DID: those that ring a user (dids, following the user's renumbering
 * and removal) and those that reach an IVR menu (ivr_dids, gone with the menu).
 */
export const ALL_DIDS = 'SELECT number, extension, created_at FROM dids UNION ALL SELECT number, menu AS extension, created_at FROM ivr_dids';

export function noDidTarget(ext: string): StoreError {
  return new StoreError('invalid', 'extension', `extension: no user with extension ${ext} and no IVR menu ${ext}`);
}

export function toDid(r: DidRow): Did {
  return Object.freeze({ number: r.number, extension: r.extension, createdAt: r.created_at });
}

/** Bind values of the writable columns, in COLUMNS order. */
export function values(f: TrunkFields): (string | number | null)[] {
  return [
    f.name, f.host, f.port, f.transport, f.registerUser, f.registerPassword, f.outboundProxy,
    f.prefix, f.strip, f.addPrefix, f.enabled ? 1 : 0, f.fallbackTrunk, f.probeIntervalSec,
  ];
}

export const COLUMNS = 'name, host, port, transport, register_user, register_password, outbound_proxy, prefix, strip, add_prefix, enabled, fallback_trunk, probe_interval_sec';

export class SqliteTrunkRepository implements TrunkRepository {
  private readonly s;
  private readonly addTx;
  private readonly updateTx;
  private readonly removeTx;
  private readonly addDidTx;
  private readonly removeDidTx;

  constructor(
    readonly db: Database.Database,
    private readonly now: () => number,
    private readonly onError: (err: Error) => void,
  ) {
    const p = <R>(sql: string) => db.prepare<unknown[], R>(sql);
    this.s = {
      byName: p<TrunkRow>('SELECT * FROM trunks WHERE name = ?'),
      byPrefix: p<TrunkRow>('SELECT * FROM trunks WHERE prefix = ?'),
      insert: p(`INSERT INTO trunks (${COLUMNS}, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`),
      update: p(`UPDATE trunks SET name=?, host=?, port=?, transport=?, register_user=?, register_password=?,
        outbound_proxy=?, prefix=?, strip=?, add_prefix=?, enabled=?, fallback_trunk=?, probe_interval_sec=?, updated_at=? WHERE id=?`),
      remove: p('DELETE FROM trunks WHERE id = ?'),
      renameFallback: p('UPDATE trunks SET fallback_trunk = ? WHERE fallback_trunk = ?'),
      all: p<TrunkRow>('SELECT * FROM trunks ORDER BY name'),
      userExists: p<number>('SELECT 1 FROM users WHERE extension = ?').pluck(),
      menuExists: p<number>('SELECT 1 FROM ivr_menus WHERE number = ?').pluck(),
      didByNumber: p<DidRow>(`SELECT * FROM (${ALL_DIDS}) d WHERE number = ?`),
      insertDid: p('INSERT INTO dids (number, extension, created_at) VALUES (?, ?, ?)'),
      insertMenuDid: p('INSERT INTO ivr_dids (number, menu, created_at) VALUES (?, ?, ?)'),
      removeDid: p('DELETE FROM dids WHERE number = ?'),
      removeMenuDid: p('DELETE FROM ivr_dids WHERE number = ?'),
      allDids: p<DidRow>(`SELECT * FROM (${ALL_DIDS}) d ORDER BY length(number), number`),
      revision: p<number>('SELECT revision FROM trunk_revision WHERE id = 1').pluck(),
    };
    this.addTx = db.transaction((input: TrunkInput): Trunk => {
      const f = newTrunkFields(input);
      this.checkUnique(f, null);
      const t = this.now();
      this.s.insert.run(...values(f), t, t);
      return toTrunk(this.s.byName.get(f.name)!);
    });
    this.updateTx = db.transaction((name: string, patch: Partial<TrunkInput>): Trunk => {
      const cur = this.mustGet(name);
      const f = patchedTrunkFields(cur, patch);
      this.checkUnique(f, cur.id);
      this.s.update.run(...values(f), this.now(), cur.id);
      // Trunks falling back to this one follow its new name.
      if (f.name !== cur.name) this.s.renameFallback.run(f.name, cur.name);
      return toTrunk(this.s.byName.get(f.name)!);
    });
    this.removeTx = db.transaction((name: string): Trunk => {
      const cur = this.mustGet(name);
      this.s.remove.run(cur.id);
      // Trunks that fell back to it have no fallback now (their calls get 503 while they are down).
      this.s.renameFallback.run(null, cur.name);
      return cur;
    });
    this.addDidTx = db.transaction((number: string, extension: string): Did => {
      const n = validDidNumber(number);
      const ext = validExtension(extension);
      const user = this.s.userExists.get(ext) !== undefined;
      if (!user && this.s.menuExists.get(ext) === undefined) throw noDidTarget(ext);
      if (this.s.didByNumber.get(n)) throw new StoreError('duplicate', 'number', `DID ${n} already exists`);
      (user ? this.s.insertDid : this.s.insertMenuDid).run(n, ext, this.now());
      return toDid(this.s.didByNumber.get(n)!);
    });
    this.removeDidTx = db.transaction((number: string): Did => {
      const row = typeof number === 'string' ? this.s.didByNumber.get(number) : undefined;
      if (!row) throw new StoreError('not-found', 'number', `no DID ${String(number)}`);
      this.s.removeDid.run(row.number);
      this.s.removeMenuDid.run(row.number);
      return toDid(row);
    });
  }

  private mustGet(name: string): Trunk {
    const row = typeof name === 'string' ? this.s.byName.get(name) : undefined;
    if (!row) throw new StoreError('not-found', 'name', `no trunk named ${String(name)}`);
    return toTrunk(row);
  }

  // By query rather than from the constraint error, so the caller learns
  // which field clashed (as in users.ts).
  private checkUnique(f: TrunkFields, selfId: number | null): void {
    const clash = (row: TrunkRow | undefined) => row !== undefined && row.id !== selfId;
    if (clash(this.s.byName.get(f.name))) throw new StoreError('duplicate', 'name', `trunk ${f.name} already exists`);
    const other = this.s.byPrefix.get(f.prefix);
    if (clash(other)) {
      const shown = f.prefix === '' ? 'the empty prefix' : `prefix ${f.prefix}`;
      throw new StoreError('duplicate', 'prefix', `${shown} is already used by trunk ${other!.name}`);
    }
    if (f.fallbackTrunk !== null && !this.s.byName.get(f.fallbackTrunk)) {
      throw new StoreError('invalid', 'fallbackTrunk', `fallbackTrunk: no trunk named ${f.fallbackTrunk}`);
    }
  }

  async add(input: TrunkInput): Promise<Trunk> {
    return this.addTx.immediate(input);
  }

  async update(name: string, patch: Partial<TrunkInput>): Promise<Trunk> {
    return this.updateTx.immediate(name, patch);
  }

  async remove(name: string): Promise<Trunk> {
    return this.removeTx.immediate(name);
  }

  async get(name: string): Promise<Trunk | undefined> {
    const row = this.s.byName.get(name);
    return row && toTrunk(row);
  }

  async list(): Promise<Trunk[]> {
    return this.s.all.all().map(toTrunk);
  }

  async addDid(number: string, extension: string): Promise<Did> {
    return this.addDidTx.immediate(number, extension);
  }

  async removeDid(number: string): Promise<Did> {
    return this.removeDidTx.immediate(number);
  }

  async listDids(): Promise<Did[]> {
    return this.s.allDids.all().map(toDid);
  }

  async revision(): Promise<number> {
    return this.s.revision.get() ?? 0;
  }

  watch(listener: () => void | Promise<void>, opts: WatchOptions = {}): ChangeWatcher {
    return watchRevision(() => this.revision(), listener, { intervalMs: opts.intervalMs ?? 500, onError: this.onError });
  }
}
