// /api/user-rules: the numbering pattern and SIP password strength that new
// and changed users must meet (src/model/user-rules.ts), and a generated
// password that meets them.
import { z } from 'zod';
import { generateSipPassword, USER_RULES_KEY, userRulesSchema } from '../../model/user-rules.ts';
import { audit, userRules, type ApiContext } from '../context.ts';
import type { RouteTable } from '../route.ts';

export function userRulesRoutes(t: RouteTable, ctx: ApiContext): void {
  t.add({
    method: 'GET', url: '/api/user-rules', tag: 'users', access: 'read',
    summary: 'Rules for extensions and SIP passwords',
    description: 'What a new or renumbered extension must match, and how strong a new SIP password must be. ' +
      'Users stored before a rule changed are not judged again.',
    response: { description: 'the rules in force', schema: userRulesSchema },
    handler: () => userRules(ctx),
  });

  t.add({
    method: 'PUT', url: '/api/user-rules', tag: 'users', access: 'security',
    summary: 'Change the rules for extensions and SIP passwords',
    description: 'Applies at once to new extensions and passwords. Fields left out take their defaults.',
    body: userRulesSchema,
    response: { description: 'the rules in force', schema: userRulesSchema },
    errors: [400],
    handler: async (req) => {
      const before = await userRules(ctx);
      await ctx.admin.settings.set({ [USER_RULES_KEY]: req.body });
      await audit(ctx, req, 'user-rules', before, req.body);
      return req.body;
    },
  });

  t.add({
    method: 'POST', url: '/api/user-rules/generate-password', tag: 'users', access: 'write',
    summary: 'A new random SIP password that passes the rules',
    description: 'Nothing is stored: set it with POST or PATCH /api/users.',
    response: { description: 'the password', schema: z.object({ password: z.string() }) },
    handler: async () => ({ password: generateSipPassword(await userRules(ctx)) }),
  });
}
