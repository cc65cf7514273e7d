// Anti-brute-force guard in front of digest verification.
//
// It counts FAILURES (a verified-wrong response), never requests or 401
// challenge rounds: an IP-DECT gateway registers thousands of users from one
// address and must never be slowed for that. Three rules, each a sliding
// window (two-bucket estimate, O(1) memory per key):
//   pair (source IP, username): one handset with a wrong password behind a
//     shared address is banned, its neighbours are not;
//   username across sources: a user under attack is closed to every source
//     that has not authenticated as that user: one that did so recently (in
//     memory) or is on the user's allow-list (addresses where it registered
//     successfully, kept by the caller across restarts: loadAllowList/onTrusted)
//     keeps working; a renewed attack counts its renewals, so the operator
//     sees how long new addresses have been refused and can lift the ban;
//   source IP across usernames (spraying): banned unless enough distinct
//     users authenticated from that address recently (a gateway); users
//     with the address on their allow-list keep getting in from it.
// Every table is a two-generation map with a hard size cap, so a flood of
// random usernames or addresses cannot grow memory. Each ban is reported once
// through onBan, which is where it gets logged ("once per interval").

import { createHash } from 'node:crypto';

export interface AuthGuardRule {
  /** Failures within `windowMs` that trigger a ban. */
  maxFailures: number;
  windowMs: number;
  banMs: number;
}

export type BanScope = 'pair' | 'user' | 'ip';

export interface BanEvent {
  scope: BanScope;
  /** Set for 'pair' and 'ip'. */
  ip?: string;
  /** Set for 'pair' and 'user' (hashed form for names over 128 characters). */
  username?: string;
  /** Windowed failure estimate that tripped the rule. */
  failures: number;
  untilMs: number;
  banSec: number;
  /** 'user': when the attack began and how many bans followed the first without a pause. */
  attackSinceMs?: number;
  renewals?: number;
}

/** A ban in force, as status pages and the API list it. */
export interface ActiveBan {
  scope: BanScope;
  ip?: string;
  username?: string;
  untilMs: number;
  /** 'user' only, as in BanEvent. */
  attackSinceMs?: number;
  renewals?: number;
}

export interface AuthGuardOptions {
  now?: () => number;
  /** Default 5 failures / 60 s -> 300 s ban of that (ip, username). */
  pair?: Partial<AuthGuardRule>;
  /** Default 20 failures / 60 s -> 300 s ban of the username for untrusted sources. */
  user?: Partial<AuthGuardRule>;
  /** Default 100 failures / 60 s -> 300 s ban of the source address. */
  ip?: Partial<AuthGuardRule> & {
    /** An address with at least this many distinct recently successful users is never IP-banned. Default 5. */
    exemptGoodUsers?: number;
  };
  /** How long a success makes (ip, username) trusted and counts toward the IP exemption. Default 1 h. */
  trustMs?: number;
  /** Cap of every internal map. Default 100 000. */
  maxEntries?: number;
  /** Called once per ban; exceptions from it are swallowed. */
  onBan?: (ban: BanEvent) => void;
  /** Called for every recorded failure (alarms on failure bursts); must be cheap; exceptions are swallowed. */
  onFailure?: (ip: string, username: string) => void;
  /**
   * Called when a success makes a pair trusted that was not (at most once
   * per trustMs per pair): the caller persists it as the user's allow-list,
   * off this path. Must be cheap; exceptions are swallowed.
   */
  onTrusted?: (ip: string, username: string) => void;
  /**
   * The user's allow-list (addresses where it authenticated, as persisted
   * from onTrusted), read when the user gets banned: those addresses stay
   * open during the ban, also after a restart emptied the in-memory trust.
   */
  loadAllowList?: (username: string) => Promise<Iterable<string>>;
  /** The users that have this address on their allow-list, read when the address gets banned: they stay open there. */
  loadAllowedUsers?: (ip: string) => Promise<Iterable<string>>;
}

export type GuardVerdict =
  | { allowed: true }
  | { allowed: false; reason: BanScope; retryAfterSec: number };

export interface AuthGuardStats {
  failures: number;
  successes: number;
  /** Bans started since construction. */
  bansTotal: number;
  bansActive: number;
  bansActiveByScope: Record<BanScope, number>;
  /** Current map sizes, for memory monitoring. */
  entries: { pairCounters: number; userCounters: number; ipCounters: number; trustedPairs: number; trustedIps: number; bans: number; allowLists: number };
}

