// Overload control for a SIP server (RFC 3261 §21.5.4; the loss algorithm of
// RFC 7339 §5): when the process cannot keep up, new out-of-dialog requests
// are refused with 503 and Retry-After so that the work already accepted —
// calls in progress, their ACKs, BYEs and retransmissions — still completes,
// instead of every message queueing in the socket until all of them time out.
//
// The signal is the receive backlog, measured where it forms: libuv reads
// at most 32 datagrams from a UDP socket per wake-up, so a loop turn that
// handles 32 or more has left datagrams waiting in the socket. A burst makes
// a few full turns in a row and is drained; a server that is behind makes
// nothing but full turns, so the socket never empties. The controller is
// told the server is behind when full turns have followed each other for
// longer than `maxBacklogMs`: by then messages have waited about that long,
// whatever the cause (too much traffic, or a CPU shared with others).
// Neither event-loop utilisation nor timer lag says that: a loop kept busy by
// a closed loop of requests and answers is fully utilised with nothing
// waiting, a process descheduled mid-work looks busy, and timers stay
// punctual between batches while the socket overflows. The control loop is
// AIMD on the admitted fractions: halved per sample while behind, raised by
// a fixed step per sample without a long backlog.
//
// Two classes, the lower shed first and wholly before the higher is touched:
// requests without credentials (Authorization / Proxy-Authorization, §22) are
// what a flood is made of, and what a server answers with a cheap stateless
// challenge; a 503 would cost as much as that challenge, so they are dropped
// unanswered (a real client retransmits over UDP: RFC 3261 §17.1). Requests
// with credentials (the second INVITE of every call, re-REGISTERs) are the
// work users wait for; when even those must be shed they get 503 with
// Retry-After.
import type { Header, SipRequest } from './message.ts';
import type { TimerHandle, TimerQueue } from '../lib/timer-queue.ts';
import type { Clock } from '../lib/time.ts';

export interface OverloadOptions {
  /** Sampling runs on these timers (give real ones: a backlog is real even when the server's time is not). */
  timers: TimerQueue;
  /** Runs fn once the loop has handled what it read in this turn. Default setImmediate. */
  afterTurn?: (fn: () => void) => void;
  /** Sample period, ms (default 100). */
  sampleMs?: number;
  /** How long the socket may stay backlogged (full read turns in a row) before the server counts as behind, ms (default 50). */
  maxBacklogMs?: number;
  /** Admitted fraction added per sample below the target (default 0.05: full recovery in 2 s at 100 ms). */
  recoveryStep?: number;
  /** Smallest Retry-After in seconds (default 2); values are spread up to twice that, so refused clients do not come back together. */
  retryAfterSec?: number;
}

/** Datagrams libuv reads from one UDP socket per wake-up (uv__udp_recvmsg): a turn with this many left some waiting. */
export const READS_PER_WAKEUP = 32;
/**
 * A full turn continues a run only if it began within this many ms of the
 * previous turn's end: a loop that is behind goes straight back to the
 * socket; a later start means the loop waited for traffic, so the socket
 * had drained (full bursts with pauses between are no backlog).
 */
const RUN_GAP_MS = 5;

/** What the controller sees and does, for status and metrics. */
export interface OverloadState {
  /** Fraction of new requests with credentials admitted (1 = no shedding). */
  admitted: number;
  /** Fraction of new requests without credentials admitted. */
  admittedUnauthenticated: number;
  /** Longest run of full read turns in the last sample, ms (0 = no backlog). */
  backlogMs: number;
  /** New requests refused with 503 since start. */
  refused: number;
  /** New requests without credentials dropped unanswered since start. */
  dropped: number;
}

/** What to do with a new request: take it, refuse it with 503 (and retryAfter()), or drop it unanswered. */
export type AdmissionVerdict = 'admit' | 'refuse' | 'drop';

/** Whether a request carries digest (or any) credentials: one pass over the header names, no allocation. */
function hasCredentials(req: SipRequest): boolean {
  for (const h of req.headers) if (h.name === 'proxy-authorization' || h.name === 'authorization') return true;
  return false;
}

/** One class's admitted fraction, with the credit that spreads admissions evenly and deterministically. */
class Share {
  fraction = 1;
  private credit = 0;

  take(): boolean {
    if (this.fraction >= 1) return true;
    this.credit += this.fraction;
    if (this.credit < 1) return false;
    this.credit -= 1;
    return true;
  }

  cut(): void {
    this.fraction /= 2;
    // A share too small to admit anything within seconds is nothing: the next class is cut instead.
    if (this.fraction < 0.01) this.fraction = 0;
  }

  raise(step: number): void {
    this.fraction = Math.min(1, this.fraction + step);
    if (this.fraction === 1) this.credit = 0;
  }
}

