import { describe, expect, it } from 'vitest';
import { AuthGuard } from '../../../src/security/auth-guard.ts';
import type { AuthGuardOptions, BanEvent } from '../../../src/security/auth-guard.ts';

function setup(opts: AuthGuardOptions = {}) {
  let t = 1_700_000_000_000;
  const bans: BanEvent[] = [];
  const guard = new AuthGuard({ now: () => t, onBan: (b) => bans.push(b), ...opts });
  return { guard, bans, advance: (ms: number) => { t += ms; } };
}

/** What the authenticator does: ask first, verify only when allowed, record the outcome. */
function attempt(guard: AuthGuard, ip: string, user: string, passwordOk: boolean): 'ok' | 'fail' | 'blocked' {
  if (!guard.check(ip, user).allowed) return 'blocked';
  if (passwordOk) { guard.recordSuccess(ip, user); return 'ok'; }
  guard.recordFailure(ip, user);
  return 'fail';
}

const GW = '192.0.2.10';

describe('AuthGuard per (ip, username)', () => {
  it('bans a pair after 5 failures in the window for 300 s, and reports it once', () => {
    const { guard, bans, advance } = setup();
    for (let i = 0; i < 4; i++) guard.recordFailure(GW, '2001');
    expect(guard.check(GW, '2001')).toEqual({ allowed: true });
    guard.recordFailure(GW, '2001');
    expect(guard.check(GW, '2001')).toEqual({ allowed: false, reason: 'pair', retryAfterSec: 300 });
    expect(bans).toHaveLength(1);
    expect(bans[0]).toMatchObject({ scope: 'pair', ip: GW, username: '2001', banSec: 300 });
    // More failures during the ban (a caller that records anyway) do not log again.
    guard.recordFailure(GW, '2001');
    guard.recordFailure(GW, '2001');
    expect(bans.filter((b) => b.scope === 'pair')).toHaveLength(1);
    advance(120_000);
    expect(guard.check(GW, '2001')).toMatchObject({ allowed: false, retryAfterSec: 180 });
    advance(180_001);
    expect(guard.check(GW, '2001')).toEqual({ allowed: true });
    for (let i = 0; i < 5; i++) guard.recordFailure(GW, '2001');
    expect(guard.check(GW, '2001').allowed).toBe(false);
    expect(bans.filter((b) => b.scope === 'pair')).toHaveLength(2);
  });

  it('uses a sliding window: 5 failures within 30 s ban, 3 a minute never do', () => {
    const a = setup();
    for (let i = 0; i < 4; i++) a.guard.recordFailure(GW, 'u');
    a.advance(60_000 - 30_000);
    a.advance(30_000); // crosses the fixed window edge: the previous window still counts
    a.guard.recordFailure(GW, 'u');
    expect(a.guard.check(GW, 'u').allowed).toBe(false);

    const b = setup();
    for (let i = 0; i < 60; i++) {
      b.guard.recordFailure(GW, 'slow');
      b.advance(20_000);
      expect(b.guard.check(GW, 'slow').allowed).toBe(true);
    }
    expect(b.bans).toHaveLength(0);
  });

  it('does not lock out neighbours behind the same address', () => {
    const { guard } = setup();
    for (let i = 0; i < 5; i++) guard.recordFailure(GW, 'bad');
    expect(guard.check(GW, 'bad').allowed).toBe(false);
    expect(guard.check(GW, 'good').allowed).toBe(true);
    expect(guard.check('198.51.100.7', 'bad').allowed).toBe(true);
  });

  it('a success clears the pair count', () => {
    const { guard } = setup();
    for (let i = 0; i < 4; i++) guard.recordFailure(GW, 'u');
    guard.recordSuccess(GW, 'u');
    for (let i = 0; i < 4; i++) guard.recordFailure(GW, 'u');
    expect(guard.check(GW, 'u').allowed).toBe(true);
  });
});

