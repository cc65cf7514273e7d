// What the route handlers get from the server: the stores, the running
// configuration and the security helpers. Built once per HTTP server.
import { passwordPolicySchema, type Config } from '../config/schema.ts';
import { USER_RULES_KEY, userRulesOf, type UserRules } from '../model/user-rules.ts';
import type { LoginLimiter, PasswordPolicy } from '../security/admin-auth.ts';
import type { BanBoard } from '../security/bans.ts';
import type { Logger } from '../lib/log.ts';
import type { AdminStore } from '../store/admin-types.ts';
import type { Store } from '../store/types.ts';
import type { ApiRequest } from './route.ts';
import type { SessionWatch } from './session-watch.ts';
import type { SystemSource } from './routes/system.ts';

export interface ApiContext {
  store: Store;
  admin: AdminStore;
  /** The configuration the server runs with (stored settings already applied). */
  config: Config;
  /** The configuration from the file and command line, before stored settings. */
  baseConfig: Config;
  /** The root CA phones download. */
  ca: { pem: string; der: Buffer };
  log: Logger;
  now: () => number;
  limiter: LoginLimiter;
  /** Every lockout in force (SIP and the limiter's), to list and lift. */
  bans: BanBoard;
  /** Setting keys the command line fixed for this run (stored values are kept but do not apply). */
  pinnedSettings: readonly string[];
  /** Sessions a status page keeps open while it is visible. */
  watching: SessionWatch;
  /** The system media settings the running server polls from the store; absent, nothing polls them. */
  systemMedia?: LiveMediaSettings;
  /** The running server for the System pages (routes/system.ts); absent, those routes are not mounted. */
  system?: SystemSource;
}

export interface LiveMediaSettings {
  /** What the next call uses. */
  readonly current: Config['media'];
  /** Re-reads the store now rather than at the next poll. */
  poll(): Promise<void>;
}

export const PASSWORD_POLICY_KEY = 'http.passwordPolicy';

/** The password policy in force: the one saved through the API, else the config file's. */
export async function passwordPolicy(ctx: ApiContext): Promise<PasswordPolicy> {
  const stored = passwordPolicySchema.safeParse(await ctx.admin.settings.get(PASSWORD_POLICY_KEY));
  return stored.success ? stored.data : ctx.config.http.passwordPolicy;
}

/** The administrator's rules for new user data (src/model/user-rules.ts), as stored. */
export async function userRules(ctx: ApiContext): Promise<UserRules> {
  return userRulesOf(await ctx.admin.settings.get(USER_RULES_KEY));
}

// Named explicitly: a pattern like /password/ would also hide flags such as mustChangePassword.
const SECRET_KEYS = new Set(['password', 'registerpassword', 'voicemailcode', 'passwordhash', 'csrftoken',
  'onetimepassword', 'currentpassword', 'newpassword', 'secret', 'token']);
const isSecretKey = (k: string) => SECRET_KEYS.has(k.toLowerCase()) || /secret/i.test(k);

/** A copy with every secret-looking field replaced by "***" (audit before/after values). */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = isSecretKey(k) && v !== null && v !== undefined ? '***' : redact(v, depth + 1);
  }
  return out;
}

/** Records one change: who (the session's account), what, when, before and after without secrets. */
export async function audit(
  ctx: ApiContext,
  req: ApiRequest<unknown, unknown, unknown>,
  target: string,
  before: unknown,
  after: unknown,
  action = `${req.raw.method} ${req.raw.routeOptions.url ?? req.raw.url}`,
): Promise<void> {
  await auditAs(ctx, req.principal?.account.name ?? '-', req.ip, action, target, before, after);
}

export async function auditAs(
  ctx: ApiContext, actor: string, ip: string | null, action: string, target: string, before: unknown, after: unknown,
): Promise<void> {
  await ctx.admin.audit.append({
    at: ctx.now(),
    actor,
    sourceIp: ip,
    action,
    target,
    before: before === undefined ? null : redact(before),
    after: after === undefined ? null : redact(after),
  });
  await ctx.admin.audit.trim(ctx.config.http.auditMaxEntries);
}
