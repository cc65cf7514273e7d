import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { health } from '../../../src/ops/health.ts';
import { sqliteWritable } from '../../../src/store/sqlite/connection.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDb(): { file: string; db: Database.Database } {
  const dir = mkdtempSync(path.join(tmpdir(), 'switchboard-health-'));
  dirs.push(dir);
  const file = path.join(dir, 'x.db');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (a)');
  return { file, db };
}

const listening = () => [
  { transport: 'udp', address: '127.0.0.1', port: 5060 },
  { transport: 'tcp', address: '127.0.0.1', port: 5060 },
];

describe('health', () => {
  it('is ok when every expected listener is up and every check passes', () => {
    const r = health({ expectedListeners: ['udp', 'tcp'], listening, database: () => undefined, writeBehind: () => ({ pending: 3, failingSince: undefined }) });
    expect(r.status).toBe('ok');
    expect(r.checks.listeners).toEqual({ ok: true, detail: 'tcp, udp listening' });
    expect(r.checks.writeBehind).toEqual({ ok: true, detail: '3 pending' });
  });

  it('is degraded and names the missing listener', () => {
    const r = health({ expectedListeners: ['udp', 'tcp', 'tls'], listening });
    expect(r.status).toBe('degraded');
    expect(r.checks.listeners).toEqual({ ok: false, detail: 'not listening: tls' });
  });

  it('is degraded when the database check fails or throws', () => {
    expect(health({ expectedListeners: [], listening, database: () => 'SQLITE_READONLY' }).checks.database).toEqual({ ok: false, detail: 'SQLITE_READONLY' });
    const r = health({ expectedListeners: [], listening, database: () => { throw new Error('gone'); } });
    expect(r).toMatchObject({ status: 'degraded', checks: { database: { ok: false, detail: 'gone' } } });
  });

  it('calls the write-behind queue stuck only when writes have failed for longer than the limit', () => {
    const now = 100_000;
    const check = (failingSince: number | undefined) =>
      health({ expectedListeners: [], listening, now: () => now, stuckAfterMs: 30_000, writeBehind: () => ({ pending: 7, failingSince }) }).checks.writeBehind!;
    expect(check(now - 10_000).ok).toBe(true);
    expect(check(now - 40_000)).toEqual({ ok: false, detail: '7 registration change(s) unwritten; writes failing for 40 s' });
  });
});

describe('sqliteWritable', () => {
  it('passes on a writable database and restores the busy timeout', () => {
    const { db } = tempDb();
    db.pragma('busy_timeout = 1234');
    expect(sqliteWritable(db, 1234)).toBeUndefined();
    expect(db.pragma('busy_timeout', { simple: true })).toBe(1234);
    expect(db.inTransaction).toBe(false);
    db.close();
  });

  it('reports a read-only or closed database', () => {
    const { file, db } = tempDb();
    db.close();
    const ro = new Database(file, { readonly: true });
    expect(sqliteWritable(ro, 5000)).toBe('database opened read-only');
    ro.close();
    expect(sqliteWritable(ro, 5000)).toBe('database closed');
  });

  it('does not wait for, nor fail on, a write lock held by another connection', () => {
    const { file, db } = tempDb();
    const other = new Database(file);
    other.exec('BEGIN IMMEDIATE');
    // Waiting out the 5 s busy timeout would also run into the test's own timeout.
    expect(sqliteWritable(db, 5000)).toBeUndefined();
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
    other.exec('ROLLBACK');
    other.close();
    db.close();
  });
});