/** Sliding-window failure counter: current and previous fixed window, weighted. */
class Window {
  constructor(public start: number, public cur = 0, public prev = 0) {}
}

/**
 * Bounded map in two generations: writes go to the current one; it becomes
 * the old one when it holds half the cap or has lived `maxAgeMs`, and the old
 * one is dropped whole. Every operation is O(1). (Evicting one by one from
 * the head of a Map is not: V8 skips the deleted slots on every iteration.)
 * An entry written at time t survives at least until t + maxAgeMs unless the
 * size cap forces it out.
 */
class GenMap<V> {
  private cur = new Map<string, V>();
  private old = new Map<string, V>();
  private readonly half: number;

  constructor(cap: number, private readonly maxAgeMs: number, private started: number,
    private readonly onDrop?: (key: string, value: V) => void) {
    this.half = Math.max(1, Math.ceil(cap / 2));
  }

  get size(): number {
    return this.cur.size + this.old.size;
  }

  get(key: string): V | undefined {
    const v = this.cur.get(key);
    return v !== undefined ? v : this.old.get(key);
  }

  /** Insert, or move into the current generation. */
  set(key: string, value: V, now: number): void {
    this.age(now);
    if (this.old.size > 0) this.old.delete(key);
    this.cur.set(key, value);
    if (this.cur.size >= this.half) this.rotate(now);
  }

  delete(key: string): void {
    if (!this.cur.delete(key)) this.old.delete(key);
  }

  /** Let time-based rotation happen even without writes. */
  age(now: number): void {
    if (now - this.started < this.maxAgeMs) return;
    if (now - this.started >= 2 * this.maxAgeMs) this.rotate(now);
    this.rotate(now);
  }

  *entries(): IterableIterator<[string, V]> {
    yield* this.cur;
    yield* this.old;
  }

  private rotate(now: number): void {
    if (this.onDrop !== undefined) for (const [k, v] of this.old) this.onDrop(k, v);
    this.old = this.cur;
    this.cur = new Map();
    this.started = now;
  }
}

const ALLOWED: GuardVerdict = Object.freeze({ allowed: true });
const MAX_KEY = 128;

/** Keys stay small whatever the network sends. */
function boundKey(s: string): string {
  return s.length <= MAX_KEY ? s : '#' + createHash('sha256').update(s).digest('base64url');
}

function rule(r: Partial<AuthGuardRule> | undefined, max: number): AuthGuardRule {
  return { maxFailures: r?.maxFailures ?? max, windowMs: r?.windowMs ?? 60_000, banMs: r?.banMs ?? 300_000 };
}

export class AuthGuard {
  private readonly now: () => number;
  private readonly pairRule: AuthGuardRule;
  private readonly userRule: AuthGuardRule;
  private readonly ipRule: AuthGuardRule;
  private readonly exemptGoodUsers: number;
  private readonly trustMs: number;
  private readonly onBan: ((ban: BanEvent) => void) | undefined;
  private readonly onFailure: ((ip: string, username: string) => void) | undefined;
  private readonly onTrusted: ((ip: string, username: string) => void) | undefined;
  private readonly loadAllowList: ((username: string) => Promise<Iterable<string>>) | undefined;
  private readonly loadAllowedUsers: ((ip: string) => Promise<Iterable<string>>) | undefined;

  private readonly pairFail: GenMap<Window>;
  private readonly userFail: GenMap<Window>;
  private readonly ipFail: GenMap<Window>;
  /** key -> ban end (ms). */
  private readonly pairBans: GenMap<number>;
  private readonly userBans: GenMap<number>;
  private readonly ipBans: GenMap<number>;
  /** "ip\0user" -> time of last success. */
  private readonly trusted: GenMap<number>;
  /** Banned user -> its allow-listed addresses (bounded by the caller's list size), for the ban's life. */
  private readonly allowLists: GenMap<ReadonlySet<string>>;
  /** Banned address -> the users that have it on their allow-list, for the ban's life. */
  private readonly allowedUsers: GenMap<ReadonlySet<string>>;
  /** User -> the attack its bans belong to; a ban within a window of the last one's end renews it. */
  private readonly attacks: GenMap<{ since: number; renewals: number; lastUntil: number }>;
  /**
   * ip -> number of its pairs in `trusted`. Pair trust is exact (timestamp
   * checked); this count includes successes between trustMs and 2 x trustMs
   * old until their generation is dropped, erring towards keeping a gateway
   * exempt.
   */
  private readonly goodUsersByIp = new Map<string, number>();

