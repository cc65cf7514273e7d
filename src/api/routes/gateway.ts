// /api/gateway: the handset gateway's settings, upstream proxies and lines as
// stored (issue 15). Passwords are write-only: a line shows hasPassword.
import { z } from 'zod';
import { extensionSchema } from '../../model/common.ts';
import {
  gatewaySettingsPatchSchema, gatewaySettingsSchema, lineFieldSchemas, lineInputSchema, linePatchSchema, lineViewSchema, proxySchema, proxyViewSchema,
} from '../../model/gateway.ts';
import { importGatewayLines } from '../../provisioning/gateway-lines-import.ts';
import { GatewayUsersError, MAX_GATEWAY_FILE_BYTES } from '../../provisioning/gateway-users.ts';
import { setLinesDisabled } from '../../store/gateway-bulk.ts';
import { lineNotFound } from '../../store/gateway-rows.ts';
import { audit, type ApiContext } from '../context.ts';
import { ApiError, validationError } from '../errors.ts';
import type { RouteTable } from '../route.ts';
import { queryBool } from '../schemas.ts';

const lineParams = z.object({ extension: extensionSchema });
const proxyParams = z.object({ id: z.coerce.number().int().min(1) });
/** PUT body: password left out (not defaulted to ''), so a replaced line keeps it. */
const lineBodySchema = lineInputSchema.omit({ extension: true }).extend({ password: lineFieldSchemas.password.optional() });
const bulkSchema = z.object({
  action: z.enum(['enable', 'disable']),
  /** The extensions whose lines to change, or 'all'. */
  extensions: z.union([z.array(extensionSchema).min(1).max(4096), z.literal('all')]),
}).strict();
const importRowSchema = z.object({
  row: z.number().int(), extension: z.string(), action: z.enum(['added', 'updated', 'error']), error: z.string().optional(),
  passwordKept: z.boolean().optional(), needsPassword: z.boolean().optional(),
});
const importResultSchema = z.object({
  dryRun: z.boolean(), rows: z.array(importRowSchema),
  warnings: z.array(z.string()).describe('about the file as a whole: columns it sets that Switchboard does not hold'), added: z.number().int(), updated: z.number().int(), errors: z.number().int(),
});

