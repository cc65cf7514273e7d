import type { Clock } from './time.ts';
import { ManualClock, monotonicClock } from './time.ts';

// Every SIP transaction owns two or three timers, and calls, trunk
// registrations and subscriptions more; a busy server has hundreds of
// thousands live. One binary min-heap ordered by (deadline, sequence) holds
// them all and a single unref'd Node timer is armed for the earliest deadline.
// Cancellation removes the entry from the heap at once (each entry knows its
// index), so cancelled timers never accumulate: the heap holds exactly the
// pending timers and `size` is their number.

/** An opaque pending-timer reference returned by schedule(). */
export interface TimerHandle {
  readonly deadline: number;
  /** True until the timer fires or is cancelled. */
  readonly pending: boolean;
}

export interface TimerQueueOptions {
  /** Defaults to monotonicClock. */
  clock?: Clock;
  /**
   * Receives anything a callback throws; the queue keeps running. The default
   * rethrows from a microtask so a bug stays loud without skipping other timers.
   */
  onError?: (err: unknown) => void;
}

const noop = (): void => {};
// setTimeout treats larger delays as 1 ms.
const MAX_DELAY = 0x7fffffff;
// Node timers run against a cached loop time and can fire a fraction of a
// millisecond before our clock reaches the deadline; without slack that costs
// an extra wake-up per deadline.
const SLACK_MS = 1;

class Timer implements TimerHandle {
  index = -1;
  constructor(
    public deadline: number,
    public seq: number,
    public fn: (arg: unknown) => void,
    public arg: unknown,
  ) {}

  get pending(): boolean {
    return this.index >= 0;
  }
}

function before(a: Timer, b: Timer): boolean {
  return a.deadline < b.deadline || (a.deadline === b.deadline && a.seq < b.seq);
}

export class TimerQueue {
  readonly clock: Clock;
  private readonly heap: Timer[] = [];
  private seq = 0;
  private readonly onError: (err: unknown) => void;
  private nodeTimer: NodeJS.Timeout | undefined;
  private armedFor = Infinity;
  // While a pass runs, re-arming is left to its end: callbacks schedule in bursts.
  private firing = false;

  constructor(options: TimerQueueOptions = {}) {
    this.clock = options.clock ?? monotonicClock;
    this.onError =
      options.onError ??
      ((err) =>
        queueMicrotask(() => {
          throw err;
        }));
  }

  /** Number of pending (scheduled, not fired, not cancelled) timers. */
  get size(): number {
    return this.heap.length;
  }

  /** Earliest pending deadline, if any. */
  nextDeadline(): number | undefined {
    return this.heap[0]?.deadline;
  }

  /**
   * Runs `callback(arg)` once after `delayMs` (negative or NaN means as soon as
   * possible). Passing a static function and an argument instead of a fresh
   * closure saves an allocation per timer on hot paths. O(log n).
   */
  schedule(delayMs: number, callback: () => void): TimerHandle;
  schedule<A>(delayMs: number, callback: (arg: A) => void, arg: A): TimerHandle;
  schedule(delayMs: number, callback: (arg: unknown) => void, arg?: unknown): TimerHandle {
    const delay = delayMs > 0 ? delayMs : 0;
    const t = new Timer(this.clock.now() + delay, this.seq++, callback, arg);
    this.push(t);
    if (!this.firing && t.deadline < this.armedFor) this.arm();
    return t;
  }

  /** Cancels a pending timer; harmless for fired, cancelled, foreign or undefined handles. O(log n). */
  cancel(handle: TimerHandle | undefined): void {
    if (!(handle instanceof Timer)) return;
    const i = handle.index;
    if (i < 0 || this.heap[i] !== handle) return;
    this.removeAt(i);
    handle.fn = noop;
    handle.arg = undefined;
  }

  /** Cancels everything and disarms the Node timer (shutdown). */
  close(): void {
    for (const t of this.heap) {
      t.index = -1;
      t.fn = noop;
      t.arg = undefined;
    }
    this.heap.length = 0;
    this.disarm();
  }

