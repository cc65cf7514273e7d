// Import and export of users as CSV or JSON (issue 5 item 2, SPEC 4.7).
// Exports leave login and voicemail codes out unless asked; imports can run
// dry, reporting row by row what they would do while changing nothing.
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { isStoreError } from '../../store/errors.ts';
import type { User, UserRepository } from '../../store/types.ts';
import { MEDIA_KEYS } from '../../model/user.ts';
import { USER_CSV_FIELDS } from '../../model/user-csv.ts';
import { missingRole } from '../auth.ts';
import { audit, type ApiContext } from '../context.ts';
import { ApiError, zodIssues } from '../errors.ts';
import type { ApiRequest, RouteTable } from '../route.ts';
import { exportQuery, importQuery, importReportSchema, userCreateSchema, userPatchSchema } from '../schemas.ts';
import { csvRows, exportRecord, jsonRows, toCsv, type ImportRow } from '../user-io.ts';

type Report = z.output<typeof importReportSchema>;

const IMPORT_BODY_LIMIT = 32 * 1024 * 1024;

function issueText(error: z.ZodError): string {
  return zodIssues(error, 'body').map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
}

const COMPARED = USER_CSV_FIELDS;

/** What an update changed, by field name (a secret's name only, never its value). */
function changedFields(before: User, after: User): string[] {
  const out: string[] = COMPARED.filter((k) => !isDeepStrictEqual(before[k], after[k]));
  for (const k of MEDIA_KEYS) if (before.media[k] !== after.media[k]) out.push(`media.${k}`);
  return out;
}

/** One row at a time, in file order: a later row may depend on an earlier one (a renumbering). */
async function applyRows(
  ctx: ApiContext, users: UserRepository, rows: readonly ImportRow[], req: ApiRequest<unknown, unknown, unknown> | null,
): Promise<Report['rows']> {
  const out: Report['rows'] = [];
  for (const r of rows) out.push(await applyRow(ctx, users, r, req));
  return out;
}

async function applyRow(
  ctx: ApiContext, users: UserRepository, r: ImportRow, req: ApiRequest<unknown, unknown, unknown> | null,
): Promise<Report['rows'][number]> {
  if (r.error) return { row: r.row, extension: r.extension, action: 'error' as const, error: r.error };
  try {
    const before = r.extension ? await users.getByExtension(r.extension) : undefined;
    if (before) {
      const patch = userPatchSchema.safeParse(r.fields);
      if (!patch.success) return { row: r.row, extension: r.extension, action: 'error' as const, error: issueText(patch.error) };
      const after = await users.update(before.extension, patch.data);
      if (req) await audit(ctx, req, `user:${before.extension}`, before, after);
      return { row: r.row, extension: r.extension, action: 'update' as const, changes: changedFields(before, after), media: { ...after.media } };
    }
    const input = userCreateSchema.safeParse(r.fields);
    if (!input.success) return { row: r.row, extension: r.extension, action: 'error' as const, error: issueText(input.error) };
    const after = await users.add(input.data);
    if (req) await audit(ctx, req, `user:${after.extension}`, null, after);
    return { row: r.row, extension: r.extension, action: 'add' as const, media: { ...after.media } };
  } catch (err) {
    if (!isStoreError(err)) throw err;
    return { row: r.row, extension: r.extension, action: 'error' as const, error: err.message };
  }
}

export function importExportRoutes(t: RouteTable, ctx: ApiContext): void {
  t.add({
    method: 'GET', url: '/api/users/export', tag: 'users', access: 'read',
    summary: 'Export users as CSV or JSON',
    description: 'Login codes and voicemail codes are left out unless passwords=true, which needs the admin role. ' +
      'Media settings: JSON carries the media object (the user\'s own keys), CSV one column per key ' +
      '(media.security, ...), empty meaning the system value. The file imports back through POST /api/users/import.',
    query: exportQuery,
    response: { description: 'the file', contentTypes: ['text/csv', 'application/json'] },
    errors: [403],
    handler: async (req) => {
      const { format, passwords } = req.query;
      const role = passwords ? missingRole(req.principal!.account, 'write') : null;
      if (role) throw new ApiError(403, 'forbidden', `exporting passwords needs the ${role} role`, { role });
      const { users } = await ctx.store.users.snapshot();
      if (passwords) {
        await audit(ctx, req, 'users', null, { exported: users.length, withPasswords: true }, 'GET /api/users/export (with passwords)');
      }
      void req.reply.header('content-disposition', `attachment; filename="users.${format}"`);
      void req.reply.header('cache-control', 'no-store');
      if (format === 'csv') {
        void req.reply.type('text/csv; charset=utf-8');
        return toCsv(users, passwords);
      }
      void req.reply.type('application/json; charset=utf-8');
      return JSON.stringify(users.map((u) => exportRecord(u, passwords)));
    },
  });

  t.add({
    method: 'POST', url: '/api/users/import', tag: 'users', access: 'write',
    summary: 'Import users from CSV or JSON',
    description: 'CSV (text/csv) with a header row naming columns as in the export; JSON: an array of user objects. ' +
      'An existing extension is updated, a new one added; an empty CSV cell leaves the field as it is, except in the ' +
      'media.* columns, where it means the system value (as exported). A JSON media object is the whole media ' +
      'settings: keys left out follow the system. Bad rows are reported and skipped. With dryRun=true nothing ' +
      'changes: the report says what would happen, with the fields each update changes and the media settings after it.',
    query: importQuery,
    docBody: {
      'text/csv': z.string().describe('extension,name,fullName,password,...,media.security,media.dtmf,...'),
      'application/json': z.array(userCreateSchema.partial()),
    },
    bodyLimit: IMPORT_BODY_LIMIT,
    response: { description: 'row-by-row report', schema: importReportSchema },
    errors: [400],
    handler: async (req) => {
      const body: unknown = req.body;
      const format = req.query.format ?? (typeof body === 'string' ? 'csv' : 'json');
      if (format === 'csv' && typeof body !== 'string') {
        throw new ApiError(400, 'validation', 'file: send the CSV with Content-Type text/csv', {
          issues: [{ path: 'file', in: 'body', message: 'send the CSV with Content-Type text/csv' }],
        });
      }
      const rows = format === 'csv' ? csvRows(body as string) : jsonRows(typeof body === 'string' ? parseJson(body) : body);
      const { dryRun } = req.query;
      const results = dryRun
        ? await ctx.store.rehearse((scratch) => applyRows(ctx, scratch.users, rows, null))
        : await applyRows(ctx, ctx.store.users, rows, req);
      const summary = { add: 0, update: 0, error: 0 };
      for (const r of results) summary[r.action]++;
      return { dryRun, summary, rows: results };
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
