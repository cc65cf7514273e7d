import { existsSync, mkdirSync, readdirSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../../../src/store/index.ts';
import { MIGRATIONS } from '../../../src/store/sqlite/migrations.ts';
import { tempStores } from './helpers.ts';

describe('openStore', () => {
  let t: ReturnType<typeof tempStores>;
  beforeEach(() => { t = tempStores(); });
  afterEach(() => t.cleanup());

  it('creates the database file with WAL, busy timeout and foreign keys', () => {
    const s = t.open();
    expect(s.file).toBe(join(t.dir, 'switchboard.db'));
    expect(s.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(s.db.pragma('busy_timeout', { simple: true })).toBe(5000);
    expect(s.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(s.db.prepare('SELECT version FROM schema_version').pluck().all()).toEqual([MIGRATIONS.length]);
  });

  it('rehearses on a copy it removes, so writes of the same process go on meanwhile, and sweeps copies a dead process left', async () => {
    const s = t.open();
    await s.users.add({ extension: '100', password: 'p' });
    const stale = join(t.dir, '.rehearsal-dead');
    const fresh = join(t.dir, '.rehearsal-other');
    mkdirSync(stale);
    mkdirSync(fresh);
    utimesSync(stale, new Date(Date.now() - 2 * 86_400_000), new Date(Date.now() - 2 * 86_400_000));
    const seen = await s.rehearse(async (scratch) => {
      await scratch.users.add({ extension: '200', password: 'p' });
      // The real file is not locked by the rehearsal: on the same file this write would fail busy after 5 s.
      await s.users.add({ extension: '300', password: 'p' });
      return { users: await scratch.users.count() };
    });
    expect(seen.users).toBe(2);
    expect((await s.users.list()).map((u) => u.extension)).toEqual(['100', '300']);
    expect(readdirSync(t.dir).filter((n) => n.startsWith('.rehearsal-'))).toEqual(['.rehearsal-other']);
    expect(existsSync(fresh)).toBe(true);
  });

  it('creates a missing nested data directory', async () => {
    const dir = join(t.dir, 'nested', 'data');
    const s = openStore(dir);
    try {
      expect(existsSync(join(dir, 'switchboard.db'))).toBe(true);
    } finally {
      await s.close();
    }
  });

  it('reopening applies nothing twice and keeps one version row', async () => {
    await t.open().close();
    const s = t.open();
    expect(s.db.prepare('SELECT version FROM schema_version').pluck().all()).toEqual([MIGRATIONS.length]);
  });

  it('refuses a database written by a newer schema', async () => {
    const s = t.open();
    s.db.prepare('UPDATE schema_version SET version = ?').run(MIGRATIONS.length + 1);
    await s.close();
    expect(() => t.open()).toThrow(/newer/);
  });
});
