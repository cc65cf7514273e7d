// CSV import of the directory, engine-independent parts: the file to rows
// (the one dialect of src/model/user-csv.ts that the API exports and imports
// too), and each row to an add or an update. The engines run the rows inside
// one transaction, each row in a savepoint, so a bad row is rolled back alone
// and reported while the good rows are applied.
import { UserCsvError, userCsvRows } from '../model/user-csv.ts';
import { StoreError } from './errors.ts';
import type { ImportRowResult, UserInput, UserPatch } from './types.ts';

type CsvRow = ReturnType<typeof userCsvRows>[number];

/** @throws StoreError invalid (field 'csv') when the file or its header is unusable */
export function importRows(text: string): CsvRow[] {
  try {
    return userCsvRows(text);
  } catch (err) {
    if (err instanceof UserCsvError) throw new StoreError('invalid', 'csv', err.message);
    throw err;
  }
}

/** What a row becomes: an error without touching the store, else an add or an update. */
export function rowPlan({ row, extension, fields, error }: CsvRow):
  { result: ImportRowResult } | { row: number; extension: string; patch: UserPatch; input: UserInput } {
  if (error) return { result: { row, extension, action: 'error', error } };
  if (extension === '') return { result: { row, extension, action: 'error', error: 'extension: must not be empty' } };
  const patch = fields as UserPatch;
  return { row, extension, patch, input: { ...patch, extension, password: (fields.password as string | undefined) ?? '' } };
}

/** A store error of one row as its report line; anything else is thrown on. */
export function rowError(row: number, extension: string, err: unknown): ImportRowResult {
  if (!(err instanceof StoreError)) throw err;
  return { row, extension, action: 'error', error: err.message };
}

/** The writes an asynchronous engine's import makes, inside its transaction. */
export interface ImportTarget {
  exists(extension: string): Promise<boolean>;
  add(input: UserInput): Promise<unknown>;
  update(extension: string, patch: UserPatch): Promise<unknown>;
}

/** Applies every data row in order: an existing extension is updated, a new one added. */
export async function userCsvImport(text: string, users: ImportTarget): Promise<ImportRowResult[]> {
  const out: ImportRowResult[] = [];
  for (const r of importRows(text)) {
    const plan = rowPlan(r);
    if ('result' in plan) {
      out.push(plan.result);
      continue;
    }
    try {
      if (await users.exists(plan.extension)) {
        await users.update(plan.extension, plan.patch);
        out.push({ row: plan.row, extension: plan.extension, action: 'updated' });
      } else {
        await users.add(plan.input);
        out.push({ row: plan.row, extension: plan.extension, action: 'added' });
      }
    } catch (err) {
      out.push(rowError(plan.row, plan.extension, err));
    }
  }
  return out;
}
