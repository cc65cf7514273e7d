import { describe, expect, it } from 'vitest';
import { clockProblem, expiryLevel } from '../../../src/security/cert-checks.ts';

const DAY = 86_400_000;
const notAfter = new Date('2027-06-01T00:00:00Z');
const before = (ms: number): Date => new Date(notAfter.getTime() - ms);

describe('expiryLevel', () => {
  it('is ok beyond 30 days, then 30/7/1-day levels at each threshold, then expired', () => {
    expect(expiryLevel(notAfter, before(31 * DAY))).toBe('ok');
    expect(expiryLevel(notAfter, before(30 * DAY + 1))).toBe('ok');
    expect(expiryLevel(notAfter, before(30 * DAY))).toBe('days30');
    expect(expiryLevel(notAfter, before(7 * DAY + 1))).toBe('days30');
    expect(expiryLevel(notAfter, before(7 * DAY))).toBe('days7');
    expect(expiryLevel(notAfter, before(DAY + 1))).toBe('days7');
    expect(expiryLevel(notAfter, before(DAY))).toBe('days1');
    expect(expiryLevel(notAfter, before(1))).toBe('days1');
    expect(expiryLevel(notAfter, notAfter)).toBe('expired');
    expect(expiryLevel(notAfter, new Date(notAfter.getTime() + DAY))).toBe('expired');
  });
});

describe('clockProblem (EC-12, B-23)', () => {
  const cert = { notBefore: new Date('2026-12-01T10:00:00Z'), notAfter };

  it('says a clock before the start is a clock problem, with both times and the NTP cure', () => {
    expect(clockProblem(cert, new Date('2019-01-01T00:00:00Z'))).toBe(
      "the clock (2019-01-01T00:00:00Z) is before this certificate's start (2026-12-01T10:00:00Z): set the time (NTP)",
    );
  });

  it('says past the end: expired, or the clock is ahead', () => {
    expect(clockProblem(cert, new Date('2031-03-04T05:06:07.500Z'))).toBe(
      "the clock (2031-03-04T05:06:07.500Z) is after this certificate's end (2027-06-01T00:00:00Z): it has expired, or the clock is ahead; set the time (NTP) if it is wrong",
    );
  });

  it('is null inside the validity, at both edges', () => {
    expect(clockProblem(cert, cert.notBefore)).toBeNull();
    expect(clockProblem(cert, cert.notAfter)).toBeNull();
    expect(clockProblem(cert, new Date('2027-01-01T00:00:00Z'))).toBeNull();
  });
});
