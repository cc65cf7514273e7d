/** conflict: the value clashes with another kind of object (a short code matching an extension, a hunt group number that is a user's). */
export type StoreErrorCode = 'duplicate' | 'invalid' | 'not-found' | 'conflict';

/**
 * The one error the repositories throw on purpose, so the CLI and the REST
 * API can map it to a message or an HTTP status without parsing text.
 */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    /** The input field at fault, e.g. 'extension', 'authUser', 'csv'. */
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

export function isStoreError(err: unknown): err is StoreError {
  return err instanceof StoreError;
}

/**
 * The database cannot take the write now (disk full, read-only or failing
 * file system, another process's lock outlasting the busy timeout, the
 * PostgreSQL server gone): worth a 503 and a retry, not a 500 and a stack.
 */
export function isStoreOutage(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  if (code.startsWith('SQLITE_')) return /^SQLITE_(FULL|IOERR|READONLY|CANTOPEN|BUSY|LOCKED|CORRUPT|NOTADB|PROTOCOL)/.test(code);
  // PostgreSQL SQLSTATE: connection (08), insufficient resources (53, e.g. 53100 disk full), operator intervention (57).
  if (/^(08|53|57)[0-9A-Z]{3}$/.test(code)) return true;
  return code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ETIMEDOUT' || code === 'EPIPE';
}
