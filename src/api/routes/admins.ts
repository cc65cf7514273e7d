// /api/admins (administrator accounts) and /api/audit: the security
// administrator's part of the API.
import { generatePassword, hashPassword, passwordProblems } from '../../security/admin-auth.ts';
import type { AdminAccount, AdminRole } from '../../store/admin-types.ts';
import { audit, passwordPolicy, type ApiContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import type { RouteTable } from '../route.ts';
import {
  adminCreateSchema, adminParams, adminPatchSchema, adminViewSchema, adminWithPasswordSchema, auditEntrySchema,
  auditQuery, listOf,
} from '../schemas.ts';
import { z } from 'zod';

function adminView(a: AdminAccount) {
  return {
    id: a.id, name: a.name, roles: [...a.roles], mustChangePassword: a.mustChangePassword,
    passwordChangedAt: a.passwordChangedAt, enabled: a.enabled, createdAt: a.createdAt, updatedAt: a.updatedAt,
  };
}

function isSecurityAdmin(a: { enabled: boolean; roles: readonly AdminRole[] }): boolean {
  return a.enabled && a.roles.includes('security-admin');
}

export function adminRoutes(t: RouteTable, ctx: ApiContext): void {
  const accounts = ctx.admin.accounts;
  const mustGet = async (name: string): Promise<AdminAccount> => {
    const a = await accounts.get(name);
    if (!a) throw new ApiError(404, 'not-found', `no administrator named ${name}`);
    return a;
  };
  /** Someone must always be able to manage accounts (the command line can only reset passwords). */
  const keepSecurityAdmin = async (current: AdminAccount, after: { enabled: boolean; roles: readonly AdminRole[] } | null) => {
    if (!isSecurityAdmin(current) || (after && isSecurityAdmin(after))) return;
    if ((await accounts.list()).some((a) => a.id !== current.id && isSecurityAdmin(a))) return;
    throw new ApiError(409, 'last-security-admin', 'this is the last enabled security administrator');
  };
  const newPassword = async (name: string, given: string | undefined): Promise<{ hash: string; oneTime?: string }> => {
    if (given === undefined) {
      const oneTime = generatePassword((await passwordPolicy(ctx)).minLength);
      return { hash: await hashPassword(oneTime), oneTime };
    }
    const problems = passwordProblems(given, await passwordPolicy(ctx), { name });
    if (problems.length > 0) {
      throw new ApiError(400, 'validation', `password: ${problems[0]}`, {
        issues: problems.map((message) => ({ path: 'password', in: 'body' as const, message })),
      });
    }
    return { hash: await hashPassword(given) };
  };

  t.add({
    method: 'GET', url: '/api/admins', tag: 'admins', access: 'security',
    summary: 'List administrator accounts',
    response: { description: 'every account', schema: z.object({ items: z.array(adminViewSchema) }) },
    handler: async () => ({ items: (await accounts.list()).map(adminView) }),
  });

  t.add({
    method: 'POST', url: '/api/admins', tag: 'admins', access: 'security',
    summary: 'Add an administrator account',
    description: 'Without a password a one-time password is generated and returned once. ' +
      'Either way the new account must change its password at its first login.',
    body: adminCreateSchema,
    response: { status: 201, description: 'added', schema: adminWithPasswordSchema },
    errors: [400, 409],
    handler: async (req) => {
      const { name, roles, password, enabled } = req.body;
      if (await accounts.get(name)) throw new ApiError(409, 'duplicate', `name ${name} is already used`, { issues: [{ path: 'name', in: 'body', message: 'already used' }] });
      const pw = await newPassword(name, password);
      const a = await accounts.add({ name, roles, passwordHash: pw.hash, mustChangePassword: true, enabled });
      await audit(ctx, req, `admin:${a.name}`, null, adminView(a));
      return pw.oneTime ? { ...adminView(a), oneTimePassword: pw.oneTime } : adminView(a);
    },
  });

  t.add({
    method: 'GET', url: '/api/admins/:name', tag: 'admins', access: 'security',
    summary: 'One administrator account',
    params: adminParams,
    response: { description: 'the account', schema: adminViewSchema },
    errors: [404],
    handler: async (req) => adminView(await mustGet(req.params.name)),
  });

  t.add({
    method: 'PATCH', url: '/api/admins/:name', tag: 'admins', access: 'security',
    summary: 'Change an administrator account',
    description: 'A new password (given, or generated with resetPassword) must be changed at the next login; ' +
      "setting one, or disabling the account, ends the account's sessions.",
    params: adminParams,
    body: adminPatchSchema,
    response: { description: 'the changed account', schema: adminWithPasswordSchema },
    errors: [400, 404, 409],
    handler: async (req) => {
      const before = await mustGet(req.params.name);
      const { name, roles, enabled, password, resetPassword } = req.body;
      await keepSecurityAdmin(before, { enabled: enabled ?? before.enabled, roles: roles ?? before.roles });
      const pw = password !== undefined || resetPassword ? await newPassword(name ?? before.name, password) : undefined;
      const after = await accounts.update(before.name, {
        name, roles, enabled, ...(pw ? { passwordHash: pw.hash, mustChangePassword: true } : {}),
      });
      if (pw || !after.enabled) await ctx.admin.sessions.removeForAdmin(after.id);
      await audit(ctx, req, `admin:${before.name}`, adminView(before), { ...adminView(after), ...(pw ? { password: 'changed' } : {}) });
      return pw?.oneTime ? { ...adminView(after), oneTimePassword: pw.oneTime } : adminView(after);
    },
  });

  t.add({
    method: 'DELETE', url: '/api/admins/:name', tag: 'admins', access: 'security',
    summary: 'Remove an administrator account',
    params: adminParams,
    response: { status: 204, description: 'removed' },
    errors: [404, 409],
    handler: async (req) => {
      const before = await mustGet(req.params.name);
      await keepSecurityAdmin(before, null);
      await accounts.remove(before.name);
      await audit(ctx, req, `admin:${before.name}`, adminView(before), null);
    },
  });

  t.add({
    method: 'GET', url: '/api/audit', tag: 'audit', access: 'security',
    summary: 'The audit log, newest first',
    description: 'Every change through the API (and logins, lockouts, command-line password resets): who, what, ' +
      'when, before and after, with secrets shown as "***".',
    query: auditQuery,
    response: { description: 'a page of entries', schema: listOf(auditEntrySchema) },
    handler: async (req) => {
      const { offset, limit, ...filter } = req.query;
      return { total: await ctx.admin.audit.count(filter), offset, limit, items: await ctx.admin.audit.list({ ...filter, offset, limit }) };
    },
  });
}
