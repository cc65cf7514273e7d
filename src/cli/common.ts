import path from 'node:path';
import { isStoreError } from '../store/errors.ts';
import { openStoreAt } from '../store/open.ts';
import type { Store } from '../store/types.ts';

/** An error the user can fix: printed as one line, exit code 2 by default. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

export const DATA_DIR_OPTION = ['--data-dir <dir>', 'data directory (database, certificates)', 'data'] as const;
export const STORE_OPTION = ['--store <url>', 'postgres://USER@HOST/DB, or a SQLite data directory (default: the data directory)'] as const;

/** Where a command's store is: --store, else SQLite under --data-dir. */
export interface StoreLocation {
  dataDir?: string;
  store?: string;
}

export function openCliStore(o: StoreLocation): Promise<Store> {
  return openStoreAt(o.store, resolveDataDir(o.dataDir));
}

export function resolveDataDir(dir: string | undefined): string {
  return path.resolve(dir ?? 'data');
}

/** Opens the store for a short CLI command; store errors become one-line CLI errors. */
export async function withStore<T>(where: StoreLocation, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openCliStore(where);
  try {
    return await fn(store);
  } catch (err) {
    if (isStoreError(err)) throw new CliError(err.message);
    throw err;
  } finally {
    await store.close();
  }
}

export function print(line: string): void {
  process.stdout.write(`${line}\n`);
}
