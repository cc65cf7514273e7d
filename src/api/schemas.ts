// Request and response schemas of the REST API. The same objects validate
// requests and produce the OpenAPI document (openapi.ts). Resource fields come
// from the models (src/model/), which the store validates writes with too, so
// the document tells clients exactly what will be accepted.
import { z } from 'zod';
import { extensionSchema } from '../model/common.ts';
import { didNumberSchema, didViewSchema, trunkNameSchema } from '../model/trunk.ts';
import { mediaValues } from '../model/user.ts';
import { ADMIN_ROLES, type AdminRole } from '../store/admin-types.ts';

// --- shared -----------------------------------------------------------------

export const errorSchema = z.object({
  error: z.string().describe("machine-readable code, e.g. 'validation', 'csrf', 'password-change-required'"),
  message: z.string().optional(),
  issues: z.array(z.object({ path: z.string(), in: z.enum(['body', 'query', 'params']).optional(), message: z.string() })).optional(),
  role: z.string().optional().describe('the role the request needs (403 forbidden)'),
});

/** Query booleans arrive as text. */
export const queryBool = z.enum(['true', 'false']).transform((v) => v === 'true');

export const paging = {
  offset: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
};

export const okSchema = z.object({ ok: z.literal(true) });

// --- users: the user model (src/model/user.ts) ---------------------------------

export { mediaValues, userCreateSchema, userPatchSchema, userViewSchema } from '../model/user.ts';
const extension = extensionSchema;

export const USER_SORT_KEYS = ['extension', 'name', 'authUser', 'enabled', 'createdAt', 'updatedAt'] as const;
const sortValues = USER_SORT_KEYS.flatMap((k) => [k, `-${k}`]) as [string, ...string[]];

export const userListQuery = z
  .object({
    ...paging,
    search: z.string().max(128).optional().describe('substring of extension, name, full name or auth user'),
    sort: z.enum(sortValues).default('extension').describe("field to sort by; '-' in front for descending"),
    enabled: queryBool.optional(),
  })
  .strict();

export const extParams = z.object({ ext: extension });

export const bulkSchema = z
  .object({
    action: z.enum(['enable', 'disable', 'delete']),
    extensions: z.array(z.string().min(1).max(64)).min(1).max(10_000),
  })
  .strict();

export const bulkResultSchema = z.object({
  results: z.array(z.object({ extension: z.string(), ok: z.boolean(), error: z.string().optional() })),
});

export const listOf = <T extends z.ZodType>(item: T) =>
  z.object({ total: z.number().int(), offset: z.number().int(), limit: z.number().int(), items: z.array(item) });

// --- import / export --------------------------------------------------------

export const exportQuery = z
  .object({
    format: z.enum(['csv', 'json']).default('csv'),
    passwords: queryBool.default(false).describe('include login codes and voicemail codes (admin role only)'),
  })
  .strict();

export const importQuery = z
  .object({
    format: z.enum(['csv', 'json']).optional().describe('default: csv for a text/csv body, json otherwise'),
    dryRun: queryBool.default(false).describe('report what would change, change nothing'),
    partial: queryBool.default(false).describe('apply the good rows of a file with bad ones (by default such a file changes nothing)'),
  })
  .strict();

const importRowSchema = z.object({
  row: z.number().int().describe('CSV: record number with the header as 1; JSON: index + 1'),
  extension: z.string(),
  action: z.enum(['add', 'update', 'error']),
  error: z.string().optional(),
  changes: z.array(z.string()).optional()
    .describe('update: the fields the row changes, media keys as media.KEY (secrets by name only)'),
  media: z.object(mediaValues).partial().optional()
    .describe("add and update: the user's media settings after the row; a key left out follows the system"),
});
const importSummarySchema = z.object({ add: z.number().int(), update: z.number().int(), error: z.number().int() });

export const importReportSchema = z.object({
  dryRun: z.boolean(),
  applied: z.boolean().describe('whether anything was written: false for a dry run and for a file with errors without partial'),
  summary: importSummarySchema,
  rows: z.array(importRowSchema),
});

