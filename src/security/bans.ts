// Every lockout in force, SIP (auth-guard.ts) and administrator logins
// (admin-auth.ts LoginLimiter), in one list an operator can read and lift
// from: `switchboard bans`, /api/bans and the web UI all go through here.
import type { LoginLimiter } from './admin-auth.ts';
import type { ActiveBan, AuthGuard } from './auth-guard.ts';
import type { Ban, BanKind, BanScope } from '../model/ban.ts';

export type { Ban, BanKind, BanScope } from '../model/ban.ts';

export interface BanTarget {
  kind: BanKind;
  scope: BanScope;
  user?: string;
  ip?: string;
}

/** The SIP guard's bans: this process's, or (cluster) every worker's. */
export interface SipBanSource {
  /** Bans in force, each with the workers holding it when there are several. */
  list(): Promise<Array<ActiveBan & { workers?: number[] }>>;
  /** Lifts in every process that holds it; returns how many bans were in force. */
  lift(target: { ip?: string; username?: string }): Promise<number>;
}

/** This process's guard as a ban source. */
export function localSipBans(guard: AuthGuard): SipBanSource {
  return {
    list: async () => guard.activeBans(),
    lift: async (target) => guard.unban(target),
  };
}

/** What a lift of `target` must name, or null when it is complete. */
export function targetProblem(t: BanTarget): string | null {
  const needs: Record<BanScope, ['user' | 'ip', ...('user' | 'ip')[]]> = {
    pair: ['user', 'ip'], user: ['user'], ip: ['ip'], source: ['ip'], account: ['user'],
  };
  const allowed: Record<BanKind, BanScope[]> = { sip: ['pair', 'user', 'ip'], admin: ['pair', 'source', 'account'] };
  if (!allowed[t.kind].includes(t.scope)) return `scope ${t.scope} is not one of ${t.kind}'s: ${allowed[t.kind].join(', ')}`;
  const missing = needs[t.scope].filter((f) => !t[f]);
  if (missing.length > 0) return `a ${t.kind} ${t.scope} ban is named by ${needs[t.scope].join(' and ')}`;
  const extra = (['user', 'ip'] as const).filter((f) => t[f] !== undefined && !needs[t.scope].includes(f));
  if (extra.length > 0) return `a ${t.kind} ${t.scope} ban is named by ${needs[t.scope].join(' and ')} only`;
  return null;
}

/** How the audit log names a ban: "ban:sip:user:1001", "ban:admin:pair:admin@192.0.2.9". */
export function banAuditTarget(t: BanTarget): string {
  return `ban:${t.kind}:${t.scope}:${[t.user, t.ip].filter((x) => x !== undefined).join('@')}`;
}

export class BanBoard {
  constructor(private readonly sip: SipBanSource, private readonly admin: LoginLimiter | undefined) {}

  /** Soonest to end first. */
  async list(): Promise<Ban[]> {
    const out: Ban[] = [];
    for (const b of await this.sip.list()) {
      out.push({
        kind: 'sip', scope: b.scope, until: b.untilMs, effect: 'refused',
        ...(b.username !== undefined && { user: b.username }),
        ...(b.ip !== undefined && { ip: b.ip }),
        ...(b.attackSinceMs !== undefined && { attackSince: b.attackSinceMs, renewals: b.renewals ?? 0 }),
        ...(b.workers !== undefined && { workers: b.workers }),
      });
    }
    for (const l of this.admin?.locks() ?? []) {
      out.push({
        kind: 'admin', scope: l.scope, until: l.untilMs, effect: l.scope === 'account' ? 'slowed' : 'refused',
        ...(l.name !== undefined && { user: l.name }),
        ...(l.ip !== undefined && { ip: l.ip }),
      });
    }
    return out.sort((a, b) => a.until - b.until);
  }

  /** Lifts one ban; returns how many were in force (0: nothing to lift). @throws Error for an incomplete target */
  async lift(t: BanTarget): Promise<number> {
    const problem = targetProblem(t);
    if (problem) throw new Error(problem);
    if (t.kind === 'admin') {
      if (!this.admin) return 0;
      return this.admin.lift(t.scope === 'pair' ? { scope: 'pair', name: t.user!, ip: t.ip! }
        : t.scope === 'account' ? { scope: 'account', name: t.user! } : { scope: 'source', ip: t.ip! });
    }
    return this.sip.lift(t.scope === 'pair' ? { ip: t.ip!, username: t.user! } : t.scope === 'user' ? { username: t.user! } : { ip: t.ip! });
  }
}
