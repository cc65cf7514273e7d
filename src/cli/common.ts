import path from 'node:path';
import { isStoreError } from '../store/errors.ts';
import { openStore } from '../store/sqlite/database.ts';
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

export function resolveDataDir(dir: string | undefined): string {
  return path.resolve(dir ?? 'data');
}

/** Opens the store for a short CLI command; store errors become one-line CLI errors. */
export async function withStore<T>(dataDir: string | undefined, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = openStore(resolveDataDir(dataDir));
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
