// Group commit and write failures of the SQLite write-behind (issue 11 item
// 3): whenDurable is what a registrar answers 200 OK on.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqliteStore } from '../../../src/store/index.ts';
import { StoreWriteError } from '../../../src/store/write-health.ts';
import { waitUntil } from '../../lib/wait.ts';
import { tempStores } from './helpers.ts';
import { binding } from './suites/registrations.ts';

const durable = (s: SqliteStore): Promise<Error | undefined> => new Promise((resolve) => s.registrations.whenDurable(resolve));
const rowCount = (s: SqliteStore) => s.db.prepare('SELECT count(*) FROM registrations').pluck().get() as number;

describe('whenDurable (SQLite)', () => {
  let t: ReturnType<typeof tempStores>;
  let store: SqliteStore;
  let clock = 1_000_000;
  const errors: Error[] = [];
  const recovered: string[] = [];

  beforeEach(() => {
    t = tempStores();
    errors.length = 0;
    recovered.length = 0;
    // A long interval: only a durability wait (or maxQueue) writes, so what the test sees is its doing.
    store = t.open({ flushIntervalMs: 60_000, now: () => clock, onError: (e) => errors.push(e), onWriteRecovered: (what) => recovered.push(what) });
  });
  afterEach(() => t.cleanup());

  it('calls back once what was queued is committed, everything queued in the same turn in one transaction', async () => {
    // PRAGMA data_version, read on another connection, moves once per commit made elsewhere.
    const observer = t.open();
    const version = () => observer.db.pragma('data_version', { simple: true }) as number;
    const before = version();
    for (const aor of ['a', 'b', 'c']) store.registrations.enqueueUpsert(binding(`sip:${aor}@h`, `sip:${aor}@1`));
    expect(rowCount(store)).toBe(0);
    const waits = [durable(store), durable(store), durable(store)];
    expect(rowCount(store)).toBe(0); // not synchronously: the next turn writes
    expect(await Promise.all(waits)).toEqual([undefined, undefined, undefined]);
    expect(rowCount(store)).toBe(3);
    expect(version() - before).toBe(1);
    expect(store.registrations.pending).toBe(0);
    // Nothing queued: at once.
    expect(await durable(store)).toBeUndefined();
  });

  it('waits out another writer\'s short lock, and gives up with SQLITE_BUSY when it outlasts durableWaitMs (2 s)', async () => {
    const other = t.open();
    other.db.prepare('BEGIN IMMEDIATE').run();
    store.registrations.enqueueUpsert(binding('sip:a@h', 'sip:a@1'));
    const first = durable(store);
    await new Promise((r) => setTimeout(r, 100));
    other.db.prepare('COMMIT').run();
    expect(await first).toBeUndefined();
    expect(rowCount(store)).toBe(1);

    other.db.prepare('BEGIN IMMEDIATE').run();
    store.registrations.enqueueUpsert(binding('sip:b@h', 'sip:b@1'));
    const second = durable(store);
    await new Promise((r) => setTimeout(r, 50));
    clock += 2_500; // the lock has outlasted the wait
    const err = await second;
    expect((err as Error & { code?: string }).code).toMatch(/^SQLITE_BUSY/);
    other.db.prepare('COMMIT').run();
    // Still queued (the backoff timer would write it; here a flush does): nothing lost.
    expect(store.registrations.pending).toBe(1);
    await store.registrations.flush();
    expect(rowCount(store)).toBe(2);
  });

  it('a full database fails the wait at once, and later waits without a write attempt; reported once; all written when space returns', async () => {
    // The production interval: the backoff timer's retries are what writes the queue once space returns.
    store = t.open({ now: () => clock, onError: (e) => errors.push(e), onWriteRecovered: (what) => recovered.push(what) });
    const pages = store.db.pragma('page_count', { simple: true }) as number;
    store.db.pragma(`max_page_count = ${pages}`);
    for (let i = 0; i < 200; i++) store.registrations.enqueueUpsert(binding(`sip:${i}@h`, `sip:${i}@c;with-a-long-parameter-to-fill-pages=${'x'.repeat(200)}`));
    const err = await durable(store);
    expect((err as Error & { code?: string }).code).toBe('SQLITE_FULL');
    store.registrations.enqueueUpsert(binding('sip:late@h', 'sip:late@c'));
    expect(((await durable(store)) as Error & { code?: string }).code).toBe('SQLITE_FULL');
    expect(store.problem()).toMatch(/^database not writable: registration writes failing for \d+ s: SQLITE_FULL/);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(StoreWriteError);
    expect(errors[0]!.message).toBe('registration writes failing: SQLITE_FULL: database or disk is full');

    store.db.pragma('max_page_count = 1073741823');
    // The backoff timer's retry (at most 1 s) writes the queue; the next wait is served normally.
    expect(await waitUntil(() => store.registrations.pending === 0, 5000, 20)).toBe(true);
    expect(recovered).toEqual(['registration writes']);
    expect(store.problem()).toBeUndefined();
    expect(rowCount(store)).toBe(201);
    store.registrations.enqueueUpsert(binding('sip:after@h', 'sip:after@c'));
    expect(await durable(store)).toBeUndefined();
    expect(errors).toHaveLength(1);
  });

  it('a close that cannot write names what it leaves unwritten', async () => {
    const pages = store.db.pragma('page_count', { simple: true }) as number;
    store.db.pragma(`max_page_count = ${pages}`);
    for (let i = 0; i < 50; i++) store.registrations.enqueueUpsert(binding(`sip:${i}@h`, `sip:${i}@c;p=${'y'.repeat(300)}`));
    await expect(store.close()).rejects.toThrow(/^not written before closing: 50 registration change\(s\): SQLITE_FULL/);
    expect(store.db.open).toBe(false);
  });
});