describe('AuthGuard gateway scenario', () => {
  it('1 IP, 2,000 good users, 1 failing handset: only that pair is banned', () => {
    const { guard, bans } = setup();
    for (let u = 0; u < 2000; u++) expect(attempt(guard, GW, `good${u}`, true)).toBe('ok');
    const outcomes: string[] = [];
    for (let i = 0; i < 300; i++) {
      outcomes.push(attempt(guard, GW, 'broken', false));
      // Re-registrations of the good users keep flowing meanwhile.
      expect(attempt(guard, GW, `good${i % 2000}`, true)).toBe('ok');
    }
    expect(outcomes.filter((o) => o === 'fail')).toHaveLength(5);
    expect(outcomes.slice(5).every((o) => o === 'blocked')).toBe(true);
    expect(bans).toHaveLength(1);
    expect(bans[0]).toMatchObject({ scope: 'pair', ip: GW, username: 'broken' });
    for (let u = 0; u < 2000; u++) expect(guard.check(GW, `good${u}`).allowed).toBe(true);
    expect(guard.stats()).toMatchObject({ failures: 5, successes: 2300, bansActive: 1, bansTotal: 1 });
  });

  it('even a caller that records every failure never gets the gateway address banned', () => {
    const { guard, bans } = setup();
    for (let u = 0; u < 2000; u++) guard.recordSuccess(GW, `good${u}`);
    for (let i = 0; i < 500; i++) guard.recordFailure(GW, `bad${i % 50}`);
    expect(bans.some((b) => b.scope === 'ip')).toBe(false);
    expect(guard.check(GW, 'good7').allowed).toBe(true);
    expect(guard.check(GW, 'bad3')).toMatchObject({ allowed: false, reason: 'pair' });
  });
});

describe('AuthGuard per username', () => {
  it('bans a user attacked from many sources, except sources that authenticated as that user recently', () => {
    const { guard, bans, advance } = setup();
    guard.recordSuccess(GW, 'victim');
    advance(10 * 60_000);
    for (let i = 0; i < 19; i++) guard.recordFailure(`203.0.113.${i}`, 'victim');
    expect(guard.check('203.0.113.200', 'victim').allowed).toBe(true);
    guard.recordFailure('203.0.113.19', 'victim');
    expect(guard.check('203.0.113.200', 'victim')).toEqual({ allowed: false, reason: 'user', retryAfterSec: 300 });
    expect(guard.check('203.0.113.3', 'victim')).toMatchObject({ allowed: false, reason: 'user' });
    expect(guard.check(GW, 'victim')).toEqual({ allowed: true });
    expect(guard.check('203.0.113.200', 'someone-else').allowed).toBe(true);
    expect(bans.filter((b) => b.scope === 'user')).toEqual([expect.objectContaining({ scope: 'user', username: 'victim' })]);
    expect(bans.some((b) => b.scope === 'pair' || b.scope === 'ip')).toBe(false);
  });

  it('trust in a source expires after trustMs', () => {
    const { guard, advance } = setup({ trustMs: 3_600_000 });
    guard.recordSuccess(GW, 'victim');
    advance(3_600_001);
    for (let i = 0; i < 20; i++) guard.recordFailure(`203.0.113.${i}`, 'victim');
    expect(guard.check(GW, 'victim')).toMatchObject({ allowed: false, reason: 'user' });
  });
});

