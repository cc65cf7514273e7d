import { afterEach, describe, expect, it } from 'vitest';
import {
  burnVerify, ensureInitialAdmin, generatePassword, hashPassword, LoginLimiter, mustChangePassword, passwordProblems,
  resetAdminPassword, verifyPassword,
} from '../../../src/security/admin-auth.ts';
import type { AdminAccount } from '../../../src/store/admin-types.ts';
import { tempStores } from '../store/helpers.ts';

const POLICY = { minLength: 12, requireClasses: 3, maxAgeDays: 0 };

describe('password hashing', () => {
  it('verifies the right password only, with a fresh salt per hash', async () => {
    const h1 = await hashPassword('Correct horse 1');
    const h2 = await hashPassword('Correct horse 1');
    expect(h1).toMatch(/^scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}$/);
    expect(h1).not.toBe(h2);
    expect(await verifyPassword('Correct horse 1', h1)).toBe(true);
    expect(await verifyPassword('Correct horse 1', h2)).toBe(true);
    expect(await verifyPassword('correct horse 1', h1)).toBe(false);
    expect(await verifyPassword('', h1)).toBe(false);
  });

  it('treats malformed or out-of-bounds hashes as a mismatch', async () => {
    const h = await hashPassword('pw');
    expect(await verifyPassword('pw', 'plain-text-password')).toBe(false);
    expect(await verifyPassword('pw', h.replace('ln=15', 'ln=30'))).toBe(false); // would need 32 GiB
    expect(await verifyPassword('pw', h.replace('r=8', 'r=99'))).toBe(false);
    expect(await verifyPassword('pw', `${h.slice(0, -8)}AAAAAAA=`)).toBe(false);
    expect(await burnVerify('pw')).toBe(false);
  });
});

describe('generated passwords', () => {
  it('are long, random and mix every character class', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const pw = generatePassword();
      expect(pw).toMatch(/^[A-Za-z0-9]{4}(-[A-Za-z0-9]{4}){3}$/);
      expect(pw).not.toMatch(/[0O1lI]/);
      expect(passwordProblems(pw, { minLength: 16, requireClasses: 4, maxAgeDays: 0 })).toEqual([]);
      seen.add(pw);
    }
    expect(seen.size).toBe(50);
    expect(generatePassword(30).replace(/-/g, '').length).toBeGreaterThanOrEqual(30);
  });
});

describe('password policy', () => {
  it('reports each broken rule', () => {
    expect(passwordProblems('Short-1', POLICY)).toEqual(['must have at least 12 characters']);
    expect(passwordProblems('onlylowercaseletters', POLICY)).toEqual([expect.stringMatching(/at least 3 of/)]);
    expect(passwordProblems('Lower-and-UPPER', POLICY)).toEqual([]);
    expect(passwordProblems('Lower-and-UPPER', { ...POLICY, requireClasses: 4 })).toEqual([expect.stringMatching(/at least 4 of/)]);
    expect(passwordProblems('Has-Admin-Name-1', POLICY, { name: 'admin' })).toEqual(['must not contain the account name']);
    expect(passwordProblems('Same-Password-1', POLICY, { current: 'Same-Password-1' })).toEqual(['must differ from the current password']);
    expect(passwordProblems('Tab\there-Pass-1', POLICY)).toEqual(['must not contain control characters']);
    expect(passwordProblems('A1-'.repeat(90), POLICY)).toEqual(['must have at most 256 characters']);
  });

  it('expires passwords older than maxAgeDays, and honours the must-change flag', () => {
    const day = 86_400_000;
    const account = { mustChangePassword: false, passwordChangedAt: 0 } as AdminAccount;
    expect(mustChangePassword(account, POLICY, 1000 * day)).toBe(false); // 0 = never
    expect(mustChangePassword(account, { ...POLICY, maxAgeDays: 30 }, 30 * day)).toBe(false);
    expect(mustChangePassword(account, { ...POLICY, maxAgeDays: 30 }, 30 * day + 1)).toBe(true);
    expect(mustChangePassword({ ...account, mustChangePassword: true }, POLICY, 0)).toBe(true);
  });
});