  private failures = 0;
  private successes = 0;
  private bansTotal = 0;

  constructor(opts: AuthGuardOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.pairRule = rule(opts.pair, 5);
    this.userRule = rule(opts.user, 20);
    this.ipRule = rule(opts.ip, 100);
    this.exemptGoodUsers = opts.ip?.exemptGoodUsers ?? 5;
    this.trustMs = opts.trustMs ?? 3_600_000;
    this.onBan = opts.onBan;
    this.onFailure = opts.onFailure;
    this.onTrusted = opts.onTrusted;
    this.loadAllowList = opts.loadAllowList;
    this.loadAllowedUsers = opts.loadAllowedUsers;
    const cap = Math.max(2, opts.maxEntries ?? 100_000);
    const t = this.now();
    this.pairFail = new GenMap(cap, this.pairRule.windowMs, t);
    this.userFail = new GenMap(cap, this.userRule.windowMs, t);
    this.ipFail = new GenMap(cap, this.ipRule.windowMs, t);
    this.pairBans = new GenMap(cap, this.pairRule.banMs, t);
    this.userBans = new GenMap(cap, this.userRule.banMs, t);
    this.ipBans = new GenMap(cap, this.ipRule.banMs, t);
    this.allowLists = new GenMap(cap, this.userRule.banMs, t);
    this.allowedUsers = new GenMap(cap, this.ipRule.banMs, t);
    this.attacks = new GenMap(cap, this.userRule.banMs + this.userRule.windowMs, t);
    this.trusted = new GenMap(cap, this.trustMs, t, (pairKey) => {
      const ipKey = pairKey.slice(0, pairKey.indexOf('\0'));
      const n = (this.goodUsersByIp.get(ipKey) ?? 1) - 1;
      if (n <= 0) this.goodUsersByIp.delete(ipKey);
      else this.goodUsersByIp.set(ipKey, n);
    });
  }

  /** May this source try to authenticate as this user now? Call before verifying credentials. */
  check(ip: string, username: string): GuardVerdict {
    const now = this.now();
    const ipKey = boundKey(ip);
    const userKey = boundKey(username);
    let pairKey: string | undefined;
    if (this.pairBans.size > 0) {
      pairKey = ipKey + '\0' + userKey;
      const until = this.pairBans.get(pairKey);
      if (until !== undefined && until > now) return deny('pair', until, now);
    }
    if (this.ipBans.size > 0) {
      const until = this.ipBans.get(ipKey);
      if (until !== undefined && until > now && !this.ipExempt(ipKey, now)) {
        pairKey ??= ipKey + '\0' + userKey;
        if (!this.isTrusted(pairKey, now) && this.allowedUsers.get(ipKey)?.has(userKey) !== true) return deny('ip', until, now);
      }
    }
    if (this.userBans.size > 0) {
      const until = this.userBans.get(userKey);
      if (until !== undefined && until > now && !this.isTrusted(pairKey ?? ipKey + '\0' + userKey, now)
        && this.allowLists.get(userKey)?.has(ipKey) !== true) {
        return deny('user', until, now);
      }
    }
    return ALLOWED;
  }

  /** A digest verification that proved the response wrong (unknown users included). */
  recordFailure(ip: string, username: string): void {
    const now = this.now();
    const ipKey = boundKey(ip);
    const userKey = boundKey(username);
    const pairKey = ipKey + '\0' + userKey;
    this.failures++;
    if (this.onFailure !== undefined) {
      try {
        this.onFailure(ipKey, userKey);
      } catch {
        // Same as onBan: reporting must not break authentication.
      }
    }

    const pf = this.bump(this.pairFail, pairKey, now, this.pairRule.windowMs);
    if (pf >= this.pairRule.maxFailures && !isBanned(this.pairBans, pairKey, now)) {
      this.pairFail.delete(pairKey);
      this.ban('pair', this.pairBans, pairKey, this.pairRule, now, pf, ipKey, userKey);
    }
    const uf = this.bump(this.userFail, userKey, now, this.userRule.windowMs);
    if (uf >= this.userRule.maxFailures && !isBanned(this.userBans, userKey, now)) {
      this.userFail.delete(userKey);
      this.fetchAllowed(this.loadAllowList, this.userBans, this.allowLists, userKey);
      this.ban('user', this.userBans, userKey, this.userRule, now, uf, undefined, userKey);
    }
    const ipf = this.bump(this.ipFail, ipKey, now, this.ipRule.windowMs);
    if (ipf >= this.ipRule.maxFailures && !isBanned(this.ipBans, ipKey, now) && !this.ipExempt(ipKey, now)) {
      this.ipFail.delete(ipKey);
      this.fetchAllowed(this.loadAllowedUsers, this.ipBans, this.allowedUsers, ipKey);
      this.ban('ip', this.ipBans, ipKey, this.ipRule, now, ipf, ipKey, undefined);
    }
  }

