// CSV import of the directory (`switchboard user import`) in SQLite: the
// shared row handling (../user-import.ts) over synchronous writes. The caller
// runs this inside one IMMEDIATE transaction; each row's add/update nests as
// a savepoint, so a bad row is rolled back alone and reported.
import type { ImportRowResult, UserInput, UserPatch } from '../types.ts';
import { importRows, rowError, rowPlan } from '../user-import.ts';

/** The writes an import makes, synchronous: the caller runs them in its transaction. */
export interface ImportTarget {
  exists(extension: string): boolean;
  add(input: UserInput): unknown;
  update(extension: string, patch: UserPatch): unknown;
}

/**
 * Applies every data row: an existing extension is updated, a new one added.
 * @throws StoreError invalid (field 'csv') when the file or its header is unusable
 */
export function importUsersCsv(users: ImportTarget, text: string): ImportRowResult[] {
  return importRows(text).map((r): ImportRowResult => {
    const plan = rowPlan(r);
    if ('result' in plan) return plan.result;
    try {
      if (users.exists(plan.extension)) {
        users.update(plan.extension, plan.patch);
        return { row: plan.row, extension: plan.extension, action: 'updated' };
      }
      users.add(plan.input);
      return { row: plan.row, extension: plan.extension, action: 'added' };
    } catch (err) {
      return rowError(plan.row, plan.extension, err);
    }
  });
}
