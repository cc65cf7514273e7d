import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, StoreError, type SqliteStore, type StoreOptions } from '../../../src/store/index.ts';

/** A fresh data directory per test, removed (with every store opened on it) afterwards. */
export function tempStores(): { dir: string; open(opts?: StoreOptions): SqliteStore; cleanup(): Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), 'sb-store-'));
  const opened: SqliteStore[] = [];
  return {
    dir,
    open(opts) {
      const s = openStore(dir, opts);
      opened.push(s);
      return s;
    },
    async cleanup() {
      for (const s of opened) await s.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The StoreError fn throws or rejects with (fails the test when it throws nothing, rethrows anything else). */
export async function storeError(fn: () => unknown): Promise<StoreError> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof StoreError) return err;
    throw err;
  }
  throw new Error('expected a StoreError');
}