export const importJobParams = z.object({ id: z.string().uuid() });
export const importJobQuery = z.object({
  ...paging,
  action: z.enum(['add', 'update', 'error']).optional().describe('only the report rows with this action (e.g. the errors)'),
}).strict();

export const importJobSchema = z.object({
  id: z.string(),
  state: z.enum(['running', 'done', 'failed']),
  dryRun: z.boolean(),
  total: z.number().int().describe('data rows in the file'),
  done: z.number().int().describe('rows handled so far'),
  startedAt: z.number().int(),
  finishedAt: z.number().int().nullable(),
  applied: z.boolean().nullable().describe('whether rows were written (false: a dry run, or a file with errors without partial); null until done'),
  error: z.string().optional().describe('failed: why the import stopped (the rows before it were applied)'),
  summary: importSummarySchema.describe('of the rows handled so far'),
  rows: listOf(importRowSchema).describe('the report rows handled so far (with action: those rows), a page at a time (offset, limit)'),
});

// --- trunks, DIDs, calls ----------------------------------------------------

// Trunks and DIDs: the trunk model (src/model/trunk.ts).
export { didCreateSchema, trunkCreateSchema, trunkPatchSchema, trunkViewSchema } from '../model/trunk.ts';
export const trunkParams = z.object({ name: trunkNameSchema });
export const didParams = z.object({ number: didNumberSchema });
export const didSchema = didViewSchema;

export { cdrSchema } from '../model/call-log.ts';

// --- administrators, session, audit ----------------------------------------

const adminName = z.string().regex(/^[A-Za-z0-9_.@-]{1,64}$/, 'must be 1-64 letters, digits or _.@-');
const roles = z.array(z.enum(ADMIN_ROLES as unknown as [AdminRole, ...AdminRole[]])).min(1).max(3);

export const loginSchema = z.object({ name: z.string().min(1).max(128), password: z.string().min(1).max(1024) }).strict();

export const sessionSchema = z.object({
  name: z.string(),
  roles: z.array(z.string()),
  csrfToken: z.string().describe('send as x-csrf-token on every request that is not GET'),
  mustChangePassword: z.boolean(),
  idleMinutes: z.number(),
  watchOnly: z.boolean().describe('idle, kept open by a visible status page: the status can be read, nothing changed; log in again to edit'),
});

export const passwordChangeSchema = z
  .object({ currentPassword: z.string().min(1).max(1024), newPassword: z.string().min(1).max(1024) })
  .strict();

export const adminViewSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  roles: z.array(z.string()),
  mustChangePassword: z.boolean(),
  passwordChangedAt: z.number().int(),
  enabled: z.boolean(),
  createdAt: z.number().int(),
  updatedAt: z.number().int(),
});

export const adminCreateSchema = z
  .object({
    name: adminName,
    roles,
    password: z.string().min(1).max(256).optional().describe('omit to have a one-time password generated'),
    enabled: z.boolean().optional(),
  })
  .strict();

export const adminPatchSchema = z
  .object({
    name: adminName.optional(),
    roles: roles.optional(),
    enabled: z.boolean().optional(),
    password: z.string().min(1).max(256).optional().describe('a new password the account must change at its next login'),
    resetPassword: z.literal(true).optional().describe('generate a one-time password'),
  })
  .strict();

export const adminParams = z.object({ name: adminName });

export const adminWithPasswordSchema = adminViewSchema.extend({
  oneTimePassword: z.string().optional().describe('shown once: the generated password'),
});

export const auditQuery = z
  .object({
    ...paging,
    actor: z.string().min(1).max(128).optional(),
    target: z.string().min(1).max(128).optional(),
    since: z.coerce.number().int().min(0).optional().describe('epoch ms, inclusive'),
    until: z.coerce.number().int().min(0).optional().describe('epoch ms, exclusive'),
    action: z.string().min(1).max(128).optional().describe('substring of the action, e.g. DELETE or login'),
  })
  .strict();

export const auditEntrySchema = z.object({
  id: z.number().int(),
  at: z.number().int(),
  actor: z.string(),
  sourceIp: z.string().nullable(),
  action: z.string(),
  target: z.string(),
  before: z.unknown(),
  after: z.unknown(),
});
