// GET /api/users/:ext/detail and GET /api/status/extensions (issue 12 item 1):
// why a phone is or is not working, and every extension's state, paged; and
// GET /api/status/conferences, the rooms in progress.
import type { ExtensionView } from '../pbx/status/extension-view.ts';
import { extensionDetailSchema, extensionListQuery, extensionListSchema, strangerFailuresSchema } from '../model/extension-detail.ts';
import { activeConferenceSchema } from '../model/status.ts';
import { z } from 'zod';
import { ApiError } from './errors.ts';
import type { ExtraRoutes } from './http-server.ts';
import { extParams } from './schemas.ts';

export function extensionRoutes(view: ExtensionView): ExtraRoutes {
  return (_app, t) => {
    t.add({
      method: 'GET', url: '/api/users/:ext/detail', tag: 'status', access: 'read',
      summary: "Why an extension's phones work or not",
      description: 'Registration per contact (address, transport, user agent, expiry, last REGISTER, OPTIONS ' +
        'reachability of UDP contacts with the last probe and its round trip), the last registration failures ' +
        'in plain words (wrong password, unknown user, banned until, transport not allowed, account disabled, ' +
        'TLS handshakes from its addresses), last seen, media stream, current and recent calls, forwarding and ' +
        'do not disturb. In a cluster every worker is asked.',
      params: extParams,
      response: { description: 'the detail', schema: extensionDetailSchema },
      errors: [404],
      handler: async (req) => {
        const detail = await view.detail(req.params.ext);
        if (!detail) throw new ApiError(404, 'not-found', `no user ${req.params.ext}`);
        return detail;
      },
    });

    t.add({
      method: 'GET', url: '/api/status/extensions', tag: 'status', access: 'read', watch: true,
      summary: 'Every extension with its state, filtered, sorted and paged',
      description: 'Registered, unregistered, failed (refused since it last got in), unreachable (a UDP contact ' +
        'does not answer OPTIONS) and in-call extensions; counts gives each state over all extensions.',
      query: extensionListQuery,
      response: { description: 'one page', schema: extensionListSchema },
      handler: (req) => view.list(req.query),
    });

    t.add({
      method: 'GET', url: '/api/status/conferences', tag: 'status', access: 'read', watch: true,
      summary: 'Conferences in progress',
      description: 'Every open room (meet-me rooms by number, the ad-hoc rooms of the conference code) with its participants ' +
        'and, in a cluster, the worker whose media server mixes it; every worker is asked.',
      response: { description: 'the rooms, meet-me rooms first', schema: z.object({ items: z.array(activeConferenceSchema) }) },
      handler: async () => ({ items: await view.conferences() }),
    });

    t.add({
      method: 'GET', url: '/api/status/registration-failures', tag: 'status', access: 'read', watch: true,
      summary: 'Refused registrations no user can be named for',
      description: 'REGISTERs and INVITEs naming a user nobody has (a phone set up with a wrong number or name), ' +
        'and TLS handshakes that failed (with why, from which address): the last 50 of every worker, newest first.',
      response: { description: 'the refusals', schema: strangerFailuresSchema },
      handler: async () => ({ items: await view.strangers() }),
    });
  };
}
