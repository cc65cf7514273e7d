// CSV import of the directory (`switchboard user import`), in the one dialect
// of src/model/user-csv.ts that the API exports and imports too. The caller
// runs this inside one IMMEDIATE transaction; each row's add/update nests as
// a savepoint, so a bad row is rolled back alone and reported while the good
// rows are applied.
import { UserCsvError, userCsvRows } from '../../model/user-csv.ts';
import { StoreError } from '../errors.ts';
import type { ImportRowResult, UserPatch, UserRepository } from '../types.ts';

/**
 * Applies every data row: an existing extension is updated, a new one added.
 * @throws StoreError invalid (field 'csv') when the file or its header is unusable
 */
export function importUsersCsv(users: UserRepository, text: string): ImportRowResult[] {
  let rows;
  try {
    rows = userCsvRows(text);
  } catch (err) {
    if (err instanceof UserCsvError) throw new StoreError('invalid', 'csv', err.message);
    throw err;
  }
  return rows.map(({ row, extension, fields, error }): ImportRowResult => {
    if (error) return { row, extension, action: 'error', error };
    try {
      if (extension === '') throw new StoreError('invalid', 'extension', 'extension: must not be empty');
      if (users.getByExtension(extension)) {
        users.update(extension, fields as UserPatch);
        return { row, extension, action: 'updated' };
      }
      users.add({ ...(fields as UserPatch), extension, password: (fields.password as string | undefined) ?? '' });
      return { row, extension, action: 'added' };
    } catch (err) {
      if (!(err instanceof StoreError)) throw err;
      return { row, extension, action: 'error', error: err.message };
    }
  });
}