  /** A successful verification: trusts (ip, username) for `trustMs` and clears its failure count. */
  recordSuccess(ip: string, username: string): void {
    const now = this.now();
    const ipKey = boundKey(ip);
    const pairKey = ipKey + '\0' + boundKey(username);
    this.successes++;
    this.trusted.age(now); // drop an expired generation before counting
    const last = this.trusted.get(pairKey);
    if (last === undefined) {
      this.goodUsersByIp.set(ipKey, (this.goodUsersByIp.get(ipKey) ?? 0) + 1);
    }
    this.trusted.set(pairKey, now, now);
    if ((last === undefined || now - last > this.trustMs) && this.onTrusted !== undefined) {
      try {
        this.onTrusted(ipKey, pairKey.slice(ipKey.length + 1));
      } catch {
        // Persisting trust is best effort; authentication goes on.
      }
    }
    if (this.pairFail.size > 0) this.pairFail.delete(pairKey);
  }

  /**
   * Lift bans early (admin action): both given -> that pair; only one -> that
   * user's or address's ban. Returns 1 when the ban was in force, else 0.
   */
  unban(target: { ip?: string; username?: string }): number {
    const now = this.now();
    const ipKey = target.ip === undefined ? undefined : boundKey(target.ip);
    const userKey = target.username === undefined ? undefined : boundKey(target.username);
    let lifted = false;
    if (ipKey !== undefined && userKey !== undefined) {
      lifted = isBanned(this.pairBans, ipKey + '\0' + userKey, now);
      this.pairBans.delete(ipKey + '\0' + userKey);
      this.pairFail.delete(ipKey + '\0' + userKey);
    } else if (userKey !== undefined) {
      lifted = isBanned(this.userBans, userKey, now);
      this.userBans.delete(userKey);
      this.userFail.delete(userKey);
      this.allowLists.delete(userKey);
      this.attacks.delete(userKey);
    } else if (ipKey !== undefined) {
      lifted = isBanned(this.ipBans, ipKey, now);
      this.ipBans.delete(ipKey);
      this.ipFail.delete(ipKey);
      this.allowedUsers.delete(ipKey);
    }
    return lifted ? 1 : 0;
  }

  /** Bans in force now (for status pages). */
  activeBans(): ActiveBan[] {
    const now = this.now();
    const out: ActiveBan[] = [];
    for (const [k, until] of this.pairBans.entries()) {
      if (until <= now) continue;
      const cut = k.indexOf('\0');
      out.push({ scope: 'pair', ip: k.slice(0, cut), username: k.slice(cut + 1), untilMs: until });
    }
    for (const [k, until] of this.userBans.entries()) {
      if (until <= now) continue;
      const attack = this.attacks.get(k);
      out.push({ scope: 'user', username: k, untilMs: until, ...(attack && { attackSinceMs: attack.since, renewals: attack.renewals }) });
    }
    for (const [k, until] of this.ipBans.entries()) if (until > now) out.push({ scope: 'ip', ip: k, untilMs: until });
    return out;
  }

  /** Counters for metrics. Counting active bans walks the ban tables (at most the cap each). */
  stats(): AuthGuardStats {
    const now = this.now();
    const pair = countActive(this.pairBans, now);
    const user = countActive(this.userBans, now);
    const ip = countActive(this.ipBans, now);
    this.trusted.age(now);
    return {
      failures: this.failures,
      successes: this.successes,
      bansTotal: this.bansTotal,
      bansActive: pair + user + ip,
      bansActiveByScope: { pair, user, ip },
      entries: {
        pairCounters: this.pairFail.size,
        userCounters: this.userFail.size,
        ipCounters: this.ipFail.size,
        trustedPairs: this.trusted.size,
        trustedIps: this.goodUsersByIp.size,
        bans: this.pairBans.size + this.userBans.size + this.ipBans.size,
        allowLists: this.allowLists.size + this.allowedUsers.size,
      },
    };
  }