  /**
   * Fires every timer due at `now`, in deadline order. Timers scheduled by the
   * callbacks themselves wait for the next pass, so a callback that
   * reschedules itself with delay 0 cannot spin this loop forever.
   */
  protected fireDue(now: number): number {
    const heap = this.heap;
    const limit = this.seq;
    let fired = 0;
    while (heap.length > 0) {
      const top = heap[0]!;
      if (top.deadline > now || top.seq >= limit) break;
      this.removeAt(0);
      const fn = top.fn;
      const arg = top.arg;
      top.fn = noop;
      top.arg = undefined;
      fired++;
      try {
        fn(arg);
      } catch (err) {
        this.onError(err);
      }
    }
    return fired;
  }

  /** Makes sure something will call fireDue at the earliest deadline. */
  protected arm(): void {
    const top = this.heap[0];
    if (!top || top.deadline >= this.armedFor) return;
    this.disarm();
    const now = this.clock.now();
    const delay = Math.min(MAX_DELAY, Math.max(0, Math.ceil(top.deadline - now)));
    this.armedFor = now + delay;
    const nt = setTimeout(this.onNodeTimer, delay);
    nt.unref();
    this.nodeTimer = nt;
  }

  private disarm(): void {
    if (this.nodeTimer) clearTimeout(this.nodeTimer);
    this.nodeTimer = undefined;
    this.armedFor = Infinity;
  }

  private readonly onNodeTimer = (): void => {
    this.nodeTimer = undefined;
    this.armedFor = Infinity;
    this.firing = true;
    try {
      this.fireDue(this.clock.now() + SLACK_MS);
    } finally {
      this.firing = false;
    }
    this.arm();
  };

  private push(t: Timer): void {
    const heap = this.heap;
    t.index = heap.length;
    heap.push(t);
    this.up(t.index);
  }

  private removeAt(i: number): void {
    const heap = this.heap;
    const removed = heap[i]!;
    const last = heap.pop()!;
    removed.index = -1;
    if (last === removed) return;
    heap[i] = last;
    last.index = i;
    // The moved entry may belong above or below its new slot.
    if (i > 0 && before(last, heap[(i - 1) >> 1]!)) this.up(i);
    else this.down(i);
  }

  private up(i: number): void {
    const heap = this.heap;
    const t = heap[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = heap[p]!;
      if (!before(t, parent)) break;
      heap[i] = parent;
      parent.index = i;
      i = p;
    }
    heap[i] = t;
    t.index = i;
  }

  private down(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    const t = heap[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && before(heap[r]!, heap[l]!)) c = r;
      const child = heap[c]!;
      if (!before(child, t)) break;
      heap[i] = child;
      child.index = i;
      i = c;
    }
    heap[i] = t;
    t.index = i;
  }
}

/**
 * The same queue with no Node timer behind it: time moves only through
 * advance(), which fires due timers in order with the clock set to each
 * timer's deadline, so callbacks observe exact times. For deterministic tests.
 */
export class ManualTimerQueue extends TimerQueue {
  declare readonly clock: ManualClock;

  constructor(options: { clock?: ManualClock; onError?: (err: unknown) => void } = {}) {
    super({ clock: options.clock ?? new ManualClock(), onError: options.onError });
  }

  /** Moves time forward by `ms`, firing everything that falls due; returns how many fired. */
  advance(ms: number): number {
    return this.advanceTo(this.clock.now() + Math.max(0, ms));
  }

  advanceTo(time: number): number {
    let fired = 0;
    for (;;) {
      const next = this.nextDeadline();
      if (next === undefined || next > time) break;
      this.clock.set(next);
      fired += this.fireDue(next);
    }
    this.clock.set(time);
    return fired;
  }

  /** Fires what is due at the current time without moving it (e.g. delay-0 timers). */
  runDue(): number {
    return this.advanceTo(this.clock.now());
  }

  protected override arm(): void {}
}
