// Certificate time checks (SPEC §4.10, EC-12, B-23): how near expiry an
// identity or CA is (for alarms), and a clock that lies outside a
// certificate's validity, said as a clock problem.
import type { CertificateSummary } from './cert-info.ts';

/** 'ok', then within 30, 7, 1 day(s) of notAfter, then 'expired'. */
export type ExpiryLevel = 'ok' | 'days30' | 'days7' | 'days1' | 'expired';

export const EXPIRY_THRESHOLDS_DAYS = { days30: 30, days7: 7, days1: 1 } as const;

export function expiryLevel(notAfter: Date, now: Date): ExpiryLevel {
  void notAfter; void now;
  throw new Error('not yet');
}

/**
 * When `now` is outside the certificate's validity in a way a wrong clock
 * explains, the words to log/show, e.g. "the clock (2019-01-01T00:00:00Z) is
 * before this certificate's start (2026-…): set the time (NTP)"; null when
 * the clock is inside the validity.
 */
export function clockProblem(cert: Pick<CertificateSummary, 'notBefore' | 'notAfter'>, now: Date): string | null {
  void cert; void now;
  throw new Error('not yet');
}
