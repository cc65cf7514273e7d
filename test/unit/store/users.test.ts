import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../../src/store/sqlite/migrations.ts';
import { tempStores } from './helpers.ts';
import { sqliteEngine } from './engines.ts';
import { usersSuite } from './suites/users.ts';

usersSuite(sqliteEngine);

describe('users: one name (SQLite migration 12)', () => {
  let t: ReturnType<typeof tempStores>;
  afterEach(() => t.cleanup());

  it('merges the account name into the display name and lets display names repeat', async () => {
    t = tempStores();
    const db = new Database(join(t.dir, 'switchboard.db'));
    db.exec('CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (9)');
    for (const m of MIGRATIONS.slice(0, 9)) db.exec(m);
    const add = db.prepare(`INSERT INTO users (extension, name, full_name, auth_user, password, created_at, updated_at)
      VALUES (?, ?, ?, ?, 'Str0ng-pass', 1, 1)`);
    add.run('1001', '1001', 'Ward 4 Desk', '1001'); // display name kept
    add.run('1002', 'Alice', '', '1002'); // the account name someone typed becomes the display name
    add.run('1003', '1003', '', 'dect1003'); // only the default: no display name
    add.run('1004', 'bob', 'Bob Smith', 'bob'); // a display name wins over the account name
    db.close();
    const store = t.open();
    const names = Object.fromEntries((await store.users.list()).map((u) => [u.extension, u.name]));
    expect(names).toEqual({ 1001: 'Ward 4 Desk', 1002: 'Alice', 1003: '', 1004: 'Bob Smith' });
    expect((await store.users.add({ extension: '1005', password: 'Str0ng-pass', name: 'ALICE' })).name).toBe('ALICE');
    expect((await store.users.list({ search: 'smith' })).map((u) => u.extension)).toEqual(['1004']);
  });
});
