// Composition of the PostgreSQL store: one pool shared by every repository,
// one LISTEN connection for the change feeds, the schema brought up to date
// on open. Several Switchboard nodes open the same database.
import pg from 'pg';
import type { Store, StoreOptions } from '../types.ts';
import { PgDb, PG_TYPES, redactUrl } from './db.ts';
import { migrate } from './migrations.ts';
import { Notifications } from './notifications.ts';
import { PgUserRepository } from './users.ts';
import { PgRegistrationRepository } from './registrations.ts';
import { PgTrunkRepository } from './trunks.ts';
import { PgCdrRepository } from './cdrs.ts';
import { PgHuntGroupRepository } from './hunt-groups.ts';
import { PgDeviceRepository } from './devices.ts';
import { PgGatewayRepository } from './gateway.ts';
import { PgShortCodeRepository } from './short-codes.ts';
import { pgAppStore } from './app-store.ts';
import { pgAdminStore } from './admin.ts';
import { PgVoicemailRepository } from './voicemail.ts';
import { WatchWiring } from './watch-wiring.ts';
import { WriteHealth, closeQueues } from '../write-health.ts';

export interface PgStore extends Store {
  /** The URL without its password. */
  readonly url: string;
}

function warn(err: Error): void {
  process.emitWarning(err.message, { code: 'SWITCHBOARD_STORE' });
}

/** The repositories over one connection view (the pool, or a rehearsal's transaction). */
function repositories(db: PgDb, opts: StoreOptions, wiring: WatchWiring, health: WriteHealth) {
  const now = opts.now ?? Date.now;
  const changeLogKeep = Math.max(1, opts.changeLogKeep ?? 10_000);
  const writeBehind = { flushIntervalMs: opts.flushIntervalMs ?? 20, maxQueue: Math.max(1, opts.maxQueue ?? 2000), onError: wiring.onError, health, now };
  return {
    users: new PgUserRepository(db, now, changeLogKeep, wiring),
    registrations: new PgRegistrationRepository(db, { ...writeBehind, changeLogKeep }, wiring),
    trunks: new PgTrunkRepository(db, now, wiring),
    cdrs: new PgCdrRepository(db, writeBehind),
    huntGroups: new PgHuntGroupRepository(db, now, wiring),
    devices: new PgDeviceRepository(db, now),
    gateway: new PgGatewayRepository(db, now, wiring),
    shortCodes: new PgShortCodeRepository(db, now, wiring),
    voicemail: new PgVoicemailRepository(db, now, changeLogKeep, wiring),
    ...pgAppStore(db, now, opts, wiring),
    admin: pgAdminStore(db, now),
  };
}

/**
 * Opens postgres://USER[:PASSWORD]@HOST[:PORT]/DB (or postgresql://; a unix
 * socket directory as host=/var/run/postgresql in the query). Errors name the
 * URL without its password.
 */
export async function openPostgresStore(url: string, opts: StoreOptions = {}): Promise<PgStore> {
  const shown = redactUrl(url);
  const onError = opts.onError ?? warn;
  const config: pg.PoolConfig = { connectionString: url, types: PG_TYPES, max: 10, application_name: 'switchboard' };
  const pool = new pg.Pool(config);
  // An idle client losing its server is reported, not thrown at the process.
  pool.on('error', (err) => onError(new Error(`store ${shown}: ${err.message}`)));
  const notifications = new Notifications(config, onError);
  try {
    await migrate(pool);
    await notifications.start();
  } catch (err) {
    await notifications.close().catch(() => {});
    await pool.end().catch(() => {});
    throw new Error(`cannot open the store at ${shown}: ${(err as Error).message}`, { cause: err });
  }
  const wiring = new WatchWiring(notifications, onError);
  const health = new WriteHealth({ report: onError, recovered: opts.onWriteRecovered, now: opts.now });
  const repos = repositories(PgDb.onPool(pool), opts, wiring, health);
  let closed = false;
  const nested = () => Promise.reject(new Error('nested transaction view'));
  /** The repositories on one client, inside the transaction it has open. */
  const transactionView = (client: pg.PoolClient): Store => ({
    ...repositories(PgDb.inTransaction(client), opts, wiring, health), problem: () => undefined, rehearse: nested, inBatches: nested, close: async () => {},
  });
  return {
    ...repos,
    url: shown,
    problem: () => (closed ? 'database closed' : health.problem() ?? notifications.problem),
    async rehearse<T>(fn: (store: Store) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        return await fn(transactionView(client));
      } finally {
        await client.query('ROLLBACK').catch(() => {});
        client.release();
      }
    },
    async inBatches<T>(fn: (batch: <R>(work: (store: Store) => Promise<R>) => Promise<R>) => Promise<T>): Promise<T> {
      return fn(async (work) => {
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          const result = await work(transactionView(client));
          await client.query('COMMIT');
          return result;
        } catch (err) {
          await client.query('ROLLBACK').catch(() => {});
          throw err;
        } finally {
          client.release();
        }
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await closeQueues([['registration change', repos.registrations], ['call record', repos.cdrs]]);
      } finally {
        await notifications.close();
        await pool.end();
      }
    },
  };
}
