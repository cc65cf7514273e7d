// Schema of the SQLite store, as ordered migrations: entry i brings the schema
// from version i to i+1. Append only; never edit a released entry.
//
// Portability: the DDL here is SQLite's (INTEGER PRIMARY KEY AUTOINCREMENT,
// booleans as 0/1); a PostgreSQL store keeps its own DDL list. The queries in
// the repositories stick to SQL both engines run unchanged (ON CONFLICT ...
// DO UPDATE, LIMIT/OFFSET, lower(), LIKE ... ESCAPE, expression indexes), so
// moving them onto a query builder later is mechanical.
import type Database from 'better-sqlite3';
import { DEFAULT_SHORT_CODES } from '../../model/short-code.ts';

const sqlText = (s: string) => `'${s.replace(/'/g, "''")}'`;

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
  // Calls: outbound permission, trunks, DIDs, call records.
  `
  ALTER TABLE users ADD COLUMN outbound_calls INTEGER NOT NULL DEFAULT 0;

  CREATE TABLE trunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    host TEXT NOT NULL,
    port INTEGER NOT NULL,
    transport TEXT NOT NULL,
    register_user TEXT,
    register_password TEXT,
    outbound_proxy TEXT,
    prefix TEXT NOT NULL UNIQUE,
    strip INTEGER NOT NULL DEFAULT 0,
    add_prefix TEXT NOT NULL DEFAULT '',
    enabled INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );

  -- A renumbered user keeps its DIDs; a removed one takes them along.
  CREATE TABLE dids (
    number TEXT PRIMARY KEY,
    extension TEXT NOT NULL REFERENCES users (extension) ON UPDATE CASCADE ON DELETE CASCADE,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX dids_extension ON dids (extension);

  -- One row the server polls to know when to reload trunks and DIDs. Bumped
  -- by triggers so the cascades from user changes above count too, in the
  -- same transaction as the write.
  CREATE TABLE trunk_revision (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    revision INTEGER NOT NULL
  );
  INSERT INTO trunk_revision (id, revision) VALUES (1, 0);
  CREATE TRIGGER trunks_ins AFTER INSERT ON trunks BEGIN UPDATE trunk_revision SET revision = revision + 1; END;
  CREATE TRIGGER trunks_upd AFTER UPDATE ON trunks BEGIN UPDATE trunk_revision SET revision = revision + 1; END;
  CREATE TRIGGER trunks_del AFTER DELETE ON trunks BEGIN UPDATE trunk_revision SET revision = revision + 1; END;
  CREATE TRIGGER dids_ins AFTER INSERT ON dids BEGIN UPDATE trunk_revision SET revision = revision + 1; END;
  CREATE TRIGGER dids_upd AFTER UPDATE ON dids BEGIN UPDATE trunk_revision SET revision = revision + 1; END;
  CREATE TRIGGER dids_del AFTER DELETE ON dids BEGIN UPDATE trunk_revision SET revision = revision + 1; END;

  CREATE TABLE cdrs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    call_ref TEXT NOT NULL,
    direction TEXT NOT NULL,
    caller TEXT NOT NULL,
    caller_name TEXT NOT NULL DEFAULT '',
    caller_extension TEXT,
    callee TEXT NOT NULL,
    callee_extension TEXT,
    trunk TEXT,
    started_at INTEGER NOT NULL,
    answered_at INTEGER,
    ended_at INTEGER NOT NULL,
    disposition TEXT NOT NULL,
    status INTEGER NOT NULL,
    codec TEXT,
    legs TEXT NOT NULL DEFAULT '[]'
  );
  CREATE INDEX cdrs_caller_extension ON cdrs (caller_extension, started_at);
  CREATE INDEX cdrs_callee_extension ON cdrs (callee_extension, started_at);
  CREATE INDEX cdrs_started ON cdrs (started_at);
  `,
  // Management: administrator accounts, their web sessions, the audit log, settings overrides.
  `
  CREATE TABLE admin_accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    roles TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    must_change_password INTEGER NOT NULL DEFAULT 1,
    password_changed_at INTEGER NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE UNIQUE INDEX admin_accounts_name_key ON admin_accounts (lower(name));

  -- Keyed by a hash of the cookie value, never the value itself.
  CREATE TABLE admin_sessions (
    id_hash TEXT PRIMARY KEY,
    admin_id INTEGER NOT NULL REFERENCES admin_accounts (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    source_ip TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
  );
  CREATE INDEX admin_sessions_admin ON admin_sessions (admin_id);

  CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    source_ip TEXT,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    before_json TEXT,
    after_json TEXT
  );
  CREATE INDEX audit_log_at ON audit_log (at);

  -- Settings changed through the API, by dotted key; applied at the next start.
  CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  );
  `,
  // Media: per-user media security, SRTCP, direct media, DTMF, capability negotiation, transport (JSON; {} = system).
  `
  ALTER TABLE users ADD COLUMN media TEXT NOT NULL DEFAULT '{}';
  `,
  // Telephony features: per-user forwarding, do not disturb, follow me, pickup
  // group (src/model/user-features.ts); hunt groups; the short code table.
  `
  ALTER TABLE users ADD COLUMN forward_unconditional TEXT;
  ALTER TABLE users ADD COLUMN forward_busy TEXT;
  ALTER TABLE users ADD COLUMN forward_no_answer TEXT;
  ALTER TABLE users ADD COLUMN forward_no_answer_sec INTEGER;
  ALTER TABLE users ADD COLUMN forward_number TEXT;
  ALTER TABLE users ADD COLUMN dnd INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE users ADD COLUMN dnd_exceptions TEXT NOT NULL DEFAULT '[]';
  ALTER TABLE users ADD COLUMN follow_me TEXT;
  ALTER TABLE users ADD COLUMN pickup_group TEXT;
  CREATE INDEX users_pickup_group ON users (pickup_group) WHERE pickup_group IS NOT NULL;

  CREATE TABLE hunt_groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    number TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    strategy TEXT NOT NULL,
    no_answer_sec INTEGER NOT NULL,
    overflow TEXT,
    last_member TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  -- Members are users: a removed user leaves its groups, a renumbered one follows.
  CREATE TABLE hunt_group_members (
    group_id INTEGER NOT NULL REFERENCES hunt_groups (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    extension TEXT NOT NULL REFERENCES users (extension) ON UPDATE CASCADE ON DELETE CASCADE,
    logged_in INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (group_id, extension)
  );
  CREATE INDEX hunt_group_members_extension ON hunt_group_members (extension);

  CREATE TABLE short_codes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    position INTEGER NOT NULL,
    code TEXT NOT NULL UNIQUE,
    feature TEXT NOT NULL,
    value TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );

  -- Revisions the server polls to reload hunt groups and short codes (like
  -- trunk_revision). Rotary's last_member moves on calls and is left out.
  CREATE TABLE revisions (name TEXT PRIMARY KEY, revision INTEGER NOT NULL);
  INSERT INTO revisions (name, revision) VALUES ('hunt_groups', 0), ('short_codes', 0);
  CREATE TRIGGER hunt_groups_ins AFTER INSERT ON hunt_groups BEGIN UPDATE revisions SET revision = revision + 1 WHERE name = 'hunt_groups'; END;
  CREATE TRIGGER hunt_groups_upd AFTER UPDATE OF number, name, strategy, no_answer_sec, overflow ON hunt_groups BEGIN UPDATE revisions SET revision = revision + 1 WHERE name = 'hunt_groups'; END;
  CREATE TRIGGER hunt_groups_del AFTER DELETE ON hunt_groups BEGIN UPDATE revisions SET revision = revision + 1 WHERE name = 'hunt_groups'; END;
  CREATE TRIGGER hunt_members_ins AFTER INSERT ON hunt_group_members BEGIN UPDATE revisions SET revision = revision + 1 WHERE name = 'hunt_groups'; END;
  CREATE TRIGGER hunt_members_upd AFTER UPDATE ON hunt_group_members BEGIN UPDATE revisions SET revision = revision + 1 WHERE name = 'hunt_groups'; END;
  CREATE TRIGGER hunt_members_del AFTER DELETE ON hunt_group_members BEGIN UPDATE revisions SET revision = revision + 1 WHERE name = 'hunt_groups'; END;
  CREATE TRIGGER short_codes_ins AFTER INSERT ON short_codes BEGIN UPDATE revisions SET revision = revision + 1 WHERE name = 'short_codes'; END;
  CREATE TRIGGER short_codes_upd AFTER UPDATE ON short_codes BEGIN UPDATE revisions SET revision = revision + 1 WHERE name = 'short_codes'; END;
  CREATE TRIGGER short_codes_del AFTER DELETE ON short_codes BEGIN UPDATE revisions SET revision = revision + 1 WHERE name = 'short_codes'; END;

  -- The default codes. Every pattern with a letter ends in '#', which no
  -- extension can hold, so only the literal ones can clash with an existing
  -- user; such a code is left out rather than shadow the user.
  ${DEFAULT_SHORT_CODES.map(([code, feature], i) =>
    `INSERT INTO short_codes (position, code, feature, value, created_at, updated_at)
     SELECT ${i}, ${sqlText(code)}, ${sqlText(feature)}, NULL, 0, 0
     WHERE NOT EXISTS (SELECT 1 FROM users WHERE extension = ${sqlText(code)});`).join('\n  ')}
  `,
  // 6: who talked to whom in a call that was transferred, parked or picked up (JSON array of segments).
  `ALTER TABLE cdrs ADD COLUMN segments TEXT NOT NULL DEFAULT '[]';`,
  // 7: the AORs each write-behind batch touched (a JSON array, one row per
  // batch: cheap on the write path), by which store instance, so other
  // processes can follow each other's registrations.
  `
  CREATE TABLE registration_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    writer TEXT NOT NULL,
    aors TEXT NOT NULL
  );
  `,
  // 8: which node of several (sharing a database) holds each binding's phone.
  `ALTER TABLE registrations ADD COLUMN node TEXT;`,
  // 9: addresses each admin account and SIP user authenticated from, which
  // lockouts never close to them (admin-types.ts TrustedSourceRepository).
  `
  CREATE TABLE trusted_sources (
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    address TEXT NOT NULL,
    first_seen_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    PRIMARY KEY (kind, subject, address)
  );
  CREATE INDEX trusted_sources_last_seen ON trusted_sources (last_seen_at);
  CREATE INDEX trusted_sources_address ON trusted_sources (kind, address);
  `,
  // 10: the call log: why each call ended in words, its media when it ended
  // (JSON), and an index per filter of the call log page.
  `
  ALTER TABLE cdrs ADD COLUMN reason TEXT NOT NULL DEFAULT '';
  ALTER TABLE cdrs ADD COLUMN media TEXT;
  CREATE INDEX cdrs_direction ON cdrs (direction, started_at);
  CREATE INDEX cdrs_disposition ON cdrs (disposition, started_at);
  CREATE INDEX cdrs_status ON cdrs (status, started_at);
  CREATE INDEX cdrs_trunk ON cdrs (trunk, started_at);
  `,
  // 11: trunk health: the trunk that takes a trunk's calls while it is down (by name; renames and removals
  // follow in trunks.ts), and its own OPTIONS probe period (NULL: the system default, 0: not probed).
  `
  ALTER TABLE trunks ADD COLUMN fallback_trunk TEXT;
  ALTER TABLE trunks ADD COLUMN probe_interval_sec INTEGER;
  `,
  // 12: one name per user (issue 12): the display name, shown as caller ID
  // and in status. The account name had no purpose of its own (the phone logs
  // in with auth_user), so it merges into the display name: a display name
  // kept, else an account name other than the extension (its default), which
  // someone typed, most often as the name (the documented import column).
  // Display names need not be unique.
  `
  UPDATE users SET name = CASE WHEN full_name <> '' THEN full_name WHEN name <> extension THEN name ELSE '' END;
  DROP INDEX users_name_key;
  ALTER TABLE users DROP COLUMN full_name;
  `,
  // 13 (mailboxes, issue 13): a mailbox per user (on by default) and how its
  // phones learn of waiting messages; the messages with their WAV in the
  // database (one transaction: never half-stored, shared by every process,
  // carried by a backup), greetings, and a change log the MWI of every
  // process follows, written by triggers so no writer can forget it. A
  // mailbox goes with its user: removed with it (the extension may be given
  // to someone else), moved by a renumbering.
  `
  ALTER TABLE users ADD COLUMN voicemail INTEGER NOT NULL DEFAULT 1;
  ALTER TABLE users ADD COLUMN mwi TEXT NOT NULL DEFAULT 'subscribe';
  CREATE TABLE voicemail_messages (
    id TEXT PRIMARY KEY,
    mailbox TEXT NOT NULL,
    caller TEXT NOT NULL,
    caller_name TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    folder TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    wav BLOB NOT NULL
  );
  CREATE INDEX voicemail_messages_mailbox ON voicemail_messages (mailbox, received_at);
  CREATE TABLE voicemail_greetings (mailbox TEXT PRIMARY KEY, wav BLOB NOT NULL, updated_at INTEGER NOT NULL);
  CREATE TABLE voicemail_changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, mailbox TEXT NOT NULL);
  CREATE TRIGGER voicemail_ins AFTER INSERT ON voicemail_messages BEGIN
    INSERT INTO voicemail_changes (mailbox) VALUES (new.mailbox); END;
  CREATE TRIGGER voicemail_upd AFTER UPDATE ON voicemail_messages BEGIN
    INSERT INTO voicemail_changes (mailbox) VALUES (old.mailbox);
    INSERT INTO voicemail_changes (mailbox) SELECT new.mailbox WHERE new.mailbox <> old.mailbox; END;
  CREATE TRIGGER voicemail_del AFTER DELETE ON voicemail_messages BEGIN
    INSERT INTO voicemail_changes (mailbox) VALUES (old.mailbox); END;
  CREATE TRIGGER users_del_mailbox AFTER DELETE ON users BEGIN
    DELETE FROM voicemail_messages WHERE mailbox = old.extension;
    DELETE FROM voicemail_greetings WHERE mailbox = old.extension; END;
  CREATE TRIGGER users_renumber_mailbox AFTER UPDATE OF extension ON users WHEN new.extension <> old.extension BEGIN
    UPDATE voicemail_messages SET mailbox = new.extension WHERE mailbox = old.extension;
    UPDATE voicemail_greetings SET mailbox = new.extension WHERE mailbox = old.extension; END;
  `,
  // 14 (IVR menus, rooms, audio, issue 13): IVR menus, conference rooms, audio files (bytes in
  // the row) and the music-on-hold choice; each list with its revision.
  // Actions are JSON (src/model/ivr-menu.ts).
  `
  CREATE TABLE ivr_menus (
    number TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    greeting TEXT,
    timeout_sec INTEGER NOT NULL,
    max_retries INTEGER NOT NULL,
    options TEXT NOT NULL,
    on_timeout TEXT NOT NULL,
    on_invalid TEXT NOT NULL,
    operator TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE conference_rooms (
    number TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    pin TEXT,
    max_participants INTEGER NOT NULL,
    announce_join INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE audio_files (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    size INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    data BLOB NOT NULL,
    created_at INTEGER NOT NULL
  );
  -- One row: the audio file held parties hear (NULL: the one that ships).
  CREATE TABLE moh_setting (id INTEGER PRIMARY KEY CHECK (id = 1), file TEXT);
  INSERT INTO moh_setting (id, file) VALUES (1, NULL);

  -- DIDs that name an IVR menu rather than a user (the trunks' DID list shows both; see trunks.ts).
  CREATE TABLE ivr_dids (
    number TEXT PRIMARY KEY,
    menu TEXT NOT NULL REFERENCES ivr_menus (number) ON UPDATE CASCADE ON DELETE CASCADE,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX ivr_dids_menu ON ivr_dids (menu);
  CREATE TRIGGER ivr_dids_ins AFTER INSERT ON ivr_dids BEGIN UPDATE trunk_revision SET revision = revision + 1; END;
  CREATE TRIGGER ivr_dids_del AFTER DELETE ON ivr_dids BEGIN UPDATE trunk_revision SET revision = revision + 1; END;
  INSERT INTO revisions (name, revision) VALUES ('ivr_menus', 0), ('conference_rooms', 0), ('audio_files', 0);
  ${['ivr_menus', 'conference_rooms', 'audio_files', 'moh_setting'].flatMap((table) => ['INSERT', 'UPDATE', 'DELETE'].map((op) => {
    const feed = table === 'moh_setting' ? 'audio_files' : table;
    return `CREATE TRIGGER ${table}_${op.toLowerCase().slice(0, 3)} AFTER ${op} ON ${table} BEGIN UPDATE revisions SET revision = revision + 1 WHERE name = '${feed}'; END;`;
  })).join('\n  ')}
  `,
  // 15: the conference code *47 (issue 13) for databases seeded before it
  // existed: appended to the table unless the code or the feature is there,
  // or a user holds the number.
  `
  INSERT INTO short_codes (position, code, feature, value, created_at, updated_at)
  SELECT (SELECT COALESCE(MAX(position), -1) + 1 FROM short_codes), '*47', 'conference', NULL, 0, 0
  WHERE NOT EXISTS (SELECT 1 FROM short_codes WHERE code = '*47' OR feature = 'conference')
    AND NOT EXISTS (SELECT 1 FROM users WHERE extension = '*47');
  `,
  // 16 (provisioning, issue 14): devices keyed by MAC with their provisioning
  // secrets and last request (JSON); their lines are users, in order. A user
  // that is a line cannot be removed (RESTRICT; the repository names the
  // device first), a renumbered one is followed.
  `
  CREATE TABLE devices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    mac TEXT NOT NULL UNIQUE,
    family TEXT NOT NULL,
    model TEXT,
    label TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    options TEXT NOT NULL,
    password TEXT NOT NULL,
    token TEXT NOT NULL UNIQUE,
    last_fetch TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE device_lines (
    device_id INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    extension TEXT NOT NULL REFERENCES users (extension) ON UPDATE CASCADE ON DELETE RESTRICT,
    PRIMARY KEY (device_id, extension)
  );
  CREATE INDEX device_lines_extension ON device_lines (extension);
  `,
  // 17 (handset gateway, issue 15): the gateway's settings (the keys an
  // administrator set, as JSON over the model's defaults), its upstream
  // proxies, one line per gateway user (by user id: follows a renumbering,
  // goes with the user) and each line's upstream MWI state. Revision
  // 'gateway' moves on any change of settings, proxies, lines, or the
  // extension or name of a user with a line (not on a handset's report);
  // 'gateway_mwi' moves with each MWI write, whose rows carry it.
  `
  CREATE TABLE gateway_settings (id INTEGER PRIMARY KEY CHECK (id = 1), value TEXT NOT NULL);
  INSERT INTO gateway_settings (id, value) VALUES (1, '{}');
  CREATE TABLE gateway_proxies (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uri TEXT NOT NULL UNIQUE,
    priority INTEGER NOT NULL,
    weight INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE gateway_lines (
    user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    upstream_user TEXT NOT NULL,
    upstream_domain TEXT NOT NULL,
    auth_user TEXT NOT NULL,
    password TEXT NOT NULL,
    display_name TEXT NOT NULL,
    ipei TEXT UNIQUE,
    access_code TEXT NOT NULL,
    standby_text TEXT NOT NULL,
    disabled INTEGER NOT NULL,
    handset TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE gateway_mwi (
    user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    waiting INTEGER NOT NULL,
    new_messages INTEGER NOT NULL,
    old_messages INTEGER NOT NULL,
    at INTEGER NOT NULL,
    rev INTEGER NOT NULL
  );
  CREATE INDEX gateway_mwi_rev ON gateway_mwi (rev);
  INSERT INTO revisions (name, revision) VALUES ('gateway', 0), ('gateway_mwi', 0);
  CREATE TRIGGER gateway_settings_upd AFTER UPDATE ON gateway_settings BEGIN UPDATE revisions SET revision = revision + 1 WHERE name = 'gateway'; END;
  CREATE TRIGGER gateway_proxies_ins AFTER INSERT ON gateway_proxies BEGIN UPDATE revisions SET revision = revision + 1 WHERE name = 'gateway'; END;
  CREATE TRIGGER gateway_proxies_del AFTER DELETE ON gateway_proxies BEGIN UPDATE revisions SET revision = revision + 1 WHERE name = 'gateway'; END;
  CREATE TRIGGER gateway_lines_ins AFTER INSERT ON gateway_lines BEGIN UPDATE revisions SET revision = revision + 1 WHERE name = 'gateway'; END;
  CREATE TRIGGER gateway_lines_upd AFTER UPDATE OF upstream_user, upstream_domain, auth_user, password, display_name, ipei,
    access_code, standby_text, disabled ON gateway_lines BEGIN UPDATE revisions SET revision = revision + 1 WHERE name = 'gateway'; END;
  CREATE TRIGGER gateway_lines_del AFTER DELETE ON gateway_lines BEGIN UPDATE revisions SET revision = revision + 1 WHERE name = 'gateway'; END;
  CREATE TRIGGER gateway_users_upd AFTER UPDATE OF extension, name ON users
    WHEN (NEW.extension IS NOT OLD.extension OR NEW.name IS NOT OLD.name) AND EXISTS (SELECT 1 FROM gateway_lines WHERE user_id = NEW.id)
    BEGIN UPDATE revisions SET revision = revision + 1 WHERE name = 'gateway'; END;
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
