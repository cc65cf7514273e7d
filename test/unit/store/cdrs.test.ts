import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqliteStore } from '../../../src/store/index.ts';
import { tempStores } from './helpers.ts';
import { sqliteEngine } from './engines.ts';
import { cdr, cdrsSuite } from './suites/cdrs.ts';
import { waitUntil } from '../../lib/wait.ts';

const rowCount = (s: SqliteStore) => s.db.prepare('SELECT count(*) FROM cdrs').pluck().get() as number;

cdrsSuite(sqliteEngine);

// Timing and locking of the SQLite write-behind.
describe('CdrRepository (SQLite, write-behind)', () => {
  let t: ReturnType<typeof tempStores>;
  let store: SqliteStore;
  const errors: Error[] = [];

  beforeEach(() => {
    t = tempStores();
    errors.length = 0;
    store = t.open({ onError: (e) => errors.push(e), flushIntervalMs: 20 });
  });
  afterEach(() => t.cleanup());

  it('enqueue does not write at once; the timer writes within the interval; flush writes now', async () => {
    store.cdrs.enqueue(cdr());
    expect(store.cdrs.pending).toBe(1);
    expect(rowCount(store)).toBe(0);
    expect(await waitUntil(() => rowCount(store) === 1, 2000)).toBe(true);
    expect(store.cdrs.pending).toBe(0);
    const slow = t.open({ flushIntervalMs: 60_000 });
    slow.cdrs.enqueue(cdr());
    expect(rowCount(slow)).toBe(1);
    await slow.cdrs.flush();
    expect(rowCount(slow)).toBe(2);
  });

  it('flushes at once when the queue reaches maxQueue', () => {
    const small = t.open({ maxQueue: 3, flushIntervalMs: 60_000 });
    small.cdrs.enqueue(cdr());
    small.cdrs.enqueue(cdr());
    expect(rowCount(small)).toBe(0);
    small.cdrs.enqueue(cdr());
    expect(rowCount(small)).toBe(3);
  });

  it('keeps the queue while another process holds the write lock; list still reads committed rows', async () => {
    store.cdrs.enqueue(cdr({ callRef: 'first' }));
    await store.cdrs.flush();
    const other = t.open();
    other.db.prepare('BEGIN IMMEDIATE').run();
    store.cdrs.enqueue(cdr({ callRef: 'second' }));
    expect((await store.cdrs.list()).map((c) => c.callRef)).toEqual(['first']);
    expect(store.cdrs.pending).toBe(1);
    other.db.prepare('COMMIT').run();
    expect((await store.cdrs.list()).map((c) => c.callRef)).toEqual(['second', 'first']);
    expect(store.cdrs.pending).toBe(0);
  });

  it('caps the queue while writes are locked out, reporting the loss once, and writes the rest later', async () => {
    const capped = t.open({ maxQueue: 10, flushIntervalMs: 60_000, onError: (e) => errors.push(e) });
    const other = t.open();
    other.db.prepare('BEGIN IMMEDIATE').run();
    for (let i = 0; i < 100_003; i++) capped.cdrs.enqueue(cdr());
    expect(capped.cdrs.pending).toBe(100_000);
    expect(capped.cdrs.dropped).toBe(3);
    expect(errors.filter((e) => /queue full/.test(e.message))).toHaveLength(1);
    other.db.prepare('COMMIT').run();
    await capped.cdrs.flush();
    expect(rowCount(capped)).toBe(100_000);
  });
});
