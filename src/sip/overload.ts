// Overload control for a SIP server (RFC 3261 §21.5.4; the loss algorithm of
// RFC 7339 §5): when the process cannot keep up, new out-of-dialog requests
// are refused with 503 and Retry-After so that the work already accepted —
// calls in progress, their ACKs, BYEs and retransmissions — still completes,
// instead of every message queueing in the socket until all of them time out.
//
// The signal is the busy fraction of the event loop (perf_hooks
// eventLoopUtilization) over each sample period: over UDP the kernel drops
// what the loop cannot read, so once the loop is busy all the time the server
// is already behind. Timer lag is no signal here: libuv reads datagrams in
// batches between timer checks, so timers stay punctual while the socket
// overflows. The control loop is AIMD on the admitted fraction: cut in
// proportion to how far the loop is above its target, raised by a fixed step
// while below it. Only a loop busy with SIP traffic counts: with fewer new
// requests than `minRequestsPerSec`, a busy loop is something else (start-up,
// a store compaction) that refusing SIP would not relieve.
import { performance } from 'node:perf_hooks';
import type { EventLoopUtilization } from 'node:perf_hooks';
import type { Header } from './message.ts';
import type { TimerHandle, TimerQueue } from '../lib/timer-queue.ts';

export interface OverloadOptions {
  /** Sampling runs on these timers (give real ones: CPU load is real even when the server's time is not). */
  timers: TimerQueue;
  /** Busy fraction (0..1) of the process since the previous call. Default: event-loop utilisation. */
  busy?: () => number;
  /** Sample period, ms (default 100). */
  sampleMs?: number;
  /** Busy fraction the controller steers to (default 0.95). */
  targetUtilization?: number;
  /** Fewer new requests per second than this never count as overload (default 200). */
  minRequestsPerSec?: number;
  /** Admitted fraction added per sample below the target (default 0.05: full recovery in 2 s at 100 ms). */
  recoveryStep?: number;
  /** Smallest Retry-After in seconds (default 2); values are spread up to twice that, so refused clients do not come back together. */
  retryAfterSec?: number;
}

/** What the controller sees and does, for status and metrics. */
export interface OverloadState {
  /** Fraction of new requests admitted (1 = no shedding). */
  admitted: number;
  /** Busy fraction of the last sample. */
  utilization: number;
  /** New requests refused since start. */
  shed: number;
}

/** Event-loop utilisation since the previous call. */
export function eventLoopBusy(): () => number {
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const delta = performance.eventLoopUtilization(now, last);
    last = now;
    return delta.utilization;
  };
}

export class OverloadControl {
  private readonly timers: TimerQueue;
  private readonly busy: () => number;
  private readonly sampleMs: number;
  private readonly target: number;
  private readonly minPerSample: number;
  private readonly step: number;
  /** Retry-After headers for every value in [retryAfterSec, 2*retryAfterSec], made once. */
  private readonly retryHeaders: Header[];
  private fraction = 1;
  /** Deterministic admission: each request adds `fraction`; a whole unit admits one. */
  private credit = 0;
  private offered = 0;
  private lastUtilization = 0;
  private shedCount = 0;
  private timer: TimerHandle | undefined;

  constructor(opts: OverloadOptions) {
    this.timers = opts.timers;
    this.busy = opts.busy ?? eventLoopBusy();
    this.sampleMs = opts.sampleMs ?? 100;
    this.target = opts.targetUtilization ?? 0.95;
    if (!(this.target > 0 && this.target < 1)) throw new RangeError(`targetUtilization must be between 0 and 1, got ${this.target}`);
    this.minPerSample = ((opts.minRequestsPerSec ?? 200) * this.sampleMs) / 1000;
    this.step = opts.recoveryStep ?? 0.05;
    const base = Math.max(1, Math.round(opts.retryAfterSec ?? 2));
    this.retryHeaders = [];
    for (let s = base; s <= 2 * base; s++) this.retryHeaders.push({ name: 'retry-after', value: String(s) });
  }

  start(): void {
    this.busy(); // starts the first period now
    this.timer ??= this.timers.schedule(this.sampleMs, this.tick);
  }

  stop(): void {
    this.timers.cancel(this.timer);
    this.timer = undefined;
  }

  /**
   * For each new out-of-dialog request: true to take it, false to refuse it
   * (with retryAfter()). Admits exactly `admitted` of them, evenly spread.
   */
  admit(): boolean {
    this.offered++;
    if (this.fraction >= 1) return true;
    this.credit += this.fraction;
    if (this.credit >= 1) {
      this.credit -= 1;
      return true;
    }
    this.shedCount++;
    return false;
  }

  /** The Retry-After of the next 503, cycling over the spread (no allocation). */
  retryAfter(): Header {
    return this.retryHeaders[this.shedCount % this.retryHeaders.length] as Header;
  }

  get state(): OverloadState {
    return { admitted: this.fraction, utilization: this.lastUtilization, shed: this.shedCount };
  }

  /** One sample: measure, then move the admitted fraction. */
  private readonly tick = (): void => {
    const u = this.busy();
    const offered = this.offered;
    this.offered = 0;
    this.lastUtilization = u;
    if (u > this.target && offered >= this.minPerSample) {
      // Busy all the time halves the fraction; just above the target cuts a little.
      const over = Math.min(1, (u - this.target) / (1 - this.target));
      this.fraction = Math.max(0, this.fraction * (1 - 0.5 * over));
    } else if (u < this.target && this.fraction < 1) {
      this.fraction = Math.min(1, this.fraction + this.step);
      if (this.fraction === 1) this.credit = 0;
    }
    this.timer = this.timers.schedule(this.sampleMs, this.tick);
  };
}
