// GET /api/gateway/status and POST /api/gateway/lines/reregister (issue 15
// items 5 and 7, B-32, B-14): the live state of the upstream lines, from the
// process that registers them (the management worker of a cluster holds them).
import { z } from 'zod';
import { extensionSchema } from '../../model/common.ts';
import { gatewayStatusSchema } from '../../model/gateway.ts';
import type { GatewayLines } from '../../gateway/types.ts';
import { audit } from '../context.ts';
import { ApiError } from '../errors.ts';
import type { ExtraRoutes } from '../http-server.ts';

export const reregisterBodySchema = z.object({
  /** The users whose lines re-register; absent = every line. */
  extensions: z.array(extensionSchema).min(1).max(10_000).optional(),
}).strict();

export function gatewayStatusRoutes(lines: () => GatewayLines | undefined): ExtraRoutes {
  const must = () => lines() ?? (() => { throw new ApiError(503, 'unavailable', 'the handset gateway does not run in this server'); })();
  return (_app, t, ctx) => {
    t.add({
      method: 'GET', url: '/api/gateway/status', tag: 'gateway', access: 'read', watch: true,
      summary: 'Upstream lines: registration, failure reason, MWI, latest activity; the List Users counters',
      description: 'Per gateway user: registration state upstream, the proxy that accepted it, the last failure ' +
        'reason in words (code for scripts), MWI subscription state and latest activity; counters SIP users, subscribed, registered, total (SPEC B.1).',
      response: { description: 'lines by extension', schema: gatewayStatusSchema },
      errors: [503],
      handler: async () => must().status(),
    });
    t.add({
      method: 'POST', url: '/api/gateway/lines/reregister', tag: 'gateway', access: 'write',
      summary: 'Register lines upstream again now (bulk re-register, B-14)',
      body: reregisterBodySchema,
      response: { description: 'how many lines register again', schema: z.object({ lines: z.number().int() }) },
      errors: [503],
      handler: async (req) => {
        const l = must();
        const list = req.body.extensions?.filter((e) => l.isGatewayUser(e));
        l.reregister(list);
        const count = list?.length ?? l.status().lines.filter((s) => s.registration !== 'disabled').length;
        await audit(ctx, req, 'gateway:lines', null, { reregister: req.body.extensions ?? 'all' }, 're-register gateway lines');
        return { lines: count };
      },
    });
  };
}