describe('LoginLimiter', () => {
  const rule = { failures: 3, sourceFailures: 5, windowSec: 60, lockSec: 300, slowdownSec: 10 };
  const clock = () => {
    let t = 1_000_000;
    return { now: () => t, advance: (ms: number) => (t += ms) };
  };
  const ATTACKER = '203.0.113.66';

  it('locks a name for one address after the failures, for lockSec, even for the right password; other addresses stay open', () => {
    const c = clock();
    const l = new LoginLimiter(rule, c.now);
    expect(l.recordFailure('admin', ATTACKER)).toEqual({ pairLocked: false, underAttack: false });
    expect(l.recordFailure('Admin', ATTACKER).pairLocked).toBe(false);
    expect(l.check('admin', ATTACKER)).toEqual({ allowed: true });
    expect(l.recordFailure('ADMIN ', ATTACKER)).toEqual({ pairLocked: true, underAttack: true });
    expect(l.check('admin', ATTACKER)).toEqual({ allowed: false, status: 423, retryAfterSec: 300 });
    // The owner's usual address and a new one both get in (the new one slowed, not locked).
    expect(l.check('admin', '10.0.0.1', { known: true })).toEqual({ allowed: true });
    expect(l.check('admin', '10.0.0.2')).toEqual({ allowed: true });
    c.advance(299_000);
    expect(l.check('admin', ATTACKER)).toEqual({ allowed: false, status: 423, retryAfterSec: 1 });
    c.advance(1_000);
    expect(l.check('admin', ATTACKER)).toEqual({ allowed: true });
    expect(l.check('other', ATTACKER)).toEqual({ allowed: true });
  });

  it('an account under attack from many addresses slows new addresses to one try per slowdownSec, never known ones', () => {
    const c = clock();
    const l = new LoginLimiter(rule, c.now);
    for (let i = 0; i < 3; i++) expect(l.recordFailure('admin', `198.51.100.${i}`).pairLocked).toBe(false);
    expect(l.locks()).toEqual([{ scope: 'account', name: 'admin', untilMs: c.now() + 300_000 }]);
    const fresh = '192.0.2.50';
    expect(l.check('admin', fresh)).toEqual({ allowed: true }); // the first try goes through...
    expect(l.check('admin', fresh)).toEqual({ allowed: false, status: 429, retryAfterSec: 10 }); // ...the next waits
    c.advance(4_000);
    expect(l.check('admin', fresh)).toEqual({ allowed: false, status: 429, retryAfterSec: 6 });
    expect(l.check('admin', '192.0.2.51')).toEqual({ allowed: true }); // each address has its own pace
    for (let i = 0; i < 20; i++) expect(l.check('admin', '10.0.0.1', { known: true })).toEqual({ allowed: true });
    c.advance(6_000);
    expect(l.check('admin', fresh)).toEqual({ allowed: true });
    l.recordSuccess('admin', fresh); // the owner on a new address got in: its pace is reset
    expect(l.check('admin', fresh)).toEqual({ allowed: true });
    c.advance(300_000); // the attack is over
    expect(l.check('admin', fresh)).toEqual({ allowed: true });
    expect(l.check('admin', fresh)).toEqual({ allowed: true });
    expect(l.check('other', fresh)).toEqual({ allowed: true });
  });

  it('counts failures in a sliding window, and a success clears that address', () => {
    const c = clock();
    const l = new LoginLimiter(rule, c.now);
    l.recordFailure('admin', 'a');
    l.recordFailure('admin', 'a');
    c.advance(61_000); // both fell out of the window
    expect(l.recordFailure('admin', 'a').pairLocked).toBe(false);
    l.recordFailure('admin', 'a');
    l.recordSuccess('admin', 'a');
    expect(l.recordFailure('admin', 'a').pairLocked).toBe(false);
    expect(l.check('admin', 'a').allowed).toBe(true);
  });

  it('blocks a source address across names (429), except for an account that logged in from it', () => {
    const c = clock();
    const l = new LoginLimiter(rule, c.now);
    for (let i = 0; i < 5; i++) l.recordFailure(`user${i}`, '192.0.2.9');
    expect(l.check('fresh', '192.0.2.9')).toEqual({ allowed: false, status: 429, retryAfterSec: 300 });
    expect(l.check('admin', '192.0.2.9', { known: true })).toEqual({ allowed: true });
    expect(l.check('fresh', '192.0.2.10')).toEqual({ allowed: true });
  });

  it('a known address is locked by its own failures only', () => {
    const c = clock();
    const l = new LoginLimiter(rule, c.now);
    for (let i = 0; i < 3; i++) l.recordFailure('admin', '10.0.0.1');
    expect(l.check('admin', '10.0.0.1', { known: true })).toMatchObject({ allowed: false, status: 423 });
  });

  it('lifts a pair lock when the password was changed after it began', () => {
    const c = clock();
    const l = new LoginLimiter(rule, c.now);
    for (let i = 0; i < 3; i++) l.recordFailure('admin', 'x');
    const lockedAt = c.now();
    expect(l.check('admin', 'x', { passwordChangedAt: lockedAt - 1 }).allowed).toBe(false);
    expect(l.check('admin', 'x', { passwordChangedAt: lockedAt + 1 }).allowed).toBe(true);
  });

  it('lists locks and lifts them by pair, name or address', () => {
    const c = clock();
    const l = new LoginLimiter(rule, c.now);
    for (let i = 0; i < 5; i++) l.recordFailure(i < 3 ? 'admin' : `n${i}`, ATTACKER);
    const until = c.now() + 300_000;
    expect(l.locks()).toEqual(expect.arrayContaining([
      { scope: 'pair', name: 'admin', ip: ATTACKER, untilMs: until },
      { scope: 'source', ip: ATTACKER, untilMs: until },
      { scope: 'account', name: 'admin', untilMs: until },
    ]));
    expect(l.locks()).toHaveLength(3);
    expect(l.lift({ scope: 'pair', name: 'ADMIN', ip: ATTACKER })).toBe(1);
    expect(l.check('admin', ATTACKER)).toMatchObject({ status: 429 }); // the address block remains
    expect(l.lift({ scope: 'source', ip: ATTACKER })).toBe(1);
    expect(l.lift({ scope: 'account', name: 'admin' })).toBe(1);
    expect(l.locks()).toEqual([]);
    expect(l.check('admin', ATTACKER)).toEqual({ allowed: true });
    expect(l.lift({ scope: 'account', name: 'nobody' })).toBe(0);
  });

  it('stays bounded under a flood of names and addresses, keeping active locks', () => {
    const c = clock();
    const l = new LoginLimiter({ ...rule, sourceFailures: 1_000_000 }, c.now, 100);
    for (let i = 0; i < 3; i++) l.recordFailure('admin', 'x');
    for (let i = 0; i < 10_000; i++) l.recordFailure(`n${i}`, 'x');
    for (let i = 0; i < 10_000; i++) l.check('admin', `10.1.${i >> 8}.${i & 0xff}`);
    expect(l.check('admin', 'x').allowed).toBe(false);
    const sizes = l as unknown as Record<'names' | 'pairs' | 'ips' | 'paced', Map<string, unknown>>;
    for (const m of [sizes.names, sizes.pairs, sizes.ips, sizes.paced]) expect(m.size).toBeLessThanOrEqual(100);
  });
});

