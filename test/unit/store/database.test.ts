import { existsSync } from 'node:fs';
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
