// The digits a caller types into an application, kept in arrival order
// whatever path they took (RFC 4733 events, in-band tones, SIP INFO), so a
// caller who knows the menu can type ahead of the prompt. Reading waits on
// the server's timers (manual time in tests).
import type { TimerHandle, TimerQueue } from '../../lib/timer-queue.ts';

/** Digits held at most: a caller who leans on a key cannot grow memory. */
const MAX_PENDING = 32;

export class DigitQueue {
  private readonly pending: string[] = [];
  private waiter: ((digit: string | undefined) => void) | undefined;
  private timer: TimerHandle | undefined;
  private closed = false;

  constructor(private readonly timers: TimerQueue) {}

  /** A digit arrived. */
  push(digit: string): void {
    if (this.closed) return;
    const w = this.waiter;
    if (w) {
      this.settle(digit);
      return;
    }
    if (this.pending.length < MAX_PENDING) this.pending.push(digit);
  }

  /** A digit typed ahead is waiting. */
  get waiting(): boolean {
    return this.pending.length > 0;
  }

  /** Forgets what was typed ahead (a new question starts). */
  clear(): void {
    this.pending.length = 0;
  }

  /** The next digit, or undefined after `timeoutMs` without one (or once the call ended). */
  next(timeoutMs: number): Promise<string | undefined> {
    if (this.pending.length > 0) return Promise.resolve(this.pending.shift());
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.waiter = resolve;
      this.timer = this.timers.schedule(timeoutMs, () => this.settle(undefined));
    });
  }

  /**
   * Digits up to `terminator` (not included) or `max` digits; undefined when
   * nothing came at all within `firstMs`, or between digits within `nextMs`
   * (what was typed so far then counts as entered).
   */
  async collect(opts: { max: number; terminator?: string; firstMs: number; nextMs: number }): Promise<string | undefined> {
    let out = '';
    for (;;) {
      const d = await this.next(out.length === 0 ? opts.firstMs : opts.nextMs);
      if (d === undefined) return out.length === 0 ? undefined : out;
      if (d === opts.terminator) return out;
      out += d;
      if (out.length >= opts.max) return out;
    }
  }

  /** The call ended: whoever waits gets undefined. */
  close(): void {
    this.closed = true;
    this.pending.length = 0;
    this.settle(undefined);
  }

  private settle(digit: string | undefined): void {
    const w = this.waiter;
    this.waiter = undefined;
    this.timers.cancel(this.timer);
    this.timer = undefined;
    w?.(digit);
  }
}
