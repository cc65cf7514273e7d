// Backup and restore of a SQLite data directory: the database (copied with
// SQLite's online backup, so a running server's WAL database is caught in
// one consistent state), the CA and TLS identity, and config.json when the
// data directory holds one. Transient files (the control and worker
// sockets, -wal/-shm, rehearsal copies) are never included.
//
// A restore writes only into a data directory without a database (a fresh
// install); a running server instead stages the file, which the next
// `switchboard start` applies before anything opens the directory.
// PostgreSQL stores are refused: their data lives in the database server,
// which pg_dump backs up.
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from '../lib/log.ts';
import { VERSION } from '../lib/version.ts';
import { isPostgresUrl } from '../store/open.ts';
import { DATABASE_FILE, openStore } from '../store/sqlite/database.ts';
import { MIGRATIONS } from '../store/sqlite/migrations.ts';
import {
  BACKUP_FILES, TRUSTED_CA_FILE, BackupError, decodeBackup, encodeBackup, SECRET_FILES, type BackupContents, type BackupFileName, type BackupManifest,
} from './backup-archive.ts';

export { BackupError, type BackupManifest };

/** The newest database schema this program reads. */
export const SCHEMA_VERSION = MIGRATIONS.length;
/** Where an uploaded backup waits for the next start. */
export const PENDING_RESTORE = 'restore-pending.swb';

export function postgresRefusal(): BackupError {
  return new BackupError('the store is PostgreSQL: back up its database with pg_dump (e.g. pg_dump -Fc -f switchboard.dump DB) ' +
    'and restore it with pg_restore; copy the certs directory of the data directory beside it');
}

export interface BackupOptions {
  /** store.url: a postgres:// URL is refused. */
  storeUrl?: string;
  /** A config file kept elsewhere than <dataDir>/config.json, to include as config.json. */
  configFile?: string;
  now?: () => number;
}

/** A consistent snapshot of the data directory as one backup file's bytes; safe while a server runs on it. */
export async function createBackup(dataDir: string, o: BackupOptions = {}): Promise<{ archive: Buffer; manifest: BackupManifest }> {
  if (isPostgresUrl(o.storeUrl)) throw postgresRefusal();
  const dbFile = join(o.storeUrl ?? dataDir, DATABASE_FILE);
  if (!existsSync(dbFile)) throw new BackupError(`no database at ${dbFile}: nothing to back up`);
  const files = new Map<BackupFileName, Buffer>();
  const tmp = await mkdtemp(join(tmpdir(), 'switchboard-backup-'));
  let schemaVersion: number;
  try {
    const copy = join(tmp, DATABASE_FILE);
    const db = new Database(dbFile, { fileMustExist: true, timeout: 5000 });
    try {
      await db.backup(copy);
    } finally {
      db.close();
    }
    const snap = new Database(copy, { readonly: true });
    try {
      schemaVersion = snap.prepare<[], { version: number }>('SELECT version FROM schema_version').get()?.version ?? 0;
    } finally {
      snap.close();
    }
    files.set(DATABASE_FILE, await readFile(copy));
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  for (const name of BACKUP_FILES) {
    if (name === DATABASE_FILE) continue;
    const path = name === 'config.json' && o.configFile ? o.configFile : join(dataDir, name);
    const data = await readFile(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (data) files.set(name, data);
  }
  for (const name of await trustedCaFiles(dataDir)) files.set(name, await readFile(join(dataDir, name)));
  const meta = { version: VERSION, createdAt: (o.now ?? Date.now)(), store: 'sqlite' as const, schemaVersion };
  const archive = encodeBackup(meta, files);
  return { archive, manifest: decodeBackup(archive, SCHEMA_VERSION).manifest };
}

/** The trusted CAs' files, as backup names. */
async function trustedCaFiles(dataDir: string): Promise<BackupFileName[]> {
  const names = await readdir(join(dataDir, 'certs', 'trusted')).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    throw err;
  });
  return names.filter((n) => TRUSTED_CA_FILE.test(`certs/trusted/${n}`)).map((n): BackupFileName => `certs/trusted/${n}` as `certs/trusted/${string}.pem`);
}

/** Writes a backup only its owner can read (it holds the CA key and password hashes). */
export async function writePrivateFile(path: string, data: Buffer): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, data, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}

/** Checks a backup file's bytes: @throws BackupError when it cannot be restored by this program. */
export function readBackup(archive: Buffer): BackupContents {
  return decodeBackup(archive, SCHEMA_VERSION);
}

