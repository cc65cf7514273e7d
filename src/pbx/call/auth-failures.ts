// Which INVITEs with refused credentials (a wrong password, a locked-out
// source) leave a call record. Anyone can send those, so the record must not
// become a way to fill the database: per window, at most one record per
// source address and user name, and at most `perWindow` in all; the rest are
// only counted, and the count is logged once per window. Memory is bounded by
// perWindow keys.
import type { Logger } from '../../lib/log.ts';

export interface AuthFailureLimits {
  /** Length of a window, ms. */
  windowMs: number;
  /** Records per window across all sources. */
  perWindow: number;
}

export const DEFAULT_AUTH_FAILURE_LIMITS: AuthFailureLimits = { windowMs: 60_000, perWindow: 60 };

export class AuthFailureGate {
  private windowStart = -Infinity;
  private readonly seen = new Set<string>();
  private suppressed = 0;

  constructor(
    private readonly now: () => number,
    private readonly log: Logger,
    private readonly limits: AuthFailureLimits = DEFAULT_AUTH_FAILURE_LIMITS,
  ) {}

  /** True when this failure (from address, for user name) is to be recorded. */
  admit(address: string, username: string): boolean {
    const t = this.now();
    if (t - this.windowStart >= this.limits.windowMs) this.roll(t);
    const key = `${address} ${username}`;
    if (this.seen.size >= this.limits.perWindow || this.seen.has(key)) {
      this.suppressed++;
      return false;
    }
    this.seen.add(key);
    return true;
  }

  private roll(t: number): void {
    if (this.suppressed > 0) {
      this.log.warn({ suppressed: this.suppressed, windowSec: this.limits.windowMs / 1000, recorded: this.seen.size },
        'INVITEs with refused credentials: some left no call record (one per source and user name per window)');
    }
    this.windowStart = t;
    this.seen.clear();
    this.suppressed = 0;
  }
}
