// Composition of the SQLite store: one connection shared by every repository.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type Database from 'better-sqlite3';
import type { Store, StoreOptions } from '../types.ts';
import type { AdminStore } from '../admin-types.ts';
import { sqliteAdminStore } from './admin.ts';
import { BUSY_TIMEOUT_MS, openDatabase, sqliteWritable } from './connection.ts';
import { SqliteCdrRepository } from './cdrs.ts';
import { SqliteDeviceRepository } from './devices.ts';
import { SqliteGatewayRepository } from './gateway.ts';
import { SqliteHuntGroupRepository } from './hunt-groups.ts';
import { sqliteAppStore } from './app-store.ts';
import { SqliteShortCodeRepository } from './short-codes.ts';
import { SqliteRegistrationRepository } from './registrations.ts';
import { SqliteTrunkRepository } from './trunks.ts';
import { SqliteUserRepository } from './users.ts';
import { SqliteVoicemailRepository } from './voicemail.ts';
import { WriteHealth, closeQueues } from '../write-health.ts';
import { ShmGuard, StoreFileNotice, checkDatabaseFiles, describeOpenError } from './file-checks.ts';

export const DATABASE_FILE = 'switchboard.db';

export interface SqliteStore extends Store {
  users: SqliteUserRepository;
  registrations: SqliteRegistrationRepository;
  trunks: SqliteTrunkRepository;
  cdrs: SqliteCdrRepository;
  huntGroups: SqliteHuntGroupRepository;
  shortCodes: SqliteShortCodeRepository;
  voicemail: SqliteVoicemailRepository;
  /** Administrator accounts, sessions, audit log, settings overrides (management API). */
  admin: AdminStore;
  /** The connection, for tests and diagnostics. */
  db: Database.Database;
  /** The database file. */
  file: string;
}

const REHEARSAL_PREFIX = '.rehearsal-';
/** A rehearsal's copy older than this was left by a process that died during it. */
const STALE_REHEARSAL_MS = 24 * 3600_000;

function sweepRehearsals(dir: string): void {
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(REHEARSAL_PREFIX)) continue;
    const path = join(dir, name);
    try {
      if (Date.now() - statSync(path).mtimeMs > STALE_REHEARSAL_MS) rmSync(path, { recursive: true, force: true });
    } catch {
      // Gone meanwhile, or not ours to remove: the next sweep tries again.
    }
  }
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
  const shmGuard = new ShmGuard(file, (_what, detail) => onError(new StoreFileNotice(detail)));
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
    devices: new SqliteDeviceRepository(db, now),
    gateway: new SqliteGatewayRepository(db, now, onError),
    shortCodes: new SqliteShortCodeRepository(db, now, onError),
    voicemail: new SqliteVoicemailRepository(db, now, changeLogKeep, onError),
    ...sqliteAppStore(db, now, opts, onError),
    admin: sqliteAdminStore(db, now),
    db,
    file,
    problem: () => health.problem() ?? sqliteWritable(db, BUSY_TIMEOUT_MS),
    async rehearse<T>(fn: (store: Store) => Promise<T>): Promise<T> {
      // On a copy (SQLite's online backup, a few hundred KB per turn of the
      // event loop): a long dry run that holds the lock of the real file
      // would stall every write of this process's own connection meanwhile
      // (the busy wait is synchronous, and the holder is on the same thread).
      sweepRehearsals(dirname(file));
      const dir = mkdtempSync(join(dirname(file), REHEARSAL_PREFIX));
      try {
        const copy = join(dir, DATABASE_FILE);
        await db.backup(copy);
        const scratch = openSqliteStore(copy, { ...opts, onError: () => {} });
        try {
          scratch.db.exec('BEGIN IMMEDIATE');
          return await fn(scratch);
        } finally {
          if (scratch.db.inTransaction) scratch.db.exec('ROLLBACK');
          await scratch.close();
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    async inBatches<T>(fn: (batch: <R>(work: (store: Store) => Promise<R>) => Promise<R>) => Promise<T>): Promise<T> {
      // A connection of its own: no write of the SIP path on the main
      // connection joins a batch, and between batches it finds the lock free.
      // A batch never waits on I/O (Store.inBatches), so the main connection's
      // synchronous busy wait never waits for a holder on its own thread.
      const writer = openSqliteStore(file, opts);
      try {
        return await fn(async (work) => {
          writer.db.exec('BEGIN IMMEDIATE');
          try {
            const result = await work(writer);
            writer.db.exec('COMMIT');
            return result;
          } finally {
            if (writer.db.inTransaction) writer.db.exec('ROLLBACK');
          }
        });
      } finally {
        await writer.close();
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
