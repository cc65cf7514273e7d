// The persistence layer: repository interfaces (types.ts) and the embedded
// SQLite implementation. openStore() is what the server and the CLI call.
export type * from './types.ts';
export { StoreError, isStoreError, type StoreErrorCode } from './errors.ts';
export { openStore, openSqliteStore, DATABASE_FILE, type SqliteStore } from './sqlite/database.ts';
export { matchShortCode, patternMatches, DEFAULT_SHORT_CODES, SHORT_CODE_FEATURES } from '../model/short-code.ts';
export { shortCodeAction } from '../model/short-code-effect.ts';
