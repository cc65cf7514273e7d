// /api/ivr-menus: the auto attendant's menus (src/model/ivr-menu.ts). A PUT
// replaces the whole menu, as `switchboard ivr set --file menu.json` does.
import { z } from 'zod';
import { extensionSchema } from '../../model/common.ts';
import { ivrMenuBodySchema, ivrMenuViewSchema, type IvrMenu } from '../../model/ivr-menu.ts';
import { audit, type ApiContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import type { RouteTable } from '../route.ts';

const params = z.object({ number: extensionSchema });

const view = (m: IvrMenu) => ({ ...m, options: { ...m.options } });

export function ivrRoutes(t: RouteTable, ctx: ApiContext): void {
  const menus = () => ctx.store.ivrMenus;

  t.add({
    method: 'GET', url: '/api/ivr-menus', tag: 'ivr', access: 'read',
    summary: 'List IVR menus',
    response: { description: 'every menu, by number', schema: z.object({ items: z.array(ivrMenuViewSchema) }) },
    handler: async () => ({ items: (await menus().list()).map(view) }),
  });

  t.add({
    method: 'GET', url: '/api/ivr-menus/:number', tag: 'ivr', access: 'read',
    summary: 'One IVR menu',
    params,
    response: { description: 'the menu', schema: ivrMenuViewSchema },
    errors: [404],
    handler: async (req) => view(await menus().get(req.params.number) ?? (() => { throw new ApiError(404, 'not-found', `no IVR menu ${req.params.number}`); })()),
  });

  t.add({
    method: 'PUT', url: '/api/ivr-menus/:number', tag: 'ivr', access: 'write',
    summary: 'Add or replace an IVR menu',
    description: 'The number must be no user extension, hunt group, conference room or the voicemail number and match no ' +
      'short code (409). The greeting and menus named must exist (404). Menus that would send each other on without ' +
      'the caller pressing a key (on timeout or invalid input) are refused (400); a digit back to an earlier menu is fine.',
    params,
    body: ivrMenuBodySchema,
    response: { description: 'the menu as stored', schema: ivrMenuViewSchema },
    errors: [404, 409],
    handler: async (req) => {
      const before = await menus().get(req.params.number);
      const after = await menus().set({ ...req.body, number: req.params.number });
      await audit(ctx, req, `ivr-menu:${after.number}`, before ?? null, after);
      return view(after);
    },
  });

  t.add({
    method: 'DELETE', url: '/api/ivr-menus/:number', tag: 'ivr', access: 'write',
    summary: 'Remove an IVR menu',
    description: 'Refused (409) while another menu sends callers to it.',
    params,
    response: { status: 204, description: 'removed' },
    errors: [404, 409],
    handler: async (req) => {
      const before = await menus().remove(req.params.number);
      await audit(ctx, req, `ivr-menu:${before.number}`, before, null);
    },
  });
}
