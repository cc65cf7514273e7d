// Composition of the SQLite store: one connection shared by both repositories.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import type { Store, StoreOptions } from '../types.ts';
import { openDatabase } from './connection.ts';
import { SqliteRegistrationRepository } from './registrations.ts';
import { SqliteUserRepository } from './users.ts';

export const DATABASE_FILE = 'switchboard.db';

export interface SqliteStore extends Store {
  users: SqliteUserRepository;
  registrations: SqliteRegistrationRepository;
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
  const registrations = new SqliteRegistrationRepository(db, {
    flushIntervalMs: opts.flushIntervalMs ?? 20,
    maxQueue: Math.max(1, opts.maxQueue ?? 2000),
    onError: opts.onError ?? warn,
  });
  return {
    users,
    registrations,
    db,
    file,
    close() {
      if (!db.open) return;
      try {
        registrations.close();
      } finally {
        db.close();
      }
    },
  };
}
