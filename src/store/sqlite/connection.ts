import Database from 'better-sqlite3';
import { migrate } from './migrations.ts';

/** How long a writer waits for another process's lock before SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5000;

/**
 * Opens (creating if needed) the database file and brings its schema up to
 * date. The server and the CLI open the same file from two processes, hence
 * WAL (readers never block the writer) and a busy timeout instead of failing
 * on the first lock.
 */
export function openDatabase(file: string): Database.Database {
  const db = new Database(file, { timeout: BUSY_TIMEOUT_MS });
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma('journal_mode = WAL');
    // In WAL mode NORMAL cannot corrupt the file; a power cut may lose the
    // last commits, which the write-behind registration log tolerates anyway.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/**
 * Whether SQLite would take a write now, without writing: BEGIN IMMEDIATE
 * takes the write lock (failing on a read-only file or a full/broken disk
 * journal), ROLLBACK gives it back. Never waits: another process holding the
 * lock (a CLI import) is reported as fine, since the write-behind queue rides
 * that out.
 */
export function sqliteWritable(db: Database.Database, busyTimeoutMs: number): string | undefined {
  if (!db.open) return 'database closed';
  if (db.readonly) return 'database opened read-only';
  if (db.inTransaction) return undefined;
  db.pragma('busy_timeout = 0');
  try {
    db.exec('BEGIN IMMEDIATE');
    db.exec('ROLLBACK');
    return undefined;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && /^SQLITE_(BUSY|LOCKED)/.test(code)) return undefined;
    return `${typeof code === 'string' ? code + ': ' : ''}${(err as Error).message}`;
  } finally {
    if (db.inTransaction) {
      try {
        db.exec('ROLLBACK');
      } catch {
        // Nothing left to undo.
      }
    }
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
  }
}
