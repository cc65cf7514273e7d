// What a worker keeps of refusals and sightings: a few per user, a small ring
// for names nobody has, and last seen refreshed in place.
import { describe, expect, it } from 'vitest';
import { mergeHealth, RegistrationHealth } from '../../../../src/pbx/registrar/registration-health.ts';

const SRC = { transport: 'udp' as const, address: '192.0.2.9', port: 5062 };

describe('RegistrationHealth', () => {
  it('keeps the newest five refusals per user, the last first, in plain words', () => {
    let now = 1000;
    const h = new RegistrationHealth(() => now);
    for (let i = 0; i < 8; i++) {
      now += 1000;
      h.refused({ reason: i === 7 ? 'banned' : 'wrong-password', extension: '2001', user: '2001', source: SRC, until: i === 7 ? 400_000 : undefined });
    }
    const u = h.user('2001');
    expect(u.failures).toHaveLength(5);
    expect(u.failures[0]).toMatchObject({ reason: 'banned', at: 9000, until: 400_000, address: '192.0.2.9', port: 5062, transport: 'udp', method: 'TLS' });
    expect(u.failures[0]!.text).toBe('banned until 1970-01-01 00:06:40 UTC (too many failed attempts)');
    expect(u.failures[1]!.text).toBe('wrong password (digest response did not match)');
  });

  it('holds unknown names in one ring of 50 however many come, never per name', () => {
    const h = new RegistrationHealth(() => 0);
    for (let i = 0; i < 10_000; i++) h.refused({ reason: 'unknown-user', extension: undefined, user: `x${i}`, source: { ...SRC, port: 1024 + i } });
    expect(h.strangerFailures()).toHaveLength(50);
    expect(h.strangerFailures()[0]!.user).toBe('x9999');
    expect(h.summary()).toEqual([]);
  });

  it('records a flood from one source once a second, not once per packet', () => {
    let now = 0;
    const h = new RegistrationHealth(() => now);
    for (let i = 0; i < 1000; i++) {
      now = i;
      h.refused({ reason: 'banned', extension: '2001', user: '2001', source: SRC, until: 60_000 });
    }
    expect(h.user('2001').failures.map((f) => f.at)).toEqual([0]);
    now = 1000;
    h.refused({ reason: 'banned', extension: '2001', user: '2001', source: SRC, until: 60_000 });
    h.refused({ reason: 'wrong-password', extension: '2001', user: '2001', source: SRC });
    expect(h.user('2001').failures.map((f) => f.reason)).toEqual(['wrong-password', 'banned', 'banned']);
  });

  it('caps the users it keeps, refreshes last seen in place, and forgets a removed user', () => {
    let now = 0;
    const h = new RegistrationHealth(() => now, { maxUsers: 3 });
    for (const ext of ['1', '2', '3', '4']) h.authenticated(ext, 'REGISTER', SRC);
    expect(h.summary().map(([e]) => e)).toEqual(['2', '3', '4']);
    const seen = h.user('4').lastSeen;
    now = 500;
    h.authenticated('4', 'INVITE', { ...SRC, port: 6000 });
    expect(h.user('4').lastSeen).toBe(seen);
    expect(seen).toMatchObject({ at: 500, method: 'INVITE', port: 6000 });
    h.forget('4');
    expect(h.user('4')).toEqual({ failures: [], lastSeen: null });
  });

  it('merges workers: failures newest first, the latest sighting', () => {
    const a = { failures: [{ at: 5 }, { at: 1 }], lastSeen: { at: 3 } } as never;
    const b = { failures: [{ at: 4 }], lastSeen: { at: 7 } } as never;
    const m = mergeHealth([a, b]);
    expect(m.failures.map((f) => f.at)).toEqual([5, 4, 1]);
    expect(m.lastSeen?.at).toBe(7);
  });
});
