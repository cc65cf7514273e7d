// The per-user call settings: outbound permission, codec list, limits.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../../src/store/sqlite/migrations.ts';
import { tempStores } from './helpers.ts';
import { sqliteEngine } from './engines.ts';
import { userCallsSuite } from './suites/user-calls.ts';

userCallsSuite(sqliteEngine);

describe('migration to the calls schema', () => {
  let t: ReturnType<typeof tempStores>;
  beforeEach(() => { t = tempStores(); });
  afterEach(() => t.cleanup());

  it('keeps users of a database made with only the first migration, with outbound_calls = 0', async () => {
    const file = join(t.dir, 'switchboard.db');
    const old = new Database(file);
    old.exec(MIGRATIONS[0]!);
    old.exec('CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version (version) VALUES (1);');
    old.prepare(`INSERT INTO users (extension, name, full_name, auth_user, password, call_waiting, codecs, max_calls,
      created_at, updated_at) VALUES ('41510', 'Ward', 'Ward 4', '41510', 'secret', 0, '["PCMA"]', 3, 1, 2)`).run();
    old.prepare(`INSERT INTO user_changes (extension, op, at) VALUES ('41510', 'add', 1)`).run();
    old.close();

    const s = t.open();
    expect(s.db.prepare('SELECT version FROM schema_version').pluck().get()).toBe(MIGRATIONS.length);
    expect(s.db.prepare('SELECT outbound_calls FROM users').pluck().all()).toEqual([0]);
    expect(await s.users.getByExtension('41510')).toMatchObject({
      name: 'Ward 4', password: 'secret', callWaiting: false, codecs: ['PCMA'], maxCalls: 3,
      outboundCalls: false, createdAt: 1, updatedAt: 2,
    });
    expect(await s.users.lastChangeSeq()).toBe(1);
    // The new tables work on the migrated file.
    await s.trunks.addDid('+4930100', '41510');
    expect((await s.trunks.add({ name: 'pstn', host: 'gw.example' })).port).toBe(5060);
    expect(await s.trunks.revision()).toBe(2);
    s.cdrs.enqueue({
      callRef: 'c1', direction: 'internal', caller: '41510', callerName: '', callerExtension: '41510', callee: '1',
      calleeExtension: null, trunk: null, startedAt: 1, answeredAt: null, endedAt: 2, disposition: 'failed', status: 404,
      codec: null, legs: [],
    });
    expect(await s.cdrs.count({ extension: '41510', kind: 'placed' })).toBe(1);
  });
});
