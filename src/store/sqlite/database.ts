// Composition of the SQLite store: one connection shared by every repository.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type Database from 'better-sqlite3';
import type { Store, StoreOptions } from '../types.ts';
import type { AdminStore } from '../admin-types.ts';
import { sqliteAdminStore } from './admin.ts';
import { BUSY_TIMEOUT_MS, openDatabase, sqliteWritable } from './connection.ts';
import { SqliteCdrRepository } from './cdrs.ts';
import { SqliteHuntGroupRepository } from './hunt-groups.ts';
import { SqliteShortCodeRepository } from './short-codes.ts';
import { SqliteRegistrationRepository } from './registrations.ts';
import { SqliteTrunkRepository } from './trunks.ts';
import { SqliteUserRepository } from './users.ts';
import { WriteHealth, closeQueues } from '../write-health.ts';
import { ShmGuard, checkDatabaseFiles, describeOpenError } from './file-checks.ts';

export const DATABASE_FILE = 'switchboard.db';

export interface SqliteStore extends Store {
  users: SqliteUserRepository;
  registrations: SqliteRegistrationRepository;
  trunks: SqliteTrunkRepository;
  cdrs: SqliteCdrRepository;
  huntGroups: SqliteHuntGroupRepository;
  shortCodes: SqliteShortCodeRepository;
  /** Administrator accounts, sessions, audit log, settings overrides (management API). */
  admin: AdminStore;
  /** The connection, for tests and diagnostics. */
  db: Database.Database;
  /** The database file. */
  file: string;
}

function warn(err: Error): void {
  process.emitWarning(err.message, { code: 'SWITCHBOARD_STORE' });
}

/** Opens `<dataDir>/switchboard.db`, creating the directory and the schema when missing. */
export function openStore(dataDir: string, opts?: StoreOptions): SqliteStore {
  mkdirSync(dataDir, { recursive: true });
  return openSqliteStore(join(dataDir, DATABASE_FILE), opts);
}

export function openSqliteStore(file: string, opts: StoreOptions = {}): SqliteStore {
  checkDatabaseFiles(file, dirname(file));
  let db: Database.Database;
  try {
    db = openDatabase(file);
  } catch (err) {
    throw describeOpenError(file, err);
  }
  const now = opts.now ?? Date.now;
  const onError = opts.onError ?? warn;
  const shmGuard = new ShmGuard(file, (_what, detail) => onError(new Error(detail)));
  shmGuard.start();
  const changeLogKeep = Math.max(1, opts.changeLogKeep ?? 10_000);
  const users = new SqliteUserRepository(db, now, changeLogKeep, onError);
  const health = new WriteHealth({ report: onError, recovered: opts.onWriteRecovered, now });
  const writeBehind = {
    flushIntervalMs: opts.flushIntervalMs ?? 20,
    maxQueue: Math.max(1, opts.maxQueue ?? 2000),
    onError,
    health,
    now,
  };
  const registrations = new SqliteRegistrationRepository(db, { ...writeBehind, changeLogKeep });
  const trunks = new SqliteTrunkRepository(db, now, onError);
  const cdrs = new SqliteCdrRepository(db, writeBehind);
  return {
    users,
    registrations,
    trunks,
    cdrs,
    huntGroups: new SqliteHuntGroupRepository(db, now, onError),
    shortCodes: new SqliteShortCodeRepository(db, now, onError),
    admin: sqliteAdminStore(db, now),
    db,
    file,
    problem: () => health.problem() ?? sqliteWritable(db, BUSY_TIMEOUT_MS),
    async rehearse<T>(fn: (store: Store) => Promise<T>): Promise<T> {
      // A connection of its own, so no write of this process from elsewhere
      // lands in the transaction that is rolled back. It holds the write lock
      // until fn ends; the repositories' transactions nest as savepoints.
      const scratch = openSqliteStore(file, opts);
      try {
        scratch.db.exec('BEGIN IMMEDIATE');
        return await fn(scratch);
      } finally {
        if (scratch.db.inTransaction) scratch.db.exec('ROLLBACK');
        await scratch.close();
      }
    },
    async close() {
      if (!db.open) return;
      // Before the last connection closes and SQLite removes the -shm itself.
      shmGuard.stop();
      try {
        await closeQueues([['registration change', registrations], ['call record', cdrs]]);
      } finally {
        db.close();
      }
    },
  };
}
