// Which store a server or a command uses: `--store` / store.url names it.
import { StoreError } from './errors.ts';
import type { Store, StoreOptions } from './types.ts';
import { openStore as openSqliteDataDir } from './sqlite/database.ts';
import { openPostgresStore } from './postgres/store.ts';

export function isPostgresUrl(location: string | undefined): location is string {
  return location !== undefined && /^postgres(ql)?:\/\//i.test(location);
}

/**
 * postgres://USER@HOST/DB or postgresql://... opens PostgreSQL; any other
 * value is a SQLite data directory; none is SQLite under dataDir (as before
 * stores could be chosen).
 */
export async function openStoreAt(location: string | undefined, dataDir: string, opts?: StoreOptions): Promise<Store> {
  if (isPostgresUrl(location)) return openPostgresStore(location, opts);
  // Any other URL is a mistake, not a directory to create.
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(location ?? '')?.[1];
  if (scheme) throw new StoreError('invalid', 'store', `store: ${scheme}:// is not a store; use postgres://USER@HOST/DB or a directory`);
  return openSqliteDataDir(location ?? dataDir, opts);
}
