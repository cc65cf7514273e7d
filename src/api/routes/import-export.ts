// Import and export of users as CSV or JSON (issue 5 item 2, SPEC 4.7).
// Exports leave login and voicemail codes out unless asked; imports can run
// dry, reporting row by row what they would do while changing nothing.
// The API shares its event loop with SIP, so an import never runs in one
// piece: a CSV file is parsed as a stream and its rows applied a slice of
// a few milliseconds at a time (src/lib/slices.ts), each row audited as
// before, a chunk of rows per transaction. A file bigger than
// SYNC_IMPORT_LIMIT is a job (202, then GET for progress and the report,
// src/api/import-jobs.ts); a JSON body, parsed in one piece by JSON.parse,
// may be no bigger than that.
import { Readable, Transform } from 'node:stream';
import { z } from 'zod';
import { UserCsvError, userCsvCount, userCsvRows } from '../../model/user-csv.ts';
import { inSlices } from '../../lib/slices.ts';
import { missingRole } from '../auth.ts';
import { audit, userRules, type ApiContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import type { RouteTable } from '../route.ts';
import { ImportJobs, summaryOf, type ReportRow } from '../import-jobs.ts';
import {
  exportQuery, importJobParams, importJobQuery, importJobSchema, importQuery, importReportSchema, userCreateSchema,
} from '../schemas.ts';
import { exportPieces, fileError, jsonRows, type ImportRow } from '../user-io.ts';
import { runImport } from '../user-import.ts';

const IMPORT_BODY_LIMIT = 32 * 1024 * 1024;
/** Bigger CSV files are imported as a job; bigger JSON bodies are refused (413). */
export const SYNC_IMPORT_LIMIT = 1024 * 1024;
const IMPORT_URL = '/api/users/import';

/** The file's rows, read (CSV: once more) as they are applied. @throws ApiError 400 when the file is unusable */
async function importRows(body: unknown, format: 'csv' | 'json'): Promise<{ total: number; rows: () => AsyncIterable<ImportRow> }> {
  if (format === 'json') {
    const rows = jsonRows(typeof body === 'string' ? parseJson(body) : body);
    return { total: rows.length, rows: () => inSlices(rows) };
  }
  if (typeof body !== 'string') {
    throw new ApiError(400, 'validation', 'file: send the CSV with Content-Type text/csv', {
      issues: [{ path: 'file', in: 'body', message: 'send the CSV with Content-Type text/csv' }],
    });
  }
  // Read once whole first: a broken file is refused before any row changes anything.
  const total = await csvFile(() => userCsvCount(body));
  return { total, rows: () => userCsvRows(body) };
}

async function csvFile<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    throw err instanceof UserCsvError ? fileError(err.message) : err;
  }
}

/**
 * A JSON import is one JSON.parse of the whole body before the handler runs:
 * its size is held to SYNC_IMPORT_LIMIT here, counted as it arrives.
 */
function limitJsonImports(t: RouteTable): void {
  t.app.addHook('preParsing', async (req, _reply, payload) => {
    if (req.routeOptions.url !== IMPORT_URL || /^text\/(csv|plain)\b/i.test(req.headers['content-type'] ?? '')) return payload;
    const tooBig = () => new ApiError(413, 'too-large',
      `a JSON import may have at most ${SYNC_IMPORT_LIMIT} bytes; send bigger files as CSV (text/csv)`);
    if (Number(req.headers['content-length'] ?? 0) > SYNC_IMPORT_LIMIT) throw tooBig();
    let seen = 0;
    return payload.pipe(new Transform({
      transform(chunk: Buffer, _enc, done) {
        seen += chunk.length;
        done(seen > SYNC_IMPORT_LIMIT ? tooBig() : null, chunk);
      },
    }));
  });
}

