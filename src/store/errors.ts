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
