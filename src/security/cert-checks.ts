// Certificate time checks (SPEC §4.10, EC-12, B-23): how near expiry an
// identity or CA is (for alarms), and a clock that lies outside a
// certificate's validity, said as a clock problem.
import type { CertificateSummary } from './cert-info.ts';

/** 'ok', then within 30, 7, 1 day(s) of notAfter, then 'expired'. */
export type ExpiryLevel = 'ok' | 'days30' | 'days7' | 'days1' | 'expired';

export const EXPIRY_THRESHOLDS_DAYS = { days30: 30, days7: 7, days1: 1 } as const;

const DAY_MS = 86_400_000;

export function expiryLevel(notAfter: Date, now: Date): ExpiryLevel {
  const left = notAfter.getTime() - now.getTime();
  if (left <= 0) return 'expired';
  if (left <= EXPIRY_THRESHOLDS_DAYS.days1 * DAY_MS) return 'days1';
  if (left <= EXPIRY_THRESHOLDS_DAYS.days7 * DAY_MS) return 'days7';
  if (left <= EXPIRY_THRESHOLDS_DAYS.days30 * DAY_MS) return 'days30';
  return 'ok';
}

/** The cure for every clock problem, as the brief and tls-policy's 'clock' hints say it. */
const SET_THE_TIME = 'set the time (NTP)';

const iso = (d: Date): string => d.toISOString().replace(/\.000Z$/, 'Z');

/**
 * When `now` is outside the certificate's validity in a way a wrong clock
 * explains, the words to log/show, e.g. "the clock (2019-01-01T00:00:00Z) is
 * before this certificate's start (2026-…): set the time (NTP)"; null when
 * the clock is inside the validity. Past notAfter is worded as "expired, or
 * the clock is ahead", since only the operator knows which.
 */
export function clockProblem(cert: Pick<CertificateSummary, 'notBefore' | 'notAfter'>, now: Date): string | null {
  if (now.getTime() < cert.notBefore.getTime()) {
    return `the clock (${iso(now)}) is before this certificate's start (${iso(cert.notBefore)}): ${SET_THE_TIME}`;
  }
  if (now.getTime() > cert.notAfter.getTime()) {
    return `the clock (${iso(now)}) is after this certificate's end (${iso(cert.notAfter)}): it has expired, or the clock is ahead; ${SET_THE_TIME} if it is wrong`;
  }
  return null;
}