export function importExportRoutes(t: RouteTable, ctx: ApiContext): void {
  const jobs = new ImportJobs(ctx.now, ctx.log);
  t.app.addHook('onClose', () => jobs.close());
  limitJsonImports(t);
  t.add({
    method: 'GET', url: '/api/users/export', tag: 'users', access: 'read',
    summary: 'Export users as CSV or JSON',
    description: 'Login codes and voicemail codes are left out unless passwords=true, which needs the admin role. ' +
      'Media settings: JSON carries the media object (the user\'s own keys), CSV one column per key ' +
      '(media.security, ...), empty meaning the system value. The file imports back through POST /api/users/import. ' +
      'Users come in the order they were created, written as they are read (each page of users read on its own).',
    query: exportQuery,
    response: { description: 'the file', contentTypes: ['text/csv', 'application/json'] },
    errors: [403],
    handler: async (req) => {
      const { format, passwords } = req.query;
      const role = passwords ? missingRole(req.principal!.account, 'write') : null;
      if (role) throw new ApiError(403, 'forbidden', `exporting passwords needs the ${role} role`, { role });
      if (passwords) {
        const exported = await ctx.store.users.count();
        await audit(ctx, req, 'users', null, { exported, withPasswords: true }, 'GET /api/users/export (with passwords)');
      }
      void req.reply.header('content-disposition', `attachment; filename="users.${format}"`);
      void req.reply.header('cache-control', 'no-store');
      void req.reply.type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8');
      // Written as it is read, a page of users per turn of the event loop.
      return Readable.from(exportPieces(ctx.store.users, format, passwords), { objectMode: false });
    },
  });

  t.add({
    method: 'POST', url: IMPORT_URL, tag: 'users', access: 'write',
    summary: 'Import users from CSV or JSON',
    description: 'CSV (text/csv) with a header row naming columns as in the export; JSON: an array of user objects. ' +
      'An existing extension is updated, a new one added; an empty CSV cell leaves the field as it is, except in the ' +
      'media.* columns, where it means the system value (as exported). A JSON media object is the whole media ' +
      'settings: keys left out follow the system. Every row is checked against the user model and the user rules ' +
      '(GET /api/user-rules); an extension may appear once in a file (a second row is refused, naming both). A file with ' +
      'any bad row changes nothing (applied: false, every row reported) unless partial=true, which applies the good rows ' +
      'and skips the bad ones. A cell that looks like a spreadsheet formula is refused in a field that cannot hold it. ' +
      'Old column names are read too: fullName and displayName mean name (the display name). With dryRun=true nothing ' +
      'changes: the report says what would happen, with the fields each update changes and the media settings after it. ' +
      `A file that cannot be read is refused (400) before any row is applied. A CSV file over ${SYNC_IMPORT_LIMIT} bytes ` +
      'is imported as a job: the answer is 202 with the job, GET /api/users/import/jobs/{id} follows it; one job runs ' +
      `at a time (409 while one does). A JSON body may have at most ${SYNC_IMPORT_LIMIT} bytes.`,
    query: importQuery,
    docBody: {
      'text/csv': z.string().describe('extension,name,authUser,password,...,media.security,media.dtmf,...'),
      'application/json': z.array(userCreateSchema.partial()),
    },
    bodyLimit: IMPORT_BODY_LIMIT,
    response: { description: 'row-by-row report (202: the job, for a big file)', schema: importReportSchema },
    errors: [400, 409, 413],
    handler: async (req) => {
      const body: unknown = req.body;
      const format = req.query.format ?? (typeof body === 'string' ? 'csv' : 'json');
      const { dryRun, partial } = req.query;
      const rules = await userRules(ctx);
      const big = typeof body === 'string' && body.length > SYNC_IMPORT_LIMIT;
      const oneAtATime = () => {
        const running = jobs.running();
        if (running) throw new ApiError(409, 'busy', `import ${running.id} is still running`);
      };
      if (big) oneAtATime();
      const file = await importRows(body, format);
      const run = (out: ReportRow[], signal?: AbortSignal) => runImport(ctx.store, file.rows, {
        dryRun, partial, rules, signal,
        audit: (w, subject, before, after) => audit({ ...ctx, store: w, admin: w.admin }, req, subject, before, after),
      }, out);
      if (big) {
        oneAtATime(); // again: reading the file took a while
        const job = jobs.start(dryRun, file.total, run);
        // Sent here: the route table answers 200 otherwise.
        return req.reply.code(202).header('location', `${IMPORT_URL}/jobs/${job.id}`).send(jobs.view(job, { offset: 0, limit: 0 }));
      }
      const rows: ReportRow[] = [];
      const applied = await run(rows);
      return { dryRun, applied, summary: summaryOf(rows), rows };
    },
  });

  t.add({
    method: 'GET', url: `${IMPORT_URL}/jobs/:id`, tag: 'users', access: 'write',
    summary: 'Progress and report of an import job',
    description: 'done of total rows handled so far, the summary of those, and their report rows a page at a time ' +
      '(offset, limit). Kept for an hour after it ends (the last five jobs).',
    params: importJobParams,
    query: importJobQuery,
    response: { description: 'the job', schema: importJobSchema },
    errors: [404],
    handler: (req) => {
      const job = jobs.get(req.params.id);
      if (!job) throw new ApiError(404, 'not-found', `no import job ${req.params.id}`);
      return jobs.view(job, req.query);
    },
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ApiError(400, 'validation', `file: not JSON (${(err as Error).message})`, {
      issues: [{ path: 'file', in: 'body', message: 'not JSON' }],
    });
  }
}
