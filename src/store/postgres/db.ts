// The PostgreSQL connection as the repositories use it: queries written with
// SQLite's `?` placeholders (the repositories share their SQL text with the
// SQLite store where the dialects agree), transactions that serialise the
// writers of the dialling namespace the way SQLite's single write lock does,
// and savepoints when already inside a transaction (import dry runs).
import pg from 'pg';
import { StoreError } from '../errors.ts';

/** Pool or one checked-out client: anything that runs a query. */
type Runner = Pick<pg.Pool | pg.PoolClient, 'query'>;

/** `?` placeholders to `$1, $2 ...`; the statements have no `?` inside literals. */
export function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/**
 * Held for the length of each write transaction on users, hunt groups, short
 * codes, trunks and administrator accounts: the uniqueness and numbering
 * checks read other tables, so two nodes must not interleave them.
 */
const DIRECTORY_LOCK = 0x5357_4244; // "SWBD"

/** BIGINT columns (ids, epoch ms, counts) as numbers: every value we store fits in 2^53. */
export const PG_TYPES = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === pg.types.builtins.INT8) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

export class PgDb {
  private savepoints = 0;

  private constructor(
    private readonly pool: pg.Pool | undefined,
    private readonly client: pg.PoolClient | undefined,
  ) {}

  static onPool(pool: pg.Pool): PgDb {
    return new PgDb(pool, undefined);
  }

  /** A view bound to one client that is already inside a transaction. */
  static inTransaction(client: pg.PoolClient): PgDb {
    return new PgDb(undefined, client);
  }

  private get runner(): Runner {
    return (this.client ?? this.pool)!;
  }

  async all<R>(sql: string, args: readonly unknown[] = []): Promise<R[]> {
    try {
      return (await this.runner.query<R & pg.QueryResultRow>(numbered(sql), args as unknown[])).rows;
    } catch (err) {
      throw asStoreError(err);
    }
  }

  async get<R>(sql: string, args: readonly unknown[] = []): Promise<R | undefined> {
    return (await this.all<R>(sql, args))[0];
  }

  /** Rows affected. */
  async run(sql: string, args: readonly unknown[] = []): Promise<number> {
    try {
      return (await this.runner.query(numbered(sql), args as unknown[])).rowCount ?? 0;
    } catch (err) {
      throw asStoreError(err);
    }
  }

  /**
   * Runs fn in one transaction (a savepoint when this view is already in
   * one). lock: also take the directory lock, so writers of users, groups,
   * codes, trunks and accounts go one at a time across every node.
   * snapshot: every read sees the same snapshot (REPEATABLE READ), for reads
   * that must agree, such as a list and its change sequence.
   */
  async tx<T>(fn: (t: PgDb) => Promise<T>, opts: { lock?: boolean; snapshot?: boolean } = {}): Promise<T> {
    if (this.client) {
      const name = `sp${++this.savepoints}`;
      await this.client.query(`SAVEPOINT ${name}`);
      try {
        const r = await fn(this);
        await this.client.query(`RELEASE SAVEPOINT ${name}`);
        return r;
      } catch (err) {
        await this.client.query(`ROLLBACK TO SAVEPOINT ${name}`);
        throw err;
      } finally {
        this.savepoints--;
      }
    }
    const client = await this.pool!.connect();
    let broken = false;
    try {
      await client.query(opts.snapshot ? 'BEGIN ISOLATION LEVEL REPEATABLE READ' : 'BEGIN');
      if (opts.lock) await client.query('SELECT pg_advisory_xact_lock($1)', [DIRECTORY_LOCK]);
      const r = await fn(PgDb.inTransaction(client));
      await client.query('COMMIT');
      return r;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true; // the connection is gone: do not hand it out again
      }
      throw err;
    } finally {
      client.release(broken);
    }
  }
}

/** Constraint violations the up-front checks did not catch (a race with another node) as StoreErrors. */
function asStoreError(err: unknown): unknown {
  const e = err as { code?: string; constraint?: string; detail?: string };
  if (e.code === '23505') return new StoreError('duplicate', columnOf(e.constraint), `already exists (${e.detail ?? e.constraint ?? 'unique'})`);
  if (e.code === '23503') return new StoreError('not-found', columnOf(e.constraint), `refers to something that does not exist (${e.constraint ?? 'foreign key'})`);
  return err;
}

function columnOf(constraint: string | undefined): string {
  // Constraint names follow table_column_key (PostgreSQL's default naming).
  const m = /^[a-z]+s_([a-z_]+?)_(key|fkey)$/.exec(constraint ?? '');
  return m ? m[1]!.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()) : 'value';
}

/** The URL with any password replaced, for logs and error messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}
