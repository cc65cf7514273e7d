import { waitUntil } from '../../lib/wait.ts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqliteStore } from '../../../src/store/index.ts';
import { BindingQueue } from '../../../src/store/sqlite/binding-queue.ts';
import { tempStores } from './helpers.ts';
import { sqliteEngine } from './engines.ts';
import { binding, registrationsSuite } from './suites/registrations.ts';

const rowCount = (s: SqliteStore) => s.db.prepare('SELECT count(*) FROM registrations').pluck().get() as number;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

registrationsSuite(sqliteEngine);

// Timing and locking of the SQLite write-behind.
describe('RegistrationRepository (SQLite, write-behind)', () => {
  let t: ReturnType<typeof tempStores>;
  let store: SqliteStore;
  const errors: Error[] = [];

  beforeEach(() => {
    t = tempStores();
    errors.length = 0;
    store = t.open({ onError: (e) => errors.push(e) });
  });
  afterEach(() => t.cleanup());

  it('coalesces 1,000 upserts of one key into one row, written within the interval', async () => {
    for (let i = 1; i <= 1000; i++) {
      store.registrations.enqueueUpsert(binding('sip:100@h', 'sip:100@a', { cseq: i }));
    }
    expect(store.registrations.pending).toBe(1);
    expect(rowCount(store)).toBe(0);
    await sleep(120);
    expect(store.registrations.pending).toBe(0);
    const rows = await store.registrations.loadAll();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.cseq).toBe(1000);
  });

  it('flushes at once when the queue reaches maxQueue', () => {
    const small = t.open({ maxQueue: 10, flushIntervalMs: 60_000 });
    for (let i = 0; i < 9; i++) small.registrations.enqueueUpsert(binding('sip:x@h', `sip:x@${i}`));
    expect(rowCount(small)).toBe(0);
    small.registrations.enqueueUpsert(binding('sip:x@h', 'sip:x@9'));
    expect(small.registrations.pending).toBe(0);
    expect(rowCount(small)).toBe(10);
  });

  it('keeps the batch when another process holds the write lock, and writes it later', async () => {
    const other = t.open();
    other.db.prepare('BEGIN IMMEDIATE').run();
    store.db.pragma('busy_timeout = 0');
    store.registrations.enqueueUpsert(binding('sip:a@h', 'sip:a@1', { cseq: 1 }));
    await expect(store.registrations.flush()).rejects.toThrow(/busy|locked/i);
    expect(store.registrations.pending).toBe(1);
    store.registrations.enqueueUpsert(binding('sip:a@h', 'sip:a@1', { cseq: 2 }));
    store.registrations.enqueueUpsert(binding('sip:a@h', 'sip:a@2'));
    other.db.prepare('COMMIT').run();
    await store.registrations.flush();
    const rows = await store.registrations.loadAll();
    expect(rows.map((b) => [b.contactUri, b.cseq]).sort()).toEqual([['sip:a@1', 2], ['sip:a@2', 1]]);
  });

  it('the timer does not wait for a lock held elsewhere: it backs off, reports once it lasts, and writes after release', async () => {
    const other = t.open();
    other.db.prepare('BEGIN IMMEDIATE').run();
    const t0 = performance.now();
    store.registrations.enqueueUpsert(binding('sip:a@h', 'sip:a@1'));
    // A moment's lock (another worker's batch) is routine: not reported.
    await sleep(100);
    expect(store.registrations.pending).toBe(1);
    expect(errors).toHaveLength(0);
    // Once it outlasts a few retries (~300 ms) it is reported, and none of the retries blocked for the 5 s busy timeout.
    expect(await waitUntil(() => errors.length > 0, 3000)).toBe(true);
    expect(performance.now() - t0).toBeLessThan(4000);
    expect(store.registrations.pending).toBe(1);
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error & { code?: string }).code).toMatch(/^SQLITE_BUSY/);
    const sweepStart = performance.now();
    expect(await store.registrations.deleteExpired(Number.MAX_SAFE_INTEGER)).toBe(0);
    expect(performance.now() - sweepStart).toBeLessThan(1000);
    other.db.prepare('COMMIT').run();
    for (let i = 0; i < 40 && store.registrations.pending > 0; i++) await sleep(50);
    expect(store.registrations.pending).toBe(0);
    expect((await store.registrations.loadAll()).map((b) => b.contactUri)).toEqual(['sip:a@1']);
    expect(errors).toHaveLength(1);
    expect(store.db.pragma('busy_timeout', { simple: true })).toBe(5000);
  });

  it('micro-measure: 100,000 enqueued upserts', async () => {
    const big = t.open({ maxQueue: 1_000_000, flushIntervalMs: 60_000 });
    const items = Array.from({ length: 100_000 }, (_, i) => binding(`sip:${i}@example.com`, `sip:${i}@192.0.2.1:5060`, { callId: `c${i}` }));
    let t0 = performance.now();
    for (const b of items) big.registrations.enqueueUpsert(b);
    const enqueueMs = performance.now() - t0;
    t0 = performance.now();
    await big.registrations.flush();
    const flushMs = performance.now() - t0;
    for (const b of items) big.registrations.enqueueUpsert({ ...b, cseq: 2 });
    t0 = performance.now();
    await big.registrations.flush();
    const updateMs = performance.now() - t0;
    const dflt = t.open();
    t0 = performance.now();
    for (const b of items) dflt.registrations.enqueueUpsert({ ...b, cseq: 3 });
    await dflt.registrations.flush();
    const defaultMs = performance.now() - t0;
    console.log(`[store] 100k upserts: enqueue ${enqueueMs.toFixed(1)} ms, one-batch insert flush ${flushMs.toFixed(1)} ms, `
      + `one-batch update flush ${updateMs.toFixed(1)} ms, enqueue+flush at default maxQueue ${defaultMs.toFixed(1)} ms`);
    expect(rowCount(big)).toBe(100_000);
    expect(big.db.prepare('SELECT count(*) FROM registrations WHERE cseq = 3').pluck().get()).toBe(100_000);
  }, 60_000); // a measurement, not a speed check: on a busy machine it takes longer than the default 5 s
});

describe('BindingQueue.restore', () => {
  const b = (aor: string, uri: string) => binding(aor, uri);

  it('puts a failed batch back under newer work, newer winning', () => {
    const q = new BindingQueue();
    q.deleteAor('sip:a@h');
    q.upsert(b('sip:a@h', 'x'));
    q.upsert(b('sip:b@h', 'y'));
    const old = q.take();
    expect(q.size).toBe(0);
    q.delete('sip:a@h', 'x');
    q.upsert(b('sip:a@h', 'z'));
    q.restore(old);
    expect(q.size).toBe(4);
    const batch = q.take();
    const a = batch.get('sip:a@h')!;
    expect(a.deleteAll).toBe(true);
    expect([...a.ops].map(([k, v]) => [k, v === null ? 'delete' : 'upsert'])).toEqual([['x', 'delete'], ['z', 'upsert']]);
    expect([...batch.get('sip:b@h')!.ops.keys()]).toEqual(['y']);
  });

  it('drops restored work for an AOR deleted since', () => {
    const q = new BindingQueue();
    q.upsert(b('sip:a@h', 'x'));
    const old = q.take();
    q.deleteAor('sip:a@h');
    q.restore(old);
    expect(q.size).toBe(1);
    expect(q.take().get('sip:a@h')).toEqual({ deleteAll: true, ops: new Map() });
  });
});