export function gatewayRoutes(t: RouteTable, ctx: ApiContext): void {
  const gw = () => ctx.store.gateway;

  t.add({
    method: 'GET', url: '/api/gateway/settings', tag: 'gateway', access: 'read',
    summary: 'The gateway settings',
    response: { description: 'every setting, defaults filled in', schema: gatewaySettingsSchema },
    handler: () => gw().settings(),
  });

  t.add({
    method: 'PATCH', url: '/api/gateway/settings', tag: 'gateway', access: 'write',
    summary: 'Change gateway settings',
    description: 'Any subset of the settings; the result is validated as a whole. A profile whose handset limit is below ' +
      'the lines there are is refused. Applies to the running gateway (lines re-register where the change needs it).',
    body: gatewaySettingsPatchSchema,
    response: { description: 'the settings after the change', schema: gatewaySettingsSchema },
    handler: async (req) => {
      const before = await gw().settings();
      const after = await gw().updateSettings(req.body);
      await audit(ctx, req, 'gateway:settings', before, after);
      return after;
    },
  });

  t.add({
    method: 'GET', url: '/api/gateway/proxies', tag: 'gateway', access: 'read',
    summary: 'Upstream proxies, in the order they are tried',
    response: { description: 'the proxies', schema: z.object({ items: z.array(proxyViewSchema) }) },
    handler: async () => ({ items: await gw().listProxies() }),
  });

  t.add({
    method: 'POST', url: '/api/gateway/proxies', tag: 'gateway', access: 'write',
    summary: 'Add an upstream proxy',
    description: 'At most 4; a URI may be listed once.',
    body: proxySchema,
    response: { status: 201, description: 'added', schema: proxyViewSchema },
    handler: async (req) => {
      const p = await gw().addProxy(req.body);
      await audit(ctx, req, `gateway:proxy:${p.id}`, null, p);
      return p;
    },
  });

  t.add({
    method: 'DELETE', url: '/api/gateway/proxies/:id', tag: 'gateway', access: 'write',
    summary: 'Remove an upstream proxy',
    params: proxyParams,
    response: { status: 204, description: 'removed' },
    errors: [404],
    handler: async (req) => {
      const p = await gw().removeProxy(req.params.id);
      await audit(ctx, req, `gateway:proxy:${p.id}`, p, null);
    },
  });

  t.add({
    method: 'GET', url: '/api/gateway/lines', tag: 'gateway', access: 'read',
    summary: 'Gateway lines as stored (one per gateway user)',
    response: { description: 'every line, by extension; no passwords', schema: z.object({ items: z.array(lineViewSchema) }) },
    handler: async () => ({ items: await gw().listLines() }),
  });

  t.add({
    method: 'GET', url: '/api/gateway/lines/:extension', tag: 'gateway', access: 'read',
    summary: "A user's gateway line as stored",
    description: '404 for an unknown extension and for a user without a line.',
    params: lineParams,
    response: { description: 'the line, as in the list; no password', schema: lineViewSchema },
    errors: [404],
    handler: async (req) => {
      const line = await gw().getLine(req.params.extension);
      if (!line) throw lineNotFound(req.params.extension);
      return line;
    },
  });

  t.add({
    method: 'PUT', url: '/api/gateway/lines/:extension', tag: 'gateway', access: 'write',
    summary: "Create or replace a user's gateway line",
    description: "Fields left out take their defaults, except password: left out, a replaced line keeps its password (\"\" clears it). " +
      "Refused beyond the capacity profile's handset limit and for an IPEI another line has (409).",
    params: lineParams,
    body: lineBodySchema,
    response: { description: 'the line', schema: lineViewSchema },
    errors: [404, 409],
    handler: async (req) => {
      const before = await gw().getLine(req.params.extension);
      const after = await gw().setLine({ ...req.body, extension: req.params.extension });
      await audit(ctx, req, `gateway:line:${after.extension}`, before ?? null, after);
      return after;
    },
  });

  t.add({
    method: 'PATCH', url: '/api/gateway/lines/:extension', tag: 'gateway', access: 'write',
    summary: "Change fields of a user's gateway line",
    params: lineParams,
    body: linePatchSchema,
    response: { description: 'the line', schema: lineViewSchema },
    errors: [404, 409],
    handler: async (req) => {
      const before = await gw().getLine(req.params.extension);
      const after = await gw().updateLine(req.params.extension, req.body);
      await audit(ctx, req, `gateway:line:${after.extension}`, before ?? null, after);
      return after;
    },
  });

  t.add({
    method: 'DELETE', url: '/api/gateway/lines/:extension', tag: 'gateway', access: 'write',
    summary: "Remove a user's gateway line (the user stays)",
    params: lineParams,
    response: { status: 204, description: 'removed' },
    errors: [404],
    handler: async (req) => {
      const before = await gw().removeLine(req.params.extension);
      await audit(ctx, req, `gateway:line:${before.extension}`, before, null);
    },
  });

  t.add({
    method: 'POST', url: '/api/gateway/lines/bulk', tag: 'gateway', access: 'write',
    summary: 'Enable or disable many lines',
    description: 'Every extension must have a line (404 naming those without, and nothing changes); "all" is every line.',
    body: bulkSchema,
    response: { description: 'the changed lines', schema: z.object({ items: z.array(lineViewSchema) }) },
    errors: [404],
    handler: async (req) => {
      const items = await setLinesDisabled(ctx.store, req.body.extensions, req.body.action === 'disable');
      await audit(ctx, req, 'gateway:lines', null, { action: req.body.action, extensions: items.map((l) => l.extension) });
      return { items };
    },
  });

  t.add({
    method: 'POST', url: '/api/gateway/lines/import', tag: 'gateway', access: 'write',
    summary: 'Import a gateway users file into lines',
    description: 'The file GET /api/provisioning/gateway-users writes (CSV as text/csv, or JSON). Each record is the line of ' +
      'its extension (the username when there is no extension column). A record without a password keeps the stored ' +
      'one; a new line without one starts disabled (needsPassword). callForward sets the user\'s unconditional forward ' +
      '(empty: none; no such column: unchanged); dectToDect and adminRights are not held here and draw a warning. ' +
      'An unguarded CSV cell starting with = + - or @ is refused. Good rows are applied, bad ones reported; with ' +
      'dryRun=true nothing changes.',
    query: z.object({ dryRun: queryBool.default(false) }).strict(),
    docBody: {
      'text/csv': z.string().describe('ipei,accessCode,standbyText,username,domain,...,extension'),
      'application/json': z.object({ users: z.array(z.record(z.string(), z.unknown())) }),
    },
    bodyLimit: MAX_GATEWAY_FILE_BYTES,
    response: { description: 'row-by-row report', schema: importResultSchema },
    errors: [413],
    handler: async (req) => {
      const body: unknown = req.body;
      if (body === undefined || body === null || body === '') throw validationError([{ path: 'file', in: 'body', message: 'send the file as the body' }]);
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      let r;
      try {
        r = await importGatewayLines(ctx.store, text, { dryRun: req.query.dryRun });
      } catch (err) {
        if (err instanceof GatewayUsersError) throw new ApiError(400, 'validation', err.message, { issues: [{ path: 'file', in: 'body', message: err.message }] });
        throw err;
      }
      if (!r.dryRun) await audit(ctx, req, 'gateway:lines', null, { imported: { added: r.added, updated: r.updated, errors: r.errors } });
      return r;
    },
  });
}
