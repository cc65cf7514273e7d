// Administrator credentials (SPEC 4.1, A-23): scrypt password hashes, the
// password policy, generated one-time passwords, and login lockout.
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { StoreError } from '../store/errors.ts';
import type { AdminAccount, AdminStore } from '../store/admin-types.ts';

/**
 * log2(N)=15, r=8: 32 MiB and roughly 0.1 s per hash on a server core, which
 * makes offline guessing of a stolen database slow while a login stays quick.
 */
const SCRYPT = { logN: 15, r: 8, p: 1, keyLen: 32, saltLen: 16 };
const MAX_MEM = 128 * 1024 * 1024;

function scryptAsync(password: string, salt: Buffer, keyLen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, keyLen, opts, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** "scrypt$ln=15,r=8,p=1$<salt base64>$<key base64>": salt and parameters travel with the hash. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SCRYPT.saltLen);
  const key = await scryptAsync(password, salt, SCRYPT.keyLen, { N: 2 ** SCRYPT.logN, r: SCRYPT.r, p: SCRYPT.p, maxmem: MAX_MEM });
  return `scrypt$ln=${SCRYPT.logN},r=${SCRYPT.r},p=${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

interface ParsedHash {
  logN: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

function parseHash(hash: string): ParsedHash | undefined {
  const m = /^scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(hash);
  if (!m) return undefined;
  const [logN, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // Bounds keep a tampered row from turning one login into a memory bomb.
  if (logN < 10 || logN > 20 || r < 1 || r > 32 || p < 1 || p > 16) return undefined;
  const salt = Buffer.from(m[4]!, 'base64');
  const key = Buffer.from(m[5]!, 'base64');
  if (salt.length < 8 || key.length < 16 || key.length > 128) return undefined;
  return { logN, r, p, salt, key };
}

/** Constant-time comparison; false for a malformed hash. */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  const h = parseHash(hash);
  if (!h) return false;
  const key = await scryptAsync(password, h.salt, h.key.length, { N: 2 ** h.logN, r: h.r, p: h.p, maxmem: MAX_MEM });
  return timingSafeEqual(key, h.key);
}

let dummyHash: Promise<string> | undefined;

/**
 * Verifies against a throwaway hash with the same parameters, so a login for
 * an unknown or disabled account costs as long as a wrong password.
 */
export async function burnVerify(password: string): Promise<false> {
  dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
  await verifyPassword(password, await dummyHash);
  return false;
}

// No 0/O, 1/l/I: one-time passwords are read off a terminal and typed.
const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';

/**
 * A random one-time password from crypto.randomBytes: groups of four
 * characters joined by '-' (e.g. "Xk4p-9Rtq-Lm2w-Vb7n"), at least `minChars`
 * letters and digits (default 16, about 93 bits), all four character classes.
 */
export function generatePassword(minChars = 16): string {
  const groups = Math.max(4, Math.ceil(minChars / 4));
  const limit = 256 - (256 % ALPHABET.length); // rejection sampling: no modulo bias
  for (let attempt = 0; attempt < 100; attempt++) {
    let chars = '';
    while (chars.length < groups * 4) {
      for (const b of randomBytes(groups * 8)) {
        if (b < limit && chars.length < groups * 4) chars += ALPHABET[b % ALPHABET.length];
      }
    }
    if (/[a-z]/.test(chars) && /[A-Z]/.test(chars) && /[0-9]/.test(chars)) {
      return chars.match(/.{4}/g)!.join('-');
    }
  }
  throw new Error('could not generate a password'); // ~never: each try succeeds with p > 0.99
}

export interface PasswordPolicy {
  minLength: number;
  requireClasses: number;
  maxAgeDays: number;
}

export const MAX_PASSWORD_LENGTH = 256;
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\x00-\x1f\x7f]/;

/** What is wrong with a new password under the policy; empty when it is acceptable. */
export function passwordProblems(
  password: string,
  policy: PasswordPolicy,
  ctx: { name?: string; current?: string } = {},
): string[] {
  const problems: string[] = [];
  if (password.length < policy.minLength) problems.push(`must have at least ${policy.minLength} characters`);
  if (password.length > MAX_PASSWORD_LENGTH) problems.push(`must have at most ${MAX_PASSWORD_LENGTH} characters`);
  if (CONTROL_RE.test(password)) problems.push('must not contain control characters');
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((re) => re.test(password)).length;
  if (classes < policy.requireClasses) {
    problems.push(`must mix at least ${policy.requireClasses} of: lowercase letters, uppercase letters, digits, other characters`);
  }
  if (ctx.name && ctx.name.length >= 3 && password.toLowerCase().includes(ctx.name.toLowerCase())) {
    problems.push('must not contain the account name');
  }
  if (ctx.current !== undefined && password === ctx.current) problems.push('must differ from the current password');
  return problems;
}

const DAY_MS = 86_400_000;

/** True when the account must choose a new password before doing anything else. */
export function mustChangePassword(account: AdminAccount, policy: PasswordPolicy, now: number): boolean {
  if (account.mustChangePassword) return true;
  return policy.maxAgeDays > 0 && now - account.passwordChangedAt > policy.maxAgeDays * DAY_MS;
}

export interface LockoutRule {
  /**
   * Failures of one account name from one address within the window that
   * lock that pair; the same count from all addresses together puts the
   * account under attack (a slowdown for addresses it never logged in from).
   */
  failures: number;
  /** Failures from one source address within the window that block it. */
  sourceFailures: number;
  windowSec: number;
  lockSec: number;
  /** Under attack, an address that never logged in to the account may try once per this many seconds. Default 10. */
  slowdownSec?: number;
}

export type LoginVerdict =
  | { allowed: true }
  | { allowed: false; status: 423 | 429; retryAfterSec: number };

/** What a failure set off, for the audit log. */
export interface FailureOutcome {
  /** This address is now locked out of this account name. */
  pairLocked: boolean;
  /** The account came under attack: addresses it never logged in from are slowed down. */
  underAttack: boolean;
}

/** One lock or slowdown in force, as the bans list shows it. */
export interface LoginLock {
  /** 'pair': name from ip locked (423); 'source': ip blocked for all names (429); 'account': name under attack, unknown addresses slowed. */
  scope: 'pair' | 'source' | 'account';
  name?: string;
  ip?: string;
  untilMs: number;
}

interface Tally {
  /** Failure times inside the window, oldest first, at most the threshold. */
  fails: number[];
  lockedAt: number;
  lockedUntil: number;
}

/**
 * Login brute-force protection that an anonymous attacker cannot turn against
 * the administrator:
 * - (name, address): `failures` failures lock that pair (423, even with the
 *   right password, until lockSec passes or the password is reset); names are
 *   counted known or not, so a lock does not reveal which names exist;
 * - address: `sourceFailures` failures across names block it (429), which
 *   stops one client spraying names;
 * - name: `failures` failures from all addresses together put the account
 *   under attack for lockSec: an address that never logged in to it may try
 *   once per slowdownSec (429 in between), never locked out as a whole.
 * An address the account logged in from before (`known`, kept by the caller)
 * passes the address block and the slowdown; only its own failures lock it.
 * Memory is bounded: idle entries go first when a table is full.
 */
export class LoginLimiter {
  private readonly names = new Map<string, Tally>();
  private readonly pairs = new Map<string, Tally>();
  private readonly ips = new Map<string, Tally>();
  /** name\0ip -> time of the last attempt let through while the name is under attack. */
  private readonly paced = new Map<string, number>();
  private readonly slowdownMs: number;

  constructor(
    private readonly rule: LockoutRule,
    private readonly now: () => number = Date.now,
    private readonly maxEntries = 10_000,
  ) {
    this.slowdownMs = (rule.slowdownSec ?? 10) * 1000;
  }

  /**
   * May this attempt be verified now? known: the account logged in from this
   * address before. passwordChangedAt: a password set after a lock began (e.g.
   * a reset) lifts it. An attempt let through while slowed uses up the slot.
   */
  check(name: string, ip: string, opts: { known?: boolean; passwordChangedAt?: number } = {}): LoginVerdict {
    const t = this.now();
    const pk = pairKey(name, ip);
    const pair = this.pairs.get(pk);
    if (pair && pair.lockedUntil > t && !(opts.passwordChangedAt !== undefined && opts.passwordChangedAt > pair.lockedAt)) {
      return { allowed: false, status: 423, retryAfterSec: secondsUntil(pair.lockedUntil, t) };
    }
    if (opts.known) return { allowed: true };
    const byIp = this.ips.get(ip);
    if (byIp && byIp.lockedUntil > t) return { allowed: false, status: 429, retryAfterSec: secondsUntil(byIp.lockedUntil, t) };
    const byName = this.names.get(nameKey(name));
    if (byName && byName.lockedUntil > t) {
      const last = this.paced.get(pk);
      if (last !== undefined && t - last < this.slowdownMs) return { allowed: false, status: 429, retryAfterSec: secondsUntil(last + this.slowdownMs, t) };
      if (this.paced.size >= this.maxEntries) this.paced.clear(); // a flood of addresses: start pacing afresh
      this.paced.set(pk, t);
    }
    return { allowed: true };
  }

  recordFailure(name: string, ip: string): FailureOutcome {
    const t = this.now();
    this.bump(this.ips, ip, this.rule.sourceFailures, t);
    return {
      pairLocked: this.bump(this.pairs, pairKey(name, ip), this.rule.failures, t),
      underAttack: this.bump(this.names, nameKey(name), this.rule.failures, t),
    };
  }

  /** Clears this address's failures for the name; an attack on the name from elsewhere goes on. */
  recordSuccess(name: string, ip: string): void {
    const pk = pairKey(name, ip);
    this.pairs.delete(pk);
    this.paced.delete(pk);
  }

  /** Locks and slowdowns in force now. */
  locks(): LoginLock[] {
    const t = this.now();
    const out: LoginLock[] = [];
    for (const [k, v] of this.pairs) {
      if (v.lockedUntil <= t) continue;
      const cut = k.indexOf('\0');
      out.push({ scope: 'pair', name: k.slice(0, cut), ip: k.slice(cut + 1), untilMs: v.lockedUntil });
    }
    for (const [k, v] of this.ips) if (v.lockedUntil > t) out.push({ scope: 'source', ip: k, untilMs: v.lockedUntil });
    for (const [k, v] of this.names) if (v.lockedUntil > t) out.push({ scope: 'account', name: k, untilMs: v.lockedUntil });
    return out;
  }

  /** Lifts one lock or slowdown early (operator action); returns 1 when it was in force, else 0. */
  lift(target: { scope: 'pair'; name: string; ip: string } | { scope: 'source'; ip: string } | { scope: 'account'; name: string }): number {
    const [map, key] = target.scope === 'pair' ? [this.pairs, pairKey(target.name, target.ip)]
      : target.scope === 'source' ? [this.ips, target.ip] : [this.names, nameKey(target.name)];
    const v = map.get(key);
    map.delete(key);
    return v !== undefined && v.lockedUntil > this.now() ? 1 : 0;
  }

  private bump(map: Map<string, Tally>, key: string, threshold: number, t: number): boolean {
    let tally = map.get(key);
    if (!tally) {
      if (map.size >= this.maxEntries) this.evict(map, t);
      tally = { fails: [], lockedAt: 0, lockedUntil: 0 };
      map.set(key, tally);
    }
    const windowStart = t - this.rule.windowSec * 1000;
    while (tally.fails.length > 0 && tally.fails[0]! <= windowStart) tally.fails.shift();
    tally.fails.push(t);
    if (tally.fails.length > threshold) tally.fails.shift();
    if (tally.fails.length >= threshold && tally.lockedUntil <= t) {
      tally.lockedAt = t;
      tally.lockedUntil = t + this.rule.lockSec * 1000;
      tally.fails = [];
      return true;
    }
    return false;
  }

  private evict(map: Map<string, Tally>, t: number): void {
    const windowStart = t - this.rule.windowSec * 1000;
    for (const [k, v] of map) {
      if (v.lockedUntil <= t && (v.fails.length === 0 || v.fails[v.fails.length - 1]! <= windowStart)) map.delete(k);
    }
    // Still full: drop the oldest unlocked entries, then (a flood of locks) the oldest of all.
    for (const [k, v] of map) {
      if (map.size < this.maxEntries) return;
      if (v.lockedUntil <= t) map.delete(k);
    }
    for (const k of map.keys()) {
      if (map.size < this.maxEntries) return;
      map.delete(k);
    }
  }
}

function pairKey(name: string, ip: string): string {
  return nameKey(name) + '\0' + ip;
}

/** The account's key in the limiter and in the store's trusted addresses. */
export function nameKey(name: string): string {
  return name.trim().toLowerCase().slice(0, 128);
}

function secondsUntil(until: number, t: number): number {
  return Math.max(1, Math.ceil((until - t) / 1000));
}

export const INITIAL_ADMIN = 'admin';

/**
 * First start: no account yet, so create `admin` (both configuration and
 * security roles, so a fresh install is usable) with a one-time password
 * that must be changed at the first login. Returns that password, or null
 * when an account already exists. Only the hash is stored.
 */
export async function ensureInitialAdmin(admin: AdminStore, policy: PasswordPolicy): Promise<string | null> {
  if (await admin.accounts.count() > 0) return null;
  const password = generatePassword(policy.minLength);
  const passwordHash = await hashPassword(password);
  try {
    await admin.accounts.add({ name: INITIAL_ADMIN, roles: ['admin', 'security-admin'], passwordHash, mustChangePassword: true });
  } catch (err) {
    // Another process created it between the count and the insert.
    if (err instanceof StoreError && err.code === 'duplicate') return null;
    throw err;
  }
  return password;
}

/**
 * Recovery from the machine itself (`switchboard admin reset-password`): a new
 * one-time password, the account enabled, its sessions ended. With no
 * account at all, creates the initial one. @throws StoreError not-found
 */
export async function resetAdminPassword(admin: AdminStore, name: string, policy: PasswordPolicy, now = Date.now()): Promise<string> {
  const password = generatePassword(policy.minLength);
  const passwordHash = await hashPassword(password);
  const existing = await admin.accounts.get(name);
  let account: AdminAccount;
  if (!existing && await admin.accounts.count() === 0) {
    account = await admin.accounts.add({ name, roles: ['admin', 'security-admin'], passwordHash, mustChangePassword: true });
  } else {
    account = await admin.accounts.update(name, { passwordHash, mustChangePassword: true, enabled: true });
    await admin.sessions.removeForAdmin(account.id);
  }
  await admin.audit.append({
    at: now, actor: '-', sourceIp: null, action: 'reset-password (command line)', target: `admin:${account.name}`,
    before: null, after: { mustChangePassword: true, enabled: true },
  });
  return password;
}
