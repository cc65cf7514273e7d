// Schema of the SQLite store, as ordered migrations: entry i brings the schema
// from version i to i+1. Append only; never edit a released entry.
//
// Portability: the DDL here is SQLite's (INTEGER PRIMARY KEY AUTOINCREMENT,
// booleans as 0/1); a PostgreSQL store keeps its own DDL list. The queries in
// the repositories stick to SQL both engines run unchanged (ON CONFLICT ...
// DO UPDATE, LIMIT/OFFSET, lower(), LIKE ... ESCAPE, expression indexes), so
// moving them onto a query builder later is mechanical.
import type Database from 'better-sqlite3';

export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    extension TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    full_name TEXT NOT NULL DEFAULT '',
    auth_user TEXT NOT NULL UNIQUE,
    password TEXT NOT NULL,
    voicemail_code TEXT,
    enabled INTEGER NOT NULL DEFAULT 1,
    call_waiting INTEGER NOT NULL DEFAULT 1,
    codecs TEXT,
    max_calls INTEGER,
    no_answer_timeout_sec INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE UNIQUE INDEX users_name_key ON users (lower(name));

  -- Written in the same transaction as each user change, so another process
  -- (the server while the CLI edits) can follow the directory by polling.
  CREATE TABLE user_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    extension TEXT NOT NULL,
    op TEXT NOT NULL,
    at INTEGER NOT NULL
  );

  CREATE TABLE registrations (
    aor TEXT NOT NULL,
    contact_uri TEXT NOT NULL,
    contact_raw TEXT NOT NULL,
    call_id TEXT NOT NULL,
    cseq INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    q REAL,
    path TEXT NOT NULL DEFAULT '[]',
    instance_id TEXT,
    reg_id INTEGER,
    pub_gruu TEXT,
    temp_gruu TEXT,
    transport TEXT NOT NULL,
    source_address TEXT NOT NULL,
    source_port INTEGER NOT NULL,
    local_address TEXT,
    local_port INTEGER,
    user_agent TEXT,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (aor, contact_uri)
  );
  CREATE INDEX registrations_expires ON registrations (expires_at);
  `,
];

/**
 * Brings the database up to the latest schema. Each step runs in an IMMEDIATE
 * transaction that re-reads the version, so two processes starting together
 * do not both apply it.
 */
export function migrate(db: Database.Database): number {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
  const read = db.prepare<[], { version: number }>('SELECT version FROM schema_version');
  const step = db.transaction((): boolean => {
    const row = read.get();
    const version = row?.version ?? 0;
    if (version > MIGRATIONS.length) {
      throw new Error(`database schema version ${version} is newer than this program (${MIGRATIONS.length})`);
    }
    if (version === MIGRATIONS.length) return false;
    db.exec(MIGRATIONS[version]!);
    if (row) db.prepare('UPDATE schema_version SET version = ?').run(version + 1);
    else db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(version + 1);
    return true;
  });
  while (step.immediate()) { /* one migration per transaction */ }
  return MIGRATIONS.length;
}
