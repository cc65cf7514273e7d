// Lockouts in force (SIP bans and administrator login locks): listed for
// every role, lifted by a security administrator, each lift audited.
import { z } from 'zod';
import { banKindSchema as kind, banSchema, banScopeSchema as scope } from '../../model/ban.ts';
import { banAuditTarget, targetProblem, type BanTarget } from '../../security/bans.ts';
import { audit, type ApiContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import type { RouteTable } from '../route.ts';

export const banListSchema = z.object({ items: z.array(banSchema) });

export const banLiftQuery = z
  .object({
    kind,
    scope,
    user: z.string().min(1).max(256).optional(),
    ip: z.string().min(1).max(64).optional(),
  })
  .strict()
  .superRefine((q, issue) => {
    const problem = targetProblem(q);
    if (problem) issue.addIssue({ code: 'custom', message: problem, path: ['scope'] });
  });

export function banRoutes(t: RouteTable, ctx: ApiContext): void {
  t.add({
    method: 'GET', url: '/api/bans', tag: 'status', access: 'read', watch: true,
    summary: 'Lockouts in force: SIP bans and administrator login locks',
    description: 'SIP bans come from every worker of a cluster; a user ban lists how long the attack has ' +
      'lasted (attackSince, renewals): during it only the user\'s allow-listed addresses (where it ' +
      'registered before) get in.',
    response: { description: 'soonest to end first', schema: banListSchema },
    handler: async () => ({ items: await ctx.bans.list() }),
  });

  t.add({
    method: 'DELETE', url: '/api/bans', tag: 'status', access: 'security',
    summary: 'Lift a lockout',
    description: 'Names the ban as the list shows it: kind, scope and its user and/or ip. In a cluster every worker lifts it.',
    query: banLiftQuery,
    response: { description: 'how many were in force', schema: z.object({ lifted: z.number().int() }) },
    errors: [404],
    handler: async (req) => {
      const target: BanTarget = req.query;
      const lifted = await ctx.bans.lift(target);
      if (lifted === 0) throw new ApiError(404, 'not-found', 'no such ban in force');
      await audit(ctx, req, banAuditTarget(target), target, null, 'lift ban');
      return { lifted };
    },
  });
}