describe('AuthGuard allow-list (addresses where the user authenticated, kept across restarts)', () => {
  const attackers = Array.from({ length: 5 }, (_, i) => `203.0.113.${i + 1}`);
  /** 20 wrong answers from 5 addresses: the default user rule trips. */
  const attack = (guard: AuthGuard) => {
    for (let i = 0; i < 20; i++) guard.recordFailure(attackers[i % 5]!, 'victim');
  };

  it('reports a newly trusted pair once per trustMs, for the caller to persist', () => {
    const trusted: string[] = [];
    const { guard, advance } = setup({ trustMs: 3_600_000, onTrusted: (ip, user) => trusted.push(`${ip} ${user}`) });
    guard.recordSuccess(GW, 'alice');
    advance(60_000);
    guard.recordSuccess(GW, 'alice');
    guard.recordSuccess('198.51.100.9', 'alice');
    expect(trusted).toEqual([`${GW} alice`, '198.51.100.9 alice']);
    advance(3_600_001);
    guard.recordSuccess(GW, 'alice');
    expect(trusted).toEqual([`${GW} alice`, '198.51.100.9 alice', `${GW} alice`]);
  });

  it('a user under attack stays open to its allow-listed addresses even with an empty in-memory trust (a restart)', async () => {
    const asked: string[] = [];
    const { guard } = setup({
      loadAllowList: async (user) => {
        asked.push(user);
        return user === 'victim' ? [GW] : [];
      },
    });
    attack(guard);
    expect(asked).toEqual(['victim']);
    await Promise.resolve(); // the allow-list read resolves
    await Promise.resolve();
    expect(guard.check(GW, 'victim')).toEqual({ allowed: true });
    expect(guard.check('198.51.100.77', 'victim')).toMatchObject({ allowed: false, reason: 'user' });
    for (const ip of attackers) expect(guard.check(ip, 'victim')).toMatchObject({ allowed: false, reason: 'user' });
    expect(guard.stats().entries.allowLists).toBe(1);
  });

  it('an address banned for spraying stays open to the users that have it on their allow-list (or authenticated there lately)', async () => {
    const sprayer = '198.51.100.66';
    const { guard } = setup({ loadAllowedUsers: async (ip) => (ip === sprayer ? ['desk-1'] : []) });
    guard.recordSuccess(sprayer, 'desk-2'); // in memory: one good user, below the gateway exemption (5)
    for (let i = 0; i < 100; i++) guard.recordFailure(sprayer, `user${i}`);
    await Promise.resolve();
    await Promise.resolve();
    expect(guard.check(sprayer, 'desk-1')).toEqual({ allowed: true });
    expect(guard.check(sprayer, 'desk-2')).toEqual({ allowed: true });
    expect(guard.check(sprayer, 'someone')).toMatchObject({ allowed: false, reason: 'ip' });
    guard.unban({ ip: sprayer });
    expect(guard.check(sprayer, 'someone')).toEqual({ allowed: true });
  });

  it('a failing allow-list read leaves the in-memory trust in force', async () => {
    const { guard } = setup({ loadAllowList: () => Promise.reject(new Error('database gone')) });
    guard.recordSuccess('198.51.100.5', 'victim');
    attack(guard);
    await Promise.resolve();
    expect(guard.check('198.51.100.5', 'victim')).toEqual({ allowed: true });
    expect(guard.check(GW, 'victim')).toMatchObject({ allowed: false, reason: 'user' });
  });

  it('counts renewals of an attack so the operator sees how long new addresses are refused, and unban ends it', () => {
    const { guard, bans, advance } = setup();
    attack(guard);
    const first = bans.at(-1)!;
    expect(first).toMatchObject({ scope: 'user', renewals: 0, attackSinceMs: first.untilMs - 300_000 });
    advance(300_001); // the ban ends; the attacker starts again at once
    attack(guard);
    advance(300_001);
    attack(guard);
    expect(bans.at(-1)).toMatchObject({ scope: 'user', renewals: 2, attackSinceMs: first.attackSinceMs });
    expect(guard.activeBans()).toEqual([{ scope: 'user', username: 'victim', untilMs: bans.at(-1)!.untilMs, attackSinceMs: first.attackSinceMs, renewals: 2 }]);
    guard.unban({ username: 'victim' });
    expect(guard.activeBans()).toEqual([]);
    expect(guard.check('198.51.100.77', 'victim')).toEqual({ allowed: true });
    attack(guard);
    expect(bans.at(-1)).toMatchObject({ renewals: 0 }); // a new attack after the operator lifted the last
  });

  it('an attack that pauses longer than a window after its ban ends starts afresh', () => {
    const { guard, bans, advance } = setup();
    attack(guard);
    advance(300_000 + 60_001);
    attack(guard);
    expect(bans.at(-1)).toMatchObject({ scope: 'user', renewals: 0 });
  });
});

describe('AuthGuard per source address', () => {
  it('bans an address spraying usernames', () => {
    const { guard, bans } = setup();
    const sprayer = '198.51.100.66';
    for (let i = 0; i < 99; i++) guard.recordFailure(sprayer, `user${i}`);
    expect(guard.check(sprayer, 'fresh').allowed).toBe(true);
    guard.recordFailure(sprayer, 'user99');
    expect(guard.check(sprayer, 'fresh')).toEqual({ allowed: false, reason: 'ip', retryAfterSec: 300 });
    expect(guard.check('198.51.100.67', 'fresh').allowed).toBe(true);
    expect(bans.filter((b) => b.scope === 'ip')).toEqual([expect.objectContaining({ ip: sprayer })]);
  });

  it('exempts an address with enough recently successful users (configurable)', () => {
    for (const [good, banned] of [[3, false], [2, true]] as const) {
      const { guard } = setup({ ip: { exemptGoodUsers: 3, maxFailures: 10 } });
      for (let u = 0; u < good; u++) guard.recordSuccess(GW, `ok${u}`);
      guard.recordSuccess(GW, 'ok0'); // the same user twice counts once
      for (let i = 0; i < 10; i++) guard.recordFailure(GW, `x${i}`);
      expect(guard.check(GW, 'another').allowed).toBe(!banned);
      expect(guard.stats().bansActiveByScope.ip).toBe(banned ? 1 : 0);
    }
  });

  it('good users stop counting toward the exemption once their trust expires (within 2 x trustMs)', () => {
    const { guard, advance } = setup({ ip: { exemptGoodUsers: 2, maxFailures: 10 }, trustMs: 60_000 });
    guard.recordSuccess(GW, 'a');
    guard.recordSuccess(GW, 'b');
    advance(59_000);
    for (let i = 0; i < 10; i++) guard.recordFailure(GW, `x${i}`);
    expect(guard.check(GW, 'a').allowed).toBe(true);
    advance(2 * 60_000);
    for (let i = 0; i < 10; i++) guard.recordFailure(GW, `y${i}`);
    expect(guard.check(GW, 'a')).toMatchObject({ allowed: false, reason: 'ip' });
    expect(guard.stats().entries.trustedPairs).toBe(0);
  });
});