  private ipExempt(ipKey: string, now: number): boolean {
    this.trusted.age(now);
    return (this.goodUsersByIp.get(ipKey) ?? 0) >= this.exemptGoodUsers;
  }

  private isTrusted(pairKey: string, now: number): boolean {
    const t = this.trusted.get(pairKey);
    return t !== undefined && now - t <= this.trustMs;
  }

  /**
   * Reads who stays open despite a new ban of `key` (a user's allow-listed
   * addresses, or the users allow-listed at an address). Until it arrives (a
   * database read, milliseconds) only the in-memory trust applies; a failed
   * read leaves just that.
   */
  private fetchAllowed(load: ((key: string) => Promise<Iterable<string>>) | undefined, bans: GenMap<number>,
    into: GenMap<ReadonlySet<string>>, key: string): void {
    if (load === undefined) return;
    let pending: Promise<Iterable<string>>;
    try {
      pending = load(key);
    } catch {
      return;
    }
    pending.then((values) => {
      if (!isBanned(bans, key, this.now())) return; // lifted or over meanwhile
      const set = new Set<string>();
      for (const v of values) set.add(boundKey(v));
      into.set(key, set, this.now());
    }, () => {});
  }

  /** Count one failure for `key` and return the windowed estimate. */
  private bump(map: GenMap<Window>, key: string, now: number, windowMs: number): number {
    let w = map.get(key);
    if (w === undefined) {
      w = new Window(now);
    } else {
      const elapsed = now - w.start;
      if (elapsed >= windowMs) {
        const periods = Math.floor(elapsed / windowMs);
        w.prev = periods === 1 ? w.cur : 0;
        w.cur = 0;
        w.start += periods * windowMs;
      }
    }
    map.set(key, w, now);
    w.cur++;
    const frac = Math.min(1, Math.max(0, (now - w.start) / windowMs));
    return w.prev * (1 - frac) + w.cur;
  }

  /** A user ban that starts within a window of the previous one's end continues that attack. */
  private userAttack(userKey: string, now: number, untilMs: number): { since: number; renewals: number } {
    const prev = this.attacks.get(userKey);
    const attack = prev !== undefined && now - prev.lastUntil <= this.userRule.windowMs
      ? { since: prev.since, renewals: prev.renewals + 1, lastUntil: untilMs }
      : { since: now, renewals: 0, lastUntil: untilMs };
    this.attacks.set(userKey, attack, now);
    return attack;
  }

  private ban(scope: BanScope, bans: GenMap<number>, key: string, r: AuthGuardRule, now: number,
    failures: number, ip: string | undefined, username: string | undefined): void {
    const untilMs = now + r.banMs;
    bans.set(key, untilMs, now);
    this.bansTotal++;
    if (this.onBan === undefined) {
      if (scope === 'user') this.userAttack(key, now, untilMs);
      return;
    }
    const ev: BanEvent = { scope, failures: Math.round(failures * 100) / 100, untilMs, banSec: Math.ceil(r.banMs / 1000) };
    if (ip !== undefined) ev.ip = ip;
    if (username !== undefined) ev.username = username;
    if (scope === 'user') {
      const attack = this.userAttack(key, now, untilMs);
      ev.attackSinceMs = attack.since;
      ev.renewals = attack.renewals;
    }
    try {
      this.onBan(ev);
    } catch {
      // A failing logger must not break authentication.
    }
  }
}

function deny(reason: BanScope, until: number, now: number): GuardVerdict {
  return { allowed: false, reason, retryAfterSec: Math.max(1, Math.ceil((until - now) / 1000)) };
}

function isBanned(bans: GenMap<number>, key: string, now: number): boolean {
  const until = bans.get(key);
  return until !== undefined && until > now;
}

function countActive(bans: GenMap<number>, now: number): number {
  bans.age(now);
  let n = 0;
  for (const [, until] of bans.entries()) if (until > now) n++;
  return n;
}