/**
 * Restores into a data directory that has no database yet (created if
 * missing). The database is checked and brought to this program's schema
 * before the call returns. @throws BackupError
 */
export async function restoreInto(dataDir: string, contents: BackupContents): Promise<void> {
  if (existsSync(join(dataDir, DATABASE_FILE))) {
    throw new BackupError(`${dataDir} already has a database: restore into a new, empty data directory ` +
      '(or upload the backup in the web UI to have it applied at the next start)');
  }
  await mkdir(join(dataDir, 'certs'), { recursive: true, mode: 0o700 });
  // Written beside the final place and checked there first, so a bad database never takes a real name.
  const work = await mkdtemp(join(dataDir, '.restore-'));
  try {
    for (const [name, data] of contents.files) {
      const path = join(work, name);
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      await writeFile(path, data, { mode: SECRET_FILES.has(name) ? 0o600 : 0o644 });
    }
    checkDatabase(join(work, DATABASE_FILE));
    for (const name of contents.files.keys()) {
      await mkdir(dirname(join(dataDir, name)), { recursive: true, mode: 0o700 });
      await rename(join(work, name), join(dataDir, name));
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  // Opening runs the migrations: an older backup comes up on this program's schema.
  const store = openStore(dataDir, { onError: () => {} });
  try {
    // Web sessions of the backed-up server do not carry over: everyone logs in again.
    await store.admin.sessions.removeIdle(Number.MAX_SAFE_INTEGER);
  } finally {
    await store.close();
  }
}

function checkDatabase(file: string): void {
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { fileMustExist: true });
    const result = db.pragma('quick_check', { simple: true });
    if (result !== 'ok') throw new Error(String(result));
  } catch (err) {
    throw new BackupError(`damaged backup: its database does not pass SQLite's check (${(err as Error).message})`);
  } finally {
    db?.close();
  }
}

/** The backup a running server was given, kept for the next start. @throws BackupError when it cannot be restored */
export async function stageRestore(dataDir: string, archive: Buffer): Promise<BackupManifest> {
  const { manifest } = readBackup(archive);
  await writePrivateFile(join(dataDir, PENDING_RESTORE), archive);
  return manifest;
}

/** What waits for the next start, or null. */
export async function pendingRestore(dataDir: string): Promise<{ manifest: BackupManifest; stagedAt: number } | null> {
  const path = join(dataDir, PENDING_RESTORE);
  try {
    const [data, st] = await Promise.all([readFile(path), stat(path)]);
    return { manifest: readBackup(data).manifest, stagedAt: Math.round(st.mtimeMs) };
  } catch {
    return null;
  }
}

export async function cancelRestore(dataDir: string): Promise<boolean> {
  const path = join(dataDir, PENDING_RESTORE);
  if (!existsSync(path)) return false;
  await rm(path, { force: true });
  return true;
}

/**
 * At start, before anything opens the data directory: a staged backup
 * replaces the database, certificates and config.json, which move to
 * before-restore-<time>/ (nothing is deleted). A backup that no longer
 * checks out is set aside as restore-refused.swb and the server starts on
 * what it had. Returns where the old files went, or null when nothing waited.
 */
export async function applyStagedRestore(dataDir: string, log: Logger, now = Date.now): Promise<string | null> {
  const pending = join(dataDir, PENDING_RESTORE);
  if (!existsSync(pending)) return null;
  let contents: BackupContents;
  try {
    contents = readBackup(await readFile(pending));
  } catch (err) {
    await rename(pending, join(dataDir, 'restore-refused.swb'));
    log.error({ problem: (err as Error).message }, 'staged restore refused; starting on the current data (the file is now restore-refused.swb)');
    return null;
  }
  const aside = join(dataDir, `before-restore-${new Date(now()).toISOString().replace(/[:.]/g, '-')}`);
  await mkdir(aside, { recursive: true, mode: 0o700 });
  for (const name of [DATABASE_FILE, `${DATABASE_FILE}-wal`, `${DATABASE_FILE}-shm`, 'certs', 'config.json']) {
    if (existsSync(join(dataDir, name))) await rename(join(dataDir, name), join(aside, name));
  }
  await restoreInto(dataDir, contents);
  await rm(pending, { force: true });
  log.warn({ backupOf: new Date(contents.manifest.createdAt).toISOString(), previous: aside }, 'restored the staged backup; the previous data was moved aside');
  return aside;
}