describe('AuthGuard bookkeeping', () => {
  it('stats count failures, successes, active and total bans', () => {
    const { guard, advance } = setup();
    for (let i = 0; i < 5; i++) guard.recordFailure('10.0.0.1', 'a');
    advance(1000);
    for (let i = 0; i < 5; i++) guard.recordFailure('10.0.0.2', 'b');
    guard.recordSuccess('10.0.0.3', 'c');
    expect(guard.stats()).toMatchObject({ failures: 10, successes: 1, bansActive: 2, bansTotal: 2, bansActiveByScope: { pair: 2, user: 0, ip: 0 } });
    expect(guard.activeBans().map((b) => `${b.scope}:${b.ip}:${b.username}`).sort()).toEqual(['pair:10.0.0.1:a', 'pair:10.0.0.2:b']);
    advance(299_500);
    expect(guard.stats().bansActive).toBe(1);
    advance(1000);
    expect(guard.stats()).toMatchObject({ bansActive: 0, bansTotal: 2 });
  });

  it('unban lifts a ban early', () => {
    const { guard } = setup();
    for (let i = 0; i < 5; i++) guard.recordFailure(GW, 'u');
    expect(guard.check(GW, 'u').allowed).toBe(false);
    guard.unban({ ip: GW, username: 'u' });
    expect(guard.check(GW, 'u').allowed).toBe(true);
  });

  it('survives a throwing onBan', () => {
    const guard = new AuthGuard({ onBan: () => { throw new Error('logger down'); } });
    expect(() => { for (let i = 0; i < 5; i++) guard.recordFailure(GW, 'u'); }).not.toThrow();
    expect(guard.check(GW, 'u').allowed).toBe(false);
  });

  it('keeps keys short whatever the username length', () => {
    const { guard, bans } = setup();
    const long = 'x'.repeat(10_000);
    for (let i = 0; i < 5; i++) guard.recordFailure(GW, long);
    expect(guard.check(GW, long).allowed).toBe(false);
    expect(guard.check(GW, long + 'y').allowed).toBe(true);
    expect((bans[0]?.username ?? '').length).toBeLessThanOrEqual(128);
  });

  it('stays within its memory cap under a flood of random keys', () => {
    const cap = 10_000;
    const { guard } = setup({ maxEntries: cap, ip: { maxFailures: 1e9 }, user: { maxFailures: 1e9 } });
    let seed = 12345;
    const rnd = () => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed; };
    for (let i = 0; i < 1_000_000; i++) {
      guard.recordFailure(`${rnd() & 0xff}.${rnd() & 0xff}.${rnd() & 0xff}.${rnd() & 0xff}`, `u${rnd()}`);
    }
    for (let i = 0; i < 50_000; i++) guard.recordSuccess(`10.${rnd() & 0xff}.${rnd() & 0xff}.1`, `s${rnd()}`);
    const e = guard.stats().entries;
    expect(guard.stats().failures).toBe(1_000_000);
    for (const size of Object.values(e)) expect(size).toBeLessThanOrEqual(cap);
    expect(e.pairCounters).toBeGreaterThanOrEqual(cap / 2);
    expect(e.trustedPairs).toBeGreaterThanOrEqual(cap / 2);
  }, 60_000);

  it('caps the ban table too, keeping the newest bans', () => {
    const { guard } = setup({ maxEntries: 100, pair: { maxFailures: 1 }, user: { maxFailures: 1e9 }, ip: { maxFailures: 1e9 } });
    for (let i = 0; i < 1000; i++) guard.recordFailure(`10.0.${i >> 8}.${i & 0xff}`, 'u');
    expect(guard.stats().entries.bans).toBeLessThanOrEqual(100);
    expect(guard.check('10.0.3.231', 'u').allowed).toBe(false); // i = 999
    expect(guard.stats().bansTotal).toBe(1000);
  });
});
