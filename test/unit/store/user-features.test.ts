import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqliteStore } from '../../../src/store/index.ts';
import { MIGRATIONS } from '../../../src/store/sqlite/migrations.ts';
import { tempStores } from './helpers.ts';
import { sqliteEngine } from './engines.ts';
import { userFeaturesSuite } from './suites/user-features.ts';

userFeaturesSuite(sqliteEngine);

describe('user features: migrations (SQLite)', () => {
  let t: ReturnType<typeof tempStores>;
  let store: SqliteStore;

  beforeEach(() => {
    t = tempStores();
    store = t.open();
  });
  afterEach(() => t.cleanup());

  it('migrates a version-4 database without losing its users', async () => {
    await t.cleanup();
    t = tempStores();
    const db = new Database(join(t.dir, 'switchboard.db'));
    db.exec('CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (4)');
    for (const m of MIGRATIONS.slice(0, 4)) db.exec(m);
    db.prepare(`INSERT INTO users (extension, name, auth_user, password, created_at, updated_at, media)
      VALUES ('1001', 'Alice', '1001', 'secret', 1, 2, '{"security":"enforced"}')`).run();
    db.close();
    store = t.open();
    const u = (await store.users.getByExtension('1001'))!;
    expect(u).toMatchObject({ name: 'Alice', password: 'secret', media: { security: 'enforced' }, dnd: false, dndExceptions: [], forwardNumber: null });
    expect((await store.shortCodes.list()).length).toBeGreaterThan(20);
  });

  it('leaves out a default short code an existing user already dials as an extension', async () => {
    await t.cleanup();
    t = tempStores();
    const db = new Database(join(t.dir, 'switchboard.db'));
    db.exec('CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (4)');
    for (const m of MIGRATIONS.slice(0, 4)) db.exec(m);
    db.prepare(`INSERT INTO users (extension, name, auth_user, password, created_at, updated_at) VALUES ('*17', 'vm', 'vm', 's', 1, 1)`).run();
    db.close();
    store = t.open();
    expect(await store.shortCodes.get('*17')).toBeUndefined();
    expect((await store.shortCodes.get('*08'))?.feature).toBe('dnd-on');
  });
});
