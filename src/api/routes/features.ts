// /api/hunt-groups and /api/short-codes: the data the call engine's hunt
// group and short code stages read. Request and response schemas are the
// models' (src/model/hunt-group.ts, src/model/short-code.ts).
import { z } from 'zod';
import { extensionSchema } from '../../model/common.ts';
import {
  huntGroupCreateSchema, huntGroupPatchSchema, huntGroupViewSchema, type HuntGroup,
} from '../../model/hunt-group.ts';
import {
  shortCodeInputSchema, shortCodePatchSchema, shortCodePatternSchema, shortCodeViewSchema, type ShortCode,
} from '../../model/short-code.ts';
import { audit, type ApiContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import type { RouteTable } from '../route.ts';

const groupParams = z.object({ number: extensionSchema });
const memberParams = z.object({ number: extensionSchema, ext: extensionSchema });
const codeParams = z.object({ code: shortCodePatternSchema.describe("the pattern, URL-encoded ('#' as %23)") });

const copyGroup = (g: HuntGroup) => ({ ...g, members: g.members.map((m) => ({ ...m })) });

export function featureRoutes(t: RouteTable, ctx: ApiContext): void {
  const groups = () => ctx.store.huntGroups;
  const codes = () => ctx.store.shortCodes;
  const mustGroup = async (n: string) => await groups().get(n) ?? (() => { throw new ApiError(404, 'not-found', `no hunt group ${n}`); })();
  const mustCode = async (c: string): Promise<ShortCode> => await codes().get(c) ?? (() => { throw new ApiError(404, 'not-found', `no short code ${c}`); })();

  t.add({
    method: 'GET', url: '/api/hunt-groups', tag: 'hunt groups', access: 'read',
    summary: 'List hunt groups',
    response: { description: 'every group, members in hunting order', schema: z.object({ items: z.array(huntGroupViewSchema) }) },
    handler: async () => ({ items: (await groups().list()).map(copyGroup) }),
  });

  t.add({
    method: 'POST', url: '/api/hunt-groups', tag: 'hunt groups', access: 'write',
    summary: 'Add a hunt group',
    description: 'The number must be no user extension and match no short code (409 conflict); members must be users.',
    body: huntGroupCreateSchema,
    response: { status: 201, description: 'added', schema: huntGroupViewSchema },
    errors: [404, 409],
    handler: async (req) => {
      const g = await groups().add(req.body);
      await audit(ctx, req, `hunt-group:${g.number}`, null, g);
      return copyGroup(g);
    },
  });

  t.add({
    method: 'GET', url: '/api/hunt-groups/:number', tag: 'hunt groups', access: 'read',
    summary: 'One hunt group',
    params: groupParams,
    response: { description: 'the group', schema: huntGroupViewSchema },
    errors: [404],
    handler: async (req) => copyGroup(await mustGroup(req.params.number)),
  });

  t.add({
    method: 'PATCH', url: '/api/hunt-groups/:number', tag: 'hunt groups', access: 'write',
    summary: 'Change a hunt group',
    description: 'Only the fields sent change. Members that stay keep their logged-in state; new ones start logged in.',
    params: groupParams,
    body: huntGroupPatchSchema,
    response: { description: 'the changed group', schema: huntGroupViewSchema },
    errors: [404, 409],
    handler: async (req) => {
      const before = await mustGroup(req.params.number);
      const after = await groups().update(req.params.number, req.body);
      await audit(ctx, req, `hunt-group:${before.number}`, before, after);
      return copyGroup(after);
    },
  });

  t.add({
    method: 'PUT', url: '/api/hunt-groups/:number/members/:ext', tag: 'hunt groups', access: 'write',
    summary: 'Log a member in or out',
    params: memberParams,
    body: z.object({ loggedIn: z.boolean() }).strict(),
    response: { description: 'the group', schema: huntGroupViewSchema },
    errors: [404],
    handler: async (req) => {
      const before = await mustGroup(req.params.number);
      const after = await groups().setMemberLoggedIn(req.params.number, req.params.ext, req.body.loggedIn);
      await audit(ctx, req, `hunt-group:${before.number}`, before, after);
      return copyGroup(after);
    },
  });

  t.add({
    method: 'DELETE', url: '/api/hunt-groups/:number', tag: 'hunt groups', access: 'write',
    summary: 'Remove a hunt group',
    params: groupParams,
    response: { status: 204, description: 'removed' },
    errors: [404],
    handler: async (req) => {
      const before = await groups().remove(req.params.number);
      await audit(ctx, req, `hunt-group:${before.number}`, before, null);
    },
  });

  t.add({
    method: 'GET', url: '/api/short-codes', tag: 'short codes', access: 'read',
    summary: 'List short codes in matching order',
    response: { description: 'the table; the first code that matches a dialled number wins', schema: z.object({ items: z.array(shortCodeViewSchema) }) },
    handler: async () => ({ items: await codes().list() }),
  });

  t.add({
    method: 'POST', url: '/api/short-codes', tag: 'short codes', access: 'write',
    summary: 'Add a short code',
    description: 'A code that could match a user extension or a hunt group number is refused (409 conflict).',
    body: shortCodeInputSchema,
    response: { status: 201, description: 'added', schema: shortCodeViewSchema },
    errors: [409],
    handler: async (req) => {
      const c = await codes().add(req.body);
      await audit(ctx, req, `short-code:${c.code}`, null, c);
      return c;
    },
  });

  t.add({
    method: 'PATCH', url: '/api/short-codes/:code', tag: 'short codes', access: 'write',
    summary: 'Change or move a short code',
    params: codeParams,
    body: shortCodePatchSchema,
    response: { description: 'the changed code', schema: shortCodeViewSchema },
    errors: [404, 409],
    handler: async (req) => {
      const before = await mustCode(req.params.code);
      const after = await codes().update(req.params.code, req.body);
      await audit(ctx, req, `short-code:${before.code}`, before, after);
      return after;
    },
  });

  t.add({
    method: 'DELETE', url: '/api/short-codes/:code', tag: 'short codes', access: 'write',
    summary: 'Remove a short code',
    params: codeParams,
    response: { status: 204, description: 'removed' },
    errors: [404],
    handler: async (req) => {
      const before = await codes().remove(req.params.code);
      await audit(ctx, req, `short-code:${before.code}`, before, null);
    },
  });
}
