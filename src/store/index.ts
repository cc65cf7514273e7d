// The persistence layer: repository interfaces (types.ts), the embedded
// SQLite implementation and the PostgreSQL one. openStoreAt() is what the
// server and the CLI call; openStore() opens SQLite under a data directory.
export type * from './types.ts';
export type * from './gateway-types.ts';
export { StoreError, isStoreError, type StoreErrorCode } from './errors.ts';
export { openStore, openSqliteStore, DATABASE_FILE, type SqliteStore } from './sqlite/database.ts';
export { openPostgresStore, type PgStore } from './postgres/store.ts';
export { openStoreAt, isPostgresUrl } from './open.ts';
export { matchShortCode, patternMatches, DEFAULT_SHORT_CODES, SHORT_CODE_FEATURES } from '../model/short-code.ts';
export { shortCodeAction } from '../model/short-code-effect.ts';
