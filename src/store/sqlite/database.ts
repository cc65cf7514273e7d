// Composition of the SQLite store: one connection shared by every repository.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import type { Store, StoreOptions } from '../types.ts';
import type { AdminStore } from '../admin-types.ts';
import { sqliteAdminStore } from './admin.ts';
import { openDatabase } from './connection.ts';
import { SqliteCdrRepository } from './cdrs.ts';
import { SqliteHuntGroupRepository } from './hunt-groups.ts';
import { SqliteShortCodeRepository } from './short-codes.ts';
import { SqliteRegistrationRepository } from './registrations.ts';
import { SqliteTrunkRepository } from './trunks.ts';
import { SqliteUserRepository } from './users.ts';

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
  const db = openDatabase(file);
  const users = new SqliteUserRepository(db, opts.now ?? Date.now, Math.max(1, opts.changeLogKeep ?? 10_000));
  const writeBehind = {
    flushIntervalMs: opts.flushIntervalMs ?? 20,
    maxQueue: Math.max(1, opts.maxQueue ?? 2000),
    onError: opts.onError ?? warn,
  };
  const registrations = new SqliteRegistrationRepository(db, writeBehind);
  const trunks = new SqliteTrunkRepository(db, opts.now ?? Date.now);
  const cdrs = new SqliteCdrRepository(db, writeBehind);
  return {
    users,
    registrations,
    trunks,
    cdrs,
    huntGroups: new SqliteHuntGroupRepository(db, opts.now ?? Date.now),
    shortCodes: new SqliteShortCodeRepository(db, opts.now ?? Date.now),
    admin: sqliteAdminStore(db, opts.now ?? Date.now),
    db,
    file,
    close() {
      if (!db.open) return;
      try {
        registrations.close();
      } finally {
        try {
          cdrs.close();
        } finally {
          db.close();
        }
      }
    },
  };
}
