import { describe, expect, it } from 'vitest';
import { isPostgresUrl, openStoreAt } from '../../../src/store/index.ts';
import { numbered, redactUrl } from '../../../src/store/postgres/db.ts';
import { tempDataDir } from '../../integration/lib/server.ts';

describe('choosing the store', () => {
  it('takes postgres:// and postgresql:// URLs for PostgreSQL, anything else for a SQLite directory', () => {
    expect(isPostgresUrl('postgres://sb@db/sb')).toBe(true);
    expect(isPostgresUrl('POSTGRESQL://sb@db/sb')).toBe(true);
    expect(isPostgresUrl('/var/lib/switchboard')).toBe(false);
    expect(isPostgresUrl('postgres:/missing-slash')).toBe(false);
    expect(isPostgresUrl(undefined)).toBe(false);
  });

  it('opens SQLite under the given directory, or the data directory when none is given', async () => {
    const dir = tempDataDir();
    const s = await openStoreAt(undefined, dir);
    try {
      await s.users.add({ extension: '100', password: 'p' });
    } finally {
      await s.close();
    }
    const again = await openStoreAt(dir, '/nonexistent-data-dir');
    try {
      expect((await again.users.getByExtension('100'))?.extension).toBe('100');
    } finally {
      await again.close();
    }
  });

  it('refuses a URL of any other scheme rather than make a directory of it', async () => {
    const dir = tempDataDir();
    await expect(openStoreAt('mysql://sb@db/sb', dir)).rejects.toThrow(/mysql:\/\/ is not a store/);
  });

  it('never shows the password of a URL', () => {
    expect(redactUrl('postgres://sb:s3cret@db:5433/sb?sslmode=require')).toBe('postgres://sb:***@db:5433/sb?sslmode=require');
    expect(redactUrl('postgres://sb@db/sb')).toBe('postgres://sb@db/sb');
    expect(redactUrl('postgres://sb:s3cret@[bad')).not.toContain('s3cret');
  });

  it('numbers the placeholders of SQL shared with SQLite', () => {
    expect(numbered('SELECT * FROM t WHERE a = ? AND b IN (?, ?)')).toBe('SELECT * FROM t WHERE a = $1 AND b IN ($2, $3)');
  });
});