describe('initial administrator and reset', () => {
  const stores = tempStores();
  afterEach(() => stores.cleanup());

  it('creates admin once, with both roles and a forced change, storing only the hash', async () => {
    const store = stores.open();
    const pw = await ensureInitialAdmin(store.admin, POLICY);
    expect(pw).toMatch(/^\S{16,}$/);
    const admin = (await store.admin.accounts.get('admin'))!;
    expect(admin).toMatchObject({ roles: ['admin', 'security-admin'], mustChangePassword: true, enabled: true });
    expect(admin.passwordHash).not.toContain(pw!);
    expect(await verifyPassword(pw!, admin.passwordHash)).toBe(true);
    expect(await ensureInitialAdmin(store.admin, POLICY)).toBeNull();
    expect(await store.admin.accounts.count()).toBe(1);
  });

  it('resets a password: enabled again, sessions ended, audited', async () => {
    const store = stores.open();
    await ensureInitialAdmin(store.admin, POLICY);
    const a = await store.admin.accounts.update('admin', { enabled: false, mustChangePassword: false });
    await store.admin.sessions.create({ idHash: 'h', adminId: a.id, csrfToken: 't', sourceIp: '::1', createdAt: 1, lastSeenAt: 1 });
    const pw = await resetAdminPassword(store.admin, 'admin', POLICY);
    const after = (await store.admin.accounts.get('admin'))!;
    expect(after).toMatchObject({ enabled: true, mustChangePassword: true });
    expect(after.passwordChangedAt).toBeGreaterThanOrEqual(a.passwordChangedAt);
    expect(await verifyPassword(pw, after.passwordHash)).toBe(true);
    expect(await store.admin.sessions.get('h')).toBeUndefined();
    expect((await store.admin.audit.list())[0]).toMatchObject({ actor: '-', action: 'reset-password (command line)', target: 'admin:admin' });
    await expect(resetAdminPassword(store.admin, 'nobody', POLICY)).rejects.toMatchObject({ code: 'not-found' });
  });
});
