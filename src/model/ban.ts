// A lockout in force as the API, the CLI and the web UI show it
// (src/security/bans.ts gathers them from the SIP guard and the login limiter).
import { z } from 'zod';

export const banKindSchema = z.enum(['sip', 'admin']).describe('sip: SIP digest authentication; admin: logins to the management API');
export const banScopeSchema = z.enum(['pair', 'user', 'ip', 'source', 'account']).describe(
  'sip: pair (address and user), user (every address not on the user\'s allow-list), ip (the address for every user); ' +
  'admin: pair (account name from an address), source (the address for every name), account (new addresses slowed down)');

export const banSchema = z.object({
  kind: banKindSchema,
  scope: banScopeSchema,
  user: z.string().optional().describe('SIP authentication name or administrator account name'),
  ip: z.string().optional(),
  until: z.number().int().describe('epoch ms when it ends by itself'),
  effect: z.enum(['refused', 'slowed']).describe('refused: no attempt is checked; slowed: one attempt per few seconds from addresses the account never logged in from'),
  attackSince: z.number().int().optional().describe('sip user bans: when the attack began'),
  renewals: z.number().int().optional().describe('sip user bans: bans that followed the first without a pause'),
  workers: z.array(z.number().int()).optional().describe('in a cluster: the workers holding it'),
});

export type Ban = z.output<typeof banSchema>;
export type BanKind = Ban['kind'];
export type BanScope = Ban['scope'];
