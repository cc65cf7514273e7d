// Applying an import file's rows, for POST /api/users/import and
// `switchboard user import` alike, so both take the same files and treat them
// the same (issue 12 item 5):
// - an extension twice in one file is refused, naming both rows (it would
//   otherwise silently become an update of the row before);
// - each row is checked against the model and the administrator's rules
//   (src/model/user-rules.ts), then added or updated;
// - a file with any bad row changes nothing unless partial is asked for: the
//   rows are rehearsed first (a transaction rolled back) and applied only
//   when every one of them would succeed;
// - a dry run is that rehearsal alone.
// The store shares its event loop with SIP, so a real run writes a chunk of
// rows per transaction (store.inBatches), no faster than
// IMPORT_MAX_ROWS_PER_SEC, the chunk sized to a few milliseconds of writes.
import { isDeepStrictEqual } from 'node:util';
import type { z } from 'zod';
import { pace, SLICE_MS } from '../lib/slices.ts';
import { MEDIA_KEYS, userCreateSchema, userPatchSchema } from '../model/user.ts';
import { USER_CSV_FIELDS, type UserCsvRow } from '../model/user-csv.ts';
import { userRuleIssues, type UserRules } from '../model/user-rules.ts';
import { isStoreError } from '../store/errors.ts';
import type { Store, User, UserRepository } from '../store/types.ts';
import { IMPORT_MAX_ROWS_PER_SEC } from '../store/user-import.ts';
import { zodIssues } from './errors.ts';

/** One row's outcome, as the API reports it. */
export interface ImportReportRow {
  row: number;
  extension: string;
  action: 'add' | 'update' | 'error';
  error?: string;
  changes?: string[];
  media?: Record<string, unknown>;
}

/** Records a change in the audit log (API), inside the row's transaction; the CLI has none. */
export type ImportAudit = (store: Store, subject: string, before: User | null, after: User) => Promise<void>;

export interface ImportRunOptions {
  dryRun: boolean;
  /** Apply the good rows of a file that has bad ones (else such a file changes nothing). */
  partial: boolean;
  rules: UserRules;
  audit?: ImportAudit;
  signal?: AbortSignal;
}

/**
 * The rows with an extension seen before in the file turned into errors naming
 * both rows. Remembers one entry per extension (a few bytes each).
 */
export async function* withoutDuplicates(rows: AsyncIterable<UserCsvRow> | Iterable<UserCsvRow>): AsyncGenerator<UserCsvRow> {
  const seen = new Map<string, number>();
  for await (const r of rows) {
    const first = r.extension === '' ? undefined : seen.get(r.extension);
    if (first !== undefined) {
      yield { ...r, error: `extension ${r.extension} is also on row ${first}: an extension may appear once in a file (rows ${first} and ${r.row})` };
      continue;
    }
    if (r.extension !== '') seen.set(r.extension, r.row);
    yield r;
  }
}

function issueText(error: z.ZodError): string {
  return zodIssues(error, 'body').map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
}

/** What an update changed, by field name (a secret's name only, never its value). */
function changedFields(before: User, after: User): string[] {
  const out: string[] = USER_CSV_FIELDS.filter((k) => !isDeepStrictEqual(before[k], after[k]));
  for (const k of MEDIA_KEYS) if (before.media[k] !== after.media[k]) out.push(`media.${k}`);
  return out;
}

async function applyRow(store: Store, users: UserRepository, r: UserCsvRow, o: ImportRunOptions, audit: boolean): Promise<ImportReportRow> {
  const error = (message: string): ImportReportRow => ({ row: r.row, extension: r.extension, action: 'error', error: message });
  if (r.error) return error(r.error);
  try {
    const before = r.extension ? await users.getByExtension(r.extension) : undefined;
    const parsed = (before ? userPatchSchema : userCreateSchema).safeParse(r.fields);
    // A password the user already has (an export with passwords, imported back) is not judged again.
    const { password, ...rest } = r.fields;
    const checked = before && password === before.password ? rest : r.fields;
    const problems = [
      ...(parsed.success ? [] : [issueText(parsed.error)]),
      ...userRuleIssues({ extension: r.extension, ...checked }, o.rules, before).map((i) => `${i.path}: ${i.message}`),
    ];
    if (!parsed.success || problems.length > 0) return error(problems.join('; '));
    if (before) {
      const after = await users.update(before.extension, parsed.data);
      if (audit) await o.audit?.(store, `user:${before.extension}`, before, after);
      return { row: r.row, extension: r.extension, action: 'update', changes: changedFields(before, after), media: { ...after.media } };
    }
    const after = await users.add(parsed.data as z.output<typeof userCreateSchema>);
    if (audit) await o.audit?.(store, `user:${after.extension}`, null, after);
    return { row: r.row, extension: r.extension, action: 'add', media: { ...after.media } };
  } catch (err) {
    if (!isStoreError(err)) throw err;
    return error(err.message);
  }
}

/** Rows per transaction of a real import: as many as SLICE_MS of writes take, judged by the chunk before. */
const CHUNK_ROWS = { first: 50, min: 10, max: 1000 };

async function rehearse(store: Store, rows: AsyncIterable<UserCsvRow>, o: ImportRunOptions, out: ImportReportRow[]): Promise<void> {
  await store.rehearse(async (scratch) => {
    for await (const r of rows) {
      o.signal?.throwIfAborted();
      out.push(await applyRow(scratch, scratch.users, r, o, false));
    }
  });
}

/** One row at a time in file order (a later row may depend on an earlier one), each appended to out once committed. */
async function apply(store: Store, rows: AsyncIterable<UserCsvRow>, o: ImportRunOptions, out: ImportReportRow[]): Promise<void> {
  await store.inBatches(async (batch) => {
    let chunk: UserCsvRow[] = [];
    let size = CHUNK_ROWS.first;
    const started = performance.now();
    const flush = async () => {
      const start = performance.now();
      const done = await batch(async (w) => {
        const inChunk: ImportReportRow[] = [];
        for (const r of chunk) inChunk.push(await applyRow(w, w.users, r, o, true));
        return inChunk;
      });
      for (const r of done) out.push(r);
      const msPerRow = (performance.now() - start) / chunk.length;
      size = Math.round(Math.min(CHUNK_ROWS.max, Math.max(CHUNK_ROWS.min, SLICE_MS / Math.max(msPerRow, 0.001))));
      chunk = [];
      await pace(out.length, started, IMPORT_MAX_ROWS_PER_SEC);
    };
    for await (const r of rows) {
      o.signal?.throwIfAborted();
      chunk.push(r);
      if (chunk.length >= size) await flush();
    }
    if (chunk.length > 0) await flush();
  });
}

/**
 * Runs an import: `rows` gives the file's rows afresh each time it is called
 * (a file with errors is read twice). Report rows are appended to out.
 * @returns whether anything was written
 */
export async function runImport(
  store: Store, rows: () => AsyncIterable<UserCsvRow> | Iterable<UserCsvRow>, o: ImportRunOptions, out: ImportReportRow[],
): Promise<boolean> {
  if (o.dryRun) {
    await rehearse(store, withoutDuplicates(rows()), o, out);
    return false;
  }
  if (!o.partial) {
    const trial: ImportReportRow[] = [];
    await rehearse(store, withoutDuplicates(rows()), o, trial);
    if (trial.some((r) => r.action === 'error')) {
      for (const r of trial) out.push(r);
      return false;
    }
  }
  await apply(store, withoutDuplicates(rows()), o, out);
  return true;
}
