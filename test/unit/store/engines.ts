// The store engines the repository suites (suites/*.ts) run against: SQLite
// in `npm test`, PostgreSQL in the interop ring (test/interop/store-postgres.test.ts).
// Each test gets an empty database of its own.
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach } from 'vitest';
import pg from 'pg';
import { openPostgresStore, type Store, type StoreOptions } from '../../../src/store/index.ts';
import { tempStores } from './helpers.ts';

/** One test's database: every store opened on it sees the same data. */
export interface TestDatabase {
  open(opts?: StoreOptions): Promise<Store>;
  /** Closes every store opened and removes the database. */
  cleanup(): Promise<void>;
}

export interface StoreEngine {
  readonly name: string;
  fresh(): Promise<TestDatabase>;
}

export const sqliteEngine: StoreEngine = {
  name: 'SQLite',
  async fresh() {
    const t = tempStores();
    return { open: async (opts) => t.open(opts), cleanup: () => t.cleanup() };
  },
};

/** Debian's cluster, over its unix socket, as the superuser role `root` (.ci/run creates it). */
export const PG_SOCKET = process.env.SWITCHBOARD_TEST_PGHOST ?? '/var/run/postgresql';
const PG_USER = process.env.SWITCHBOARD_TEST_PGUSER ?? 'root';

export function postgresUrl(database: string): string {
  return `postgres://${PG_USER}@localhost/${database}?host=${encodeURIComponent(PG_SOCKET)}`;
}

/** Runs statements on the cluster's maintenance database (CREATE/DROP DATABASE). */
export async function onCluster<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ host: PG_SOCKET, user: PG_USER, database: 'postgres' });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export function randomDatabaseName(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/**
 * PostgreSQL: migrates one template database per test file, then copies it
 * for each test (CREATE DATABASE ... TEMPLATE), which is much faster than
 * migrating every time. A server that cannot be reached fails the test.
 */
export function postgresEngine(): StoreEngine & { dropTemplate(): Promise<void> } {
  let template: string | undefined;
  return {
    name: 'PostgreSQL',
    async fresh() {
      if (!template) {
        const name = randomDatabaseName('sb_tmpl');
        await onCluster((c) => c.query(`CREATE DATABASE ${name}`));
        await (await openPostgresStore(postgresUrl(name))).close();
        template = name;
      }
      const db = randomDatabaseName('sb_test');
      await onCluster((c) => c.query(`CREATE DATABASE ${db} TEMPLATE ${template}`));
      const opened: Store[] = [];
      return {
        async open(opts) {
          const s = await openPostgresStore(postgresUrl(db), opts);
          opened.push(s);
          return s;
        },
        async cleanup() {
          for (const s of opened) await s.close();
          await onCluster((c) => c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`));
        },
      };
    },
    async dropTemplate() {
      if (template) await onCluster((c) => c.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`));
      template = undefined;
    },
  };
}

/**
 * A fresh database and a store on it for every test of the enclosing
 * describe; ready receives both (and may add fixtures). Removed after each test.
 */
export function storePerTest(
  engine: StoreEngine,
  ready: (db: TestDatabase, store: Store) => void | Promise<void>,
  opts?: StoreOptions,
): void {
  let current: TestDatabase | undefined;
  beforeEach(async () => {
    current = await engine.fresh();
    await ready(current, await current.open(opts));
  });
  afterEach(() => current?.cleanup());
}
