// Login, logout, the session, and the password change (SPEC 4.1, KI-28).
import { z } from 'zod';
import { burnVerify, hashPassword, mustChangePassword, nameKey, passwordProblems, verifyPassword } from '../../security/admin-auth.ts';
import { TRUST_KEEP_MS } from '../../security/trust-recorder.ts';
import type { AdminAccount, AdminSession } from '../../store/admin-types.ts';
import { clearSessionCookie, createSession, idleMs } from '../auth.ts';
import { auditAs, passwordPolicy, type ApiContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import type { RouteTable } from '../route.ts';
import { loginSchema, okSchema, passwordChangeSchema, sessionSchema } from '../schemas.ts';

/** Has the account logged in from this address before (within TRUST_KEEP_MS)? Lockouts never close it to such an address. */
function knownAddress(ctx: ApiContext, account: AdminAccount | undefined, ip: string): Promise<boolean> {
  if (!account) return Promise.resolve(false);
  return ctx.admin.trustedSources.has('admin', nameKey(account.name), ip, ctx.now() - TRUST_KEEP_MS);
}

function sessionView(ctx: ApiContext, account: AdminAccount, session: AdminSession, mustChange: boolean, watchOnly = false) {
  return {
    name: account.name,
    roles: [...account.roles],
    csrfToken: session.csrfToken,
    mustChangePassword: mustChange,
    idleMinutes: idleMs(ctx) / 60_000,
    watchOnly,
  };
}

/**
 * Attempts from one address run one at a time, so parallel guesses cannot
 * all pass the lockout check before the first failure counts. Not per name:
 * attempts on `admin` from everywhere would queue the owner's login behind
 * an attacker's.
 */
class KeyedQueue {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = prev.then(() => mine);
    this.tails.set(key, tail);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

export function sessionRoutes(t: RouteTable, ctx: ApiContext): void {
  const queue = new KeyedQueue();

  t.add({
    method: 'POST', url: '/api/session', tag: 'session', access: 'public',
    summary: 'Log in',
    description: 'Sets the sb_session cookie. Unknown names and wrong passwords get the same answer. ' +
      'Repeated failures lock the name for that address (423) or block the address (429), with Retry-After; ' +
      'failures from many addresses slow down (429) addresses the account never logged in from, never the ones it did.',
    body: loginSchema,
    response: { description: 'logged in', schema: sessionSchema },
    errors: [401, 423, 429],
    handler: (req) => {
      const { name, password } = req.body;
      return queue.run(req.ip, async () => {
        const account = await ctx.admin.accounts.get(name);
        const known = await knownAddress(ctx, account, req.ip);
        const verdict = ctx.limiter.check(name, req.ip, { known, passwordChangedAt: account?.passwordChangedAt });
        if (!verdict.allowed) {
          throw verdict.status === 423
            ? new ApiError(423, 'locked', 'too many failed logins for this name from this address; try later', { retryAfterSec: verdict.retryAfterSec })
            : new ApiError(429, 'rate-limited', 'too many failed logins; try later', { retryAfterSec: verdict.retryAfterSec });
        }
        const ok = account && account.enabled ? await verifyPassword(password, account.passwordHash) : await burnVerify(password);
        if (!ok || !account) {
          const outcome = ctx.limiter.recordFailure(name, req.ip);
          // Only names that exist are recorded: a password typed into the name field stays out of the log.
          if (account) {
            const what = [outcome.pairLocked && 'locked for this address', outcome.underAttack && 'account under attack: new addresses slowed down'].filter(Boolean);
            await auditAs(ctx, account.name, req.ip, what.length > 0 ? `login failed, ${what.join(', ')}` : 'login failed', `admin:${account.name}`, null, null);
          }
          throw new ApiError(401, 'invalid-credentials', 'wrong name or password');
        }
        ctx.limiter.recordSuccess(name, req.ip);
        await ctx.admin.trustedSources.record([{ kind: 'admin', subject: nameKey(account.name), address: req.ip, at: ctx.now() }]);
        const session = await createSession(ctx, account, req.ip, req.reply);
        await auditAs(ctx, account.name, req.ip, 'login', `admin:${account.name}`, null, null);
        return sessionView(ctx, account, session, mustChangePassword(account, await passwordPolicy(ctx), ctx.now()));
      });
    },
  });

  t.add({
    method: 'GET', url: '/api/session', tag: 'session', access: 'session', duringPasswordChange: true, watch: true,
    summary: 'The current session and its CSRF token',
    response: { description: 'the session', schema: sessionSchema },
    handler: async (req) => {
      const p = req.principal!;
      return sessionView(ctx, p.account, p.session, mustChangePassword(p.account, await passwordPolicy(ctx), ctx.now()), p.watchOnly);
    },
  });

  t.add({
    method: 'DELETE', url: '/api/session', tag: 'session', access: 'session', duringPasswordChange: true,
    summary: 'Log out',
    response: { status: 204, description: 'logged out' },
    handler: async (req) => {
      const p = req.principal!;
      await ctx.admin.sessions.remove(p.session.idHash);
      clearSessionCookie(ctx, req.reply);
      await auditAs(ctx, p.account.name, req.ip, 'logout', `admin:${p.account.name}`, null, null);
    },
  });

  t.add({
    method: 'POST', url: '/api/session/password', tag: 'session', access: 'session', duringPasswordChange: true,
    summary: 'Change the own password',
    description: 'Needs the current password and follows the password policy. Ends every session of the ' +
      'account, this one included (SPEC KI-28): log in again with the new password.',
    body: passwordChangeSchema,
    response: { description: 'changed; log in again', schema: okSchema.extend({ reloginRequired: z.literal(true) }) },
    errors: [400, 423],
    handler: async (req) => {
      const { account } = req.principal!;
      const { currentPassword, newPassword } = req.body;
      // A stolen session must not be a way around the login lockout.
      const verdict = ctx.limiter.check(account.name, req.ip, { known: await knownAddress(ctx, account, req.ip), passwordChangedAt: account.passwordChangedAt });
      if (!verdict.allowed) throw new ApiError(verdict.status, verdict.status === 423 ? 'locked' : 'rate-limited', 'too many failed attempts; try later', { retryAfterSec: verdict.retryAfterSec });
      if (!(await verifyPassword(currentPassword, account.passwordHash))) {
        ctx.limiter.recordFailure(account.name, req.ip);
        throw new ApiError(400, 'validation', 'currentPassword: wrong password', {
          issues: [{ path: 'currentPassword', in: 'body', message: 'wrong password' }],
        });
      }
      const problems = passwordProblems(newPassword, await passwordPolicy(ctx), { name: account.name, current: currentPassword });
      if (problems.length > 0) {
        throw new ApiError(400, 'validation', `newPassword: ${problems[0]}`, {
          issues: problems.map((message) => ({ path: 'newPassword', in: 'body' as const, message })),
        });
      }
      const updated = await ctx.admin.accounts.update(account.name, { passwordHash: await hashPassword(newPassword), mustChangePassword: false });
      await ctx.admin.sessions.removeForAdmin(account.id);
      clearSessionCookie(ctx, req.reply);
      await auditAs(ctx, account.name, req.ip, 'change own password', `admin:${account.name}`,
        { mustChangePassword: account.mustChangePassword }, { mustChangePassword: updated.mustChangePassword });
      return { ok: true as const, reloginRequired: true as const };
    },
  });
}
