// CSV import of the directory straight into the store (UserRepository.importCsv,
// a bulk load; the CLI and the API import through src/api/user-import.ts) in SQLite: the
// shared row handling (../user-import.ts) over synchronous writes. The caller
// runs each chunk of rows inside one IMMEDIATE transaction; each row's
// add/update nests as a savepoint, so a bad row is rolled back alone and reported.
import type { UserCsvRow } from '../../model/user-csv.ts';
import type { ImportRowResult, UserInput, UserPatch } from '../types.ts';
import { rowError, rowPlan } from '../user-import.ts';

/** The writes an import makes, synchronous: the caller runs them in its transaction. */
export interface ImportTarget {
  exists(extension: string): boolean;
  add(input: UserInput): unknown;
  update(extension: string, patch: UserPatch): unknown;
}

/** Applies rows in order: an existing extension is updated, a new one added. */
export function applyImportRowsSync(users: ImportTarget, rows: readonly UserCsvRow[]): ImportRowResult[] {
  return rows.map((r): ImportRowResult => {
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
