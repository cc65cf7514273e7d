// /api/users: the directory (users and extensions).
import { z } from 'zod';
import { isStoreError } from '../../store/errors.ts';
import type { User } from '../../store/types.ts';
import { audit, userRules, type ApiContext } from '../context.ts';
import { userRuleIssues } from '../../model/user-rules.ts';
import { renumberNote } from '../../model/user-renumber.ts';
import { ApiError } from '../errors.ts';
import type { RouteTable } from '../route.ts';
import {
  bulkResultSchema, bulkSchema, extParams, listOf, USER_SORT_KEYS, userCreateSchema, userListQuery, userPatchSchema,
  userViewSchema,
} from '../schemas.ts';
import { userView } from '../user-io.ts';
import { userRulesRoutes } from './user-rules.ts';

type SortKey = (typeof USER_SORT_KEYS)[number];

/** Extensions sort shortest first, like the store, so digit plans come out in numeric order. */
function compare(key: SortKey): (a: User, b: User) => number {
  const byExt = (a: User, b: User) => a.extension.length - b.extension.length || (a.extension < b.extension ? -1 : a.extension > b.extension ? 1 : 0);
  if (key === 'extension') return byExt;
  return (a, b) => {
    const x = a[key];
    const y = b[key];
    const c = typeof x === 'string' && typeof y === 'string'
      ? x.toLowerCase().localeCompare(y.toLowerCase())
      : Number(x) - Number(y);
    return c || byExt(a, b);
  };
}

function matches(u: User, needle: string): boolean {
  return [u.extension, u.name, u.authUser].some((f) => f.toLowerCase().includes(needle));
}

export async function mustGetUser(ctx: ApiContext, ext: string): Promise<User> {
  const u = await ctx.store.users.getByExtension(ext);
  if (!u) throw new ApiError(404, 'not-found', `no user with extension ${ext}`);
  return u;
}

export function userRoutes(t: RouteTable, ctx: ApiContext): void {
  const users = ctx.store.users;
  userRulesRoutes(t, ctx);

  t.add({
    method: 'GET', url: '/api/users', tag: 'users', access: 'read',
    summary: 'List users',
    description: 'Paginated; search matches extension, display name and auth user.',
    query: userListQuery,
    response: { description: 'a page of users and the total that match', schema: listOf(userViewSchema) },
    handler: async (req) => {
      const { offset, limit, search, sort, enabled } = req.query;
      const needle = search?.trim() ?? '';
      if (sort === 'extension' && enabled === undefined) {
        // The store's own order and paging: no need to load the whole directory.
        return { total: await users.count(needle || undefined), offset, limit, items: (await users.list({ offset, limit, search: needle || undefined })).map(userView) };
      }
      let all = (await users.snapshot()).users;
      if (needle) all = all.filter((u) => matches(u, needle.toLowerCase()));
      if (enabled !== undefined) all = all.filter((u) => u.enabled === enabled);
      const desc = sort.startsWith('-');
      const cmp = compare((desc ? sort.slice(1) : sort) as SortKey);
      all.sort(desc ? (a, b) => cmp(b, a) : cmp);
      return { total: all.length, offset, limit, items: all.slice(offset, offset + limit).map(userView) };
    },
  });

  t.add({
    method: 'POST', url: '/api/users', tag: 'users', access: 'write',
    summary: 'Add a user',
    description: 'The extension must match the numbering pattern and the password pass the strength rules of GET /api/user-rules.',
    body: userCreateSchema,
    bodyRules: async (body) => userRuleIssues(body, await userRules(ctx)),
    response: { status: 201, description: 'added', schema: userViewSchema },
    errors: [400, 409],
    handler: async (req) => {
      const u = await users.add(req.body);
      await audit(ctx, req, `user:${u.extension}`, null, u);
      return userView(u);
    },
  });

  t.add({
    method: 'GET', url: '/api/users/:ext', tag: 'users', access: 'read',
    summary: 'One user',
    params: extParams,
    response: { description: 'the user', schema: userViewSchema },
    errors: [404],
    handler: async (req) => userView(await mustGetUser(ctx, req.params.ext)),
  });

  t.add({
    method: 'PATCH', url: '/api/users/:ext', tag: 'users', access: 'write',
    summary: 'Change a user',
    description: 'Only the fields sent change; null clears a nullable field. A new extension renumbers the user: ' +
      'an auth user equal to the old extension follows it, any other stays; notice says which. A new extension and ' +
      'a new password must pass the rules of GET /api/user-rules (a stored password is not judged again).',
    params: extParams,
    body: userPatchSchema,
    bodyRules: async (body, params) => {
      const current = await users.getByExtension(params.ext);
      if (!current) return [];
      const same = body !== null && typeof body === 'object' && (body as { password?: unknown }).password === current.password;
      return userRuleIssues(same ? { ...body, password: undefined } : body, await userRules(ctx), current);
    },
    response: { description: 'the changed user', schema: userViewSchema.extend({ notice: z.string().optional().describe('what a renumbering did to the auth user') }) },
    errors: [400, 404, 409],
    handler: async (req) => {
      const before = await mustGetUser(ctx, req.params.ext);
      const after = await users.update(req.params.ext, req.body);
      await audit(ctx, req, `user:${before.extension}`, before, after);
      const notice = renumberNote(before, after);
      return notice ? { ...userView(after), notice } : userView(after);
    },
  });

  t.add({
    method: 'DELETE', url: '/api/users/:ext', tag: 'users', access: 'write',
    summary: 'Remove a user',
    params: extParams,
    response: { status: 204, description: 'removed' },
    errors: [404],
    handler: async (req) => {
      const before = await users.remove(req.params.ext);
      await audit(ctx, req, `user:${before.extension}`, before, null);
    },
  });

  t.add({
    method: 'POST', url: '/api/users/bulk', tag: 'users', access: 'write',
    summary: 'Enable, disable or remove many users',
    description: 'Each extension is handled on its own; the answer says, per extension, whether it worked.',
    body: bulkSchema,
    response: { description: 'one result per extension', schema: bulkResultSchema },
    handler: async (req) => {
      const { action, extensions } = req.body;
      const results: z.output<typeof bulkResultSchema>['results'] = [];
      for (const ext of extensions) {
        try {
          const before = await mustGetUser(ctx, ext);
          const after = action === 'delete' ? (await users.remove(ext), null) : await users.update(ext, { enabled: action === 'enable' });
          await audit(ctx, req, `user:${ext}`, before, after, `POST /api/users/bulk (${action})`);
          results.push({ extension: ext, ok: true });
        } catch (err) {
          if (!(err instanceof ApiError) && !isStoreError(err)) throw err;
          results.push({ extension: ext, ok: false, error: err.message });
        }
      }
      return { results };
    },
  });
}