export class OverloadControl {
  private readonly timers: TimerQueue;
  private readonly clock: Clock;
  private readonly afterTurn: (fn: () => void) => void;
  private readonly sampleMs: number;
  private readonly maxBacklog: number;
  private readonly step: number;
  /** Retry-After headers for every value in [retryAfterSec, 2*retryAfterSec], made once. */
  private readonly retryHeaders: Header[];
  private readonly vouched = new Share();
  private readonly anonymous = new Share();
  /** UDP datagrams handled in the current loop turn, and whether its end is awaited. */
  private inTurn = 0;
  private turnOpen = false;
  /** When the current run of full turns began (undefined: the last turn drained the socket). */
  private backlogSince: number | undefined;
  /** When the current turn read its first datagram, and when the previous turn ended. */
  private turnStart = 0;
  private lastTurnEnd = Number.NEGATIVE_INFINITY;
  /** Longest run of full turns seen in the current sample, ms. */
  private longest = 0;
  private lastBacklog = 0;
  private refusedCount = 0;
  private droppedCount = 0;
  private timer: TimerHandle | undefined;

  constructor(opts: OverloadOptions) {
    this.timers = opts.timers;
    this.afterTurn = opts.afterTurn ?? setImmediate;
    this.sampleMs = opts.sampleMs ?? 100;
    this.clock = opts.timers.clock;
    this.maxBacklog = opts.maxBacklogMs ?? 50;
    if (!(this.maxBacklog > 0)) throw new RangeError(`maxBacklogMs must be positive, got ${this.maxBacklog}`);
    this.step = opts.recoveryStep ?? 0.05;
    const base = Math.max(1, Math.round(opts.retryAfterSec ?? 2));
    this.retryHeaders = [];
    for (let s = base; s <= 2 * base; s++) this.retryHeaders.push({ name: 'retry-after', value: String(s) });
  }

  start(): void {
    this.timer ??= this.timers.schedule(this.sampleMs, this.tick);
  }

  stop(): void {
    this.timers.cancel(this.timer);
    this.timer = undefined;
  }

  /**
   * For every UDP datagram read (before it is handled): counts it in the
   * current loop turn. One callback per turn with traffic, none while idle.
   */
  readonly received = (): void => {
    this.inTurn++;
    if (this.turnOpen) return;
    this.turnOpen = true;
    this.turnStart = this.clock.now();
    this.afterTurn(this.endTurn);
  };

  private readonly endTurn = (): void => {
    this.turnOpen = false;
    const now = this.clock.now();
    if (this.inTurn >= READS_PER_WAKEUP) {
      if (this.backlogSince === undefined || this.turnStart - this.lastTurnEnd > RUN_GAP_MS) this.backlogSince = this.turnStart;
      if (now - this.backlogSince > this.longest) this.longest = now - this.backlogSince;
    } else {
      this.backlogSince = undefined;
    }
    this.lastTurnEnd = now;
    this.inTurn = 0;
  };

  /** For each new out-of-dialog request: admits exactly its class's fraction, evenly spread. */
  admit(req: SipRequest): AdmissionVerdict {
    if (hasCredentials(req)) {
      if (this.vouched.take()) return 'admit';
      this.refusedCount++;
      return 'refuse';
    }
    if (this.anonymous.take()) return 'admit';
    this.droppedCount++;
    return 'drop';
  }

  /** The Retry-After of the next 503, cycling over the spread (no allocation). */
  retryAfter(): Header {
    return this.retryHeaders[this.refusedCount % this.retryHeaders.length] as Header;
  }

  get state(): OverloadState {
    return {
      admitted: this.vouched.fraction,
      admittedUnauthenticated: this.anonymous.fraction,
      backlogMs: this.lastBacklog,
      refused: this.refusedCount,
      dropped: this.droppedCount,
    };
  }

  /** One sample: measure, then move the admitted fractions (lower class cut first, raised last). */
  private readonly tick = (): void => {
    // A run still going counts up to now.
    const now = this.clock.now();
    const running = this.backlogSince === undefined || now - this.lastTurnEnd > RUN_GAP_MS ? 0 : now - this.backlogSince;
    const backlog = Math.max(this.longest, running);
    this.longest = 0;
    this.lastBacklog = backlog;
    if (backlog > this.maxBacklog) {
      if (this.anonymous.fraction > 0) this.anonymous.cut();
      else this.vouched.cut();
    } else if (backlog < this.maxBacklog / 2) {
      if (this.vouched.fraction < 1) this.vouched.raise(this.step);
      else if (this.anonymous.fraction < 1) this.anonymous.raise(this.step);
    }
    this.timer = this.timers.schedule(this.sampleMs, this.tick);
  };
}
