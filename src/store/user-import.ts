// CSV import of the directory, engine-independent parts: the file to rows
// (the one dialect of src/model/user-csv.ts that the API exports and imports
// too), each row to an add or an update, and the rows in chunks. The file is
// read twice: once whole to find a broken file before anything changes (it
// is refused as a whole, as it always was), then to apply the rows. Each
// chunk of rows is one transaction, each row in it a savepoint, so a bad row
// is rolled back alone and reported while the good rows are applied; between
// chunks the writer's lock is free (the server keeps writing registrations)
// and the event loop turns. A file cut off by a crash keeps the chunks
// before it; importing it again updates those rows to the same values.
import { pace } from '../lib/slices.ts';
import { UserCsvError, userCsvCount, userCsvRows, type UserCsvRow } from '../model/user-csv.ts';
import { StoreError } from './errors.ts';
import type { ImportOptions, ImportRowResult, UserInput, UserPatch } from './types.ts';

/** Rows per transaction: a few milliseconds of writes, so the lock is never held long. */
export const IMPORT_CHUNK_ROWS = 500;

/**
 * The most rows an import writes a second. Every process on the database
 * follows the users' change log (the directory looks every 500 ms); the log
 * keeps the last 10,000 changes, and a watcher that falls behind it reloads
 * every user in one piece (seconds for 450,000 users). At this rate a look
 * finds at most 5,000 new changes.
 */
export const IMPORT_MAX_ROWS_PER_SEC = 10_000;

/** What a row becomes: an error without touching the store, else an add or an update. */
export function rowPlan({ row, extension, fields, error }: UserCsvRow):
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

function csvError(err: unknown): unknown {
  return err instanceof UserCsvError ? new StoreError('invalid', 'csv', err.message) : err;
}

/**
 * Applies every data row in order, chunk by chunk: applyChunk runs one
 * chunk in one transaction. @throws StoreError invalid (field 'csv') when
 * the file or its header is unusable, before any row is applied
 */
export async function importInChunks(
  text: string,
  applyChunk: (rows: readonly UserCsvRow[]) => Promise<ImportRowResult[]> | ImportRowResult[],
  opts: ImportOptions = {},
): Promise<ImportRowResult[]> {
  let total: number;
  try {
    total = await userCsvCount(text);
  } catch (err) {
    throw csvError(err);
  }
  opts.onProgress?.(0, total);
  const out: ImportRowResult[] = [];
  let chunk: UserCsvRow[] = [];
  const started = performance.now();
  const flush = async () => {
    for (const r of await applyChunk(chunk)) out.push(r);
    chunk = [];
    opts.onProgress?.(out.length, total);
    await pace(out.length, started, IMPORT_MAX_ROWS_PER_SEC);
  };
  try {
    for await (const row of userCsvRows(text)) {
      chunk.push(row);
      if (chunk.length >= IMPORT_CHUNK_ROWS) await flush();
    }
  } catch (err) {
    throw csvError(err);
  }
  if (chunk.length > 0) await flush();
  return out;
}

/** The writes an asynchronous engine's import makes, inside its transaction. */
export interface ImportTarget {
  exists(extension: string): Promise<boolean>;
  add(input: UserInput): Promise<unknown>;
  update(extension: string, patch: UserPatch): Promise<unknown>;
}

/** Applies rows in order: an existing extension is updated, a new one added. */
export async function applyImportRows(rows: readonly UserCsvRow[], users: ImportTarget): Promise<ImportRowResult[]> {
  const out: ImportRowResult[] = [];
  for (const r of rows) {
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
