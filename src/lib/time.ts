// Time is injected everywhere (DESIGN.md) so transaction timers, registration
// expiry, media re-latching and presence timers can be tested with fake time
// instead of sleeps.

export interface Clock {
  /** Milliseconds. Only differences between readings of the same clock are meaningful to timers. */
  now(): number;
}

/** Wall-clock epoch milliseconds: for timestamps that are stored or shown (registration expiry). */
export const systemClock: Clock = { now: () => Date.now() };

/**
 * Epoch-aligned at start-up but never steps backwards when NTP adjusts the
 * wall clock, so a clock step cannot stall or burst the timer queue.
 */
export const monotonicClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
};

/** A clock that only moves when told to; for tests and for ManualTimerQueue. */
export class ManualClock implements Clock {
  constructor(private t = 0) {}

  now(): number {
    return this.t;
  }

  /** Moves time forward (never backwards: timers assume time is monotonic). */
  set(ms: number): void {
    if (ms > this.t) this.t = ms;
  }

  advance(ms: number): void {
    if (ms > 0) this.t += ms;
  }
}
