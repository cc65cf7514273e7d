// Who is asking: the session cookie, idle expiry (SPEC A-30), CSRF, the
// forced password change (SPEC 4.1) and roles. Runs before the body is read,
// so anonymous clients cannot make the server parse anything.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { mustChangePassword } from '../security/admin-auth.ts';
import type { AdminAccount, AdminRole, AdminSession } from '../store/admin-types.ts';
import { passwordPolicy, type ApiContext } from './context.ts';
import { ApiError } from './errors.ts';
import type { Principal, RouteMeta } from './route.ts';

export const SESSION_COOKIE = 'sb_session';
export const CSRF_HEADER = 'x-csrf-token';
/** Sent by a page's own polling (status, bans): such requests do not count as the administrator's activity. */
export const BACKGROUND_HEADER = 'x-switchboard-background';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function hashSessionId(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function idleMs(ctx: ApiContext): number {
  return Math.round(ctx.config.http.sessionIdleMinutes * 60_000);
}

/** Starts a session for a verified account: sets the cookie, returns the CSRF token. */
export async function createSession(ctx: ApiContext, account: AdminAccount, ip: string, reply: FastifyReply): Promise<AdminSession> {
  const now = ctx.now();
  await ctx.admin.sessions.removeIdle(now - idleMs(ctx), ctx.watching.watched()); // housekeeping, paced by logins
  const id = randomBytes(32).toString('base64url');
  const session: AdminSession = {
    idHash: hashSessionId(id),
    adminId: account.id,
    csrfToken: randomBytes(32).toString('base64url'),
    sourceIp: ip,
    createdAt: now,
    lastSeenAt: now,
  };
  await ctx.admin.sessions.create(session);
  void reply.setCookie(SESSION_COOKIE, id, {
    httpOnly: true,
    secure: !ctx.config.http.allowHttp,
    sameSite: 'strict',
    path: '/',
  });
  return session;
}

export function clearSessionCookie(ctx: ApiContext, reply: FastifyReply): void {
  void reply.clearCookie(SESSION_COOKIE, { httpOnly: true, secure: !ctx.config.http.allowHttp, sameSite: 'strict', path: '/' });
}

/** The session behind the request's cookie, or why there is none. */
async function authenticate(ctx: ApiContext, req: FastifyRequest): Promise<Principal | 'none' | 'expired'> {
  const id = req.cookies[SESSION_COOKIE];
  if (!id || id.length > 128) return 'none';
  const idHash = hashSessionId(id);
  const session = await ctx.admin.sessions.get(idHash);
  if (!session) return 'none';
  const idle = ctx.now() - session.lastSeenAt >= idleMs(ctx);
  const watchOnly = idle && ctx.watching.isWatched(idHash);
  if (idle && !watchOnly) {
    await ctx.admin.sessions.remove(idHash);
    return 'expired';
  }
  const account = await ctx.admin.accounts.getById(session.adminId);
  if (!account || !account.enabled) {
    await ctx.admin.sessions.remove(idHash);
    return 'none';
  }
  return { account, session, watchOnly };
}

const ROLE_FOR: Partial<Record<RouteMeta['access'], AdminRole>> = { write: 'admin', security: 'security-admin' };

/** The role a route needs that the account lacks, or null when it may proceed. */
export function missingRole(account: AdminAccount, access: RouteMeta['access']): AdminRole | null {
  const role = ROLE_FOR[access];
  return role && !account.roles.includes(role) ? role : null;
}

export function installAuth(app: FastifyInstance, ctx: ApiContext): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (req) => {
    const meta = req.routeOptions.config.api;
    const path = req.url.split('?', 1)[0]!;
    // Routes outside /api that were not declared through the route table
    // (CA download, /metrics, /healthz, the web UI) are not ours to guard.
    if (meta ? meta.access === 'public' : !(path === '/api' || path.startsWith('/api/'))) return;
    const who = await authenticate(ctx, req);
    if (who === 'expired') throw new ApiError(401, 'session-expired', 'the session ended after inactivity; log in again');
    if (who === 'none') throw new ApiError(401, 'unauthenticated', 'log in first (POST /api/session)');
    if (who.watchOnly && !(meta?.watch && SAFE_METHODS.has(req.method))) {
      throw new ApiError(401, 'session-expired', 'the session ended after inactivity (a status page keeps it open for watching only); log in again');
    }
    if (!SAFE_METHODS.has(req.method)) {
      const token = req.headers[CSRF_HEADER];
      if (typeof token !== 'string' || !sameToken(token, who.session.csrfToken)) {
        throw new ApiError(403, 'csrf', `missing or wrong ${CSRF_HEADER} header`);
      }
    }
    if (meta) {
      if (!meta.duringPasswordChange && mustChangePassword(who.account, await passwordPolicy(ctx), ctx.now())) {
        throw new ApiError(403, 'password-change-required', 'change the password first (POST /api/session/password)');
      }
      const role = missingRole(who.account, meta.access);
      if (role) throw new ApiError(403, 'forbidden', `this needs the ${role} role`, { role });
    }
    // Neither watching nor a page's polling is activity: they must not renew the right to edit.
    if (!who.watchOnly && req.headers[BACKGROUND_HEADER] !== '1') await ctx.admin.sessions.touch(who.session.idHash, ctx.now());
    req.principal = who;
  });
}
