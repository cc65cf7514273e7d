// Overload control for a SIP server (RFC 3261 §21.5.4): when the process
// cannot keep up, new out-of-dialog requests are turned away (dropped, or
// refused with 503 and Retry-After, see below) so that the work already
// accepted — calls in progress, their ACKs, BYEs and retransmissions — still
// completes, instead of every message queueing in the socket until all of
// them time out.
//
// The signal is the time a message waits before the server reads it, taken
// as it is: every sample period the server sends itself a probe (an OPTIONS
// to its own UDP listener), which joins the end of the socket's queue, and
// the time until it comes back out is the wait any message arriving then
// has. A probe not back yet at the next sample has waited at least that
// long. Past `maxDelayMs` the server is behind, whatever the cause (too much
// traffic, or a CPU shared with other processes). Neither event-loop
// utilisation nor timer lag says that: a loop kept busy by a closed loop of
// requests and answers is fully utilised with nothing waiting, and libuv
// reads datagrams in batches between timer checks, so timers stay punctual
// while the socket overflows. The control loop is AIMD on the admitted
// fractions: halved per sample while behind (two samples in a row over the
// limit) and the wait is not shrinking, raised by a fixed step per sample
// once the wait is under half the limit.
//
// Two classes, the lower shed first and wholly before the higher is touched:
// requests without credentials (Authorization / Proxy-Authorization, §22) are
// what a flood is made of, and what a server answers with a cheap stateless
// challenge; a 503 would cost as much as that challenge, so they are dropped
// unanswered (a real client retransmits over UDP: RFC 3261 §17.1). Requests
// with credentials (the second INVITE of every call, re-REGISTERs) are the
// work users wait for; when even those must be shed they get 503 with
// Retry-After.
//
// Upstream servers that support RFC 7339 (an "oc" in the top Via of their
// requests, §5.1) are told the same thing in every response while we shed
// (§5.2): oc=<percentage of such requests we turn away> for the request's
// class, oc-algo="loss" (§7, the only algorithm we run), oc-validity, and
// an oc-seq that moves on whenever an admitted fraction changes; once
// nothing is shed any more, oc-validity=0 for one validity period (§5.7), so
// every client still reducing hears that it may stop. The annotation is put
// on the request's top Via as it arrives, so every response made from the
// request (provisional, final, stateless, the 503) echoes it.
import type { Header, SipMessage, SipRequest } from './message.ts';
import { setTopVia } from './headers.ts';
import { wantsLossFeedback, withFeedback } from './overload-via.ts';
import type { OcSeq } from './overload-via.ts';
import { createRequest } from './serializer.ts';
import { generateBranch, generateCallId, generateTag } from './ids.ts';
import type { TimerHandle, TimerQueue } from '../lib/timer-queue.ts';
import type { Clock } from '../lib/time.ts';

export interface OverloadOptions {
  /** Sampling runs on these timers (give real ones: a wait is real even when the server's time is not). */
  timers: TimerQueue;
  /**
   * Sends a probe (probeRequest()) to the server's own UDP listener, to come
   * back through isProbe(); false when there is no UDP listener (then there is
   * no socket to wait in, and nothing is ever shed).
   */
  sendProbe: (callId: string) => boolean;
  /** Sample period, ms (default 100). */
  sampleMs?: number;
  /** Longest wait in the socket before the server counts as behind, ms (default 200: well under T1, 500 ms). */
  maxDelayMs?: number;
  /** Admitted fraction added per sample below half the limit (default 0.05: full recovery in 2 s at 100 ms). */
  recoveryStep?: number;
  /** Smallest Retry-After in seconds (default 2); values are spread up to twice that, so refused clients do not come back together. */
  retryAfterSec?: number;
  /** oc-validity advertised to RFC 7339 clients while shedding, ms (default 500, the RFC's default). */
  ocValidityMs?: number;
}

/** What the controller sees and does, for status and metrics. */
export interface OverloadState {
  /** Fraction of new requests with credentials admitted (1 = no shedding). */
  admitted: number;
  /** Fraction of new requests without credentials admitted. */
  admittedUnauthenticated: number;
  /** Wait of the last probe (or its age while not back), ms. */
  delayMs: number;
  /** New requests refused with 503 since start. */
  refused: number;
  /** New requests without credentials dropped unanswered since start. */
  dropped: number;
  /** Responses that carried RFC 7339 feedback (an oc value or oc-validity=0) since start. */
  ocFeedback: number;
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

const PROBE_USER = 'overload-probe';

/**
 * Whether a message has the shape of a probe of any process of ours (each
 * tells its own by Call-ID; in a cluster a worker may read another's first).
 */
export function isProbeShaped(msg: SipMessage): boolean {
  return msg.kind === 'request' && msg.method === 'OPTIONS' && msg.maxForwards === 0 && msg.from.uri.user === PROBE_USER;
}

/**
 * The probe the server sends itself: an OPTIONS (which any SIP server
 * answers harmlessly, should one ever reach the wrong place) from and to
 * `local`, told apart by its Call-ID.
 */
export function probeRequest(callId: string, local: { address: string; port: number }): SipRequest {
  const host = local.address.includes(':') ? `[${local.address}]` : local.address;
  const self = { uri: { scheme: 'sip', user: PROBE_USER, host, port: local.port, params: new Map(), headers: new Map() }, params: new Map() };
  return createRequest({
    method: 'OPTIONS',
    uri: self.uri,
    from: { ...self, params: new Map([['tag', callId.slice(-12)]]) },
    // A tag of ours: among workers sharing the port (src/sip/owner.ts), whichever the kernel hands it to passes it to its sender.
    to: { ...self, params: new Map([['tag', generateTag()]]) },
    callId,
    cseq: 1,
    via: { protocol: 'SIP/2.0', transport: 'UDP', host: local.address, port: local.port, params: new Map([['branch', generateBranch()]]) },
    maxForwards: 0,
  });
}

export class OverloadControl {
  private readonly timers: TimerQueue;
  private readonly clock: Clock;
  private readonly sendProbe: (callId: string) => boolean;
  private readonly sampleMs: number;
  private readonly maxDelay: number;
  private readonly step: number;
  /** Retry-After headers for every value in [retryAfterSec, 2*retryAfterSec], made once. */
  private readonly retryHeaders: Header[];
  private readonly vouched = new Share();
  private readonly anonymous = new Share();
  /** Every probe's Call-ID starts with this (random per instance); the one awaited ends in its number. */
  private readonly probePrefix = `${generateCallId()}-probe-`;
  private probeSeq = 0;
  private probeId = '';
  /** When the awaited probe left, or undefined once it came back. */
  private probeSentAt: number | undefined;
  /** Samples up to this time ignore waits (see excusePause). */
  private excusedUntil = -Infinity;
  /** Wait of the probe that came back in the current sample. */
  private measured = 0;
  private lastDelay = 0;
  /** Wait of the last probe that came back before this sample. */
  private lastReturned = 0;
  private returned = false;
  /** Whether the previous sample's wait was over the limit. */
  private wasOver = false;
  private refusedCount = 0;
  private droppedCount = 0;
  private feedbackCount = 0;
  private timer: TimerHandle | undefined;
  private readonly ocValidity: number;
  /** Version of the admitted fractions, as oc-seq: moves on whenever either changes. */
  private ocSeq: OcSeq;
  /** Until when RFC 7339 clients still hear oc-validity=0 after the last shedding. */
  private ocEndUntil = -Infinity;

  constructor(opts: OverloadOptions) {
    this.timers = opts.timers;
    this.clock = opts.timers.clock;
    this.sendProbe = opts.sendProbe;
    this.sampleMs = opts.sampleMs ?? 100;
    this.maxDelay = opts.maxDelayMs ?? 200;
    if (!(this.maxDelay > 0)) throw new RangeError(`maxDelayMs must be positive, got ${this.maxDelay}`);
    this.step = opts.recoveryStep ?? 0.05;
    const base = Math.max(1, Math.round(opts.retryAfterSec ?? 2));
    this.retryHeaders = [];
    for (let s = base; s <= 2 * base; s++) this.retryHeaders.push({ name: 'retry-after', value: String(s) });
    this.ocValidity = opts.ocValidityMs ?? 500;
    if (!(this.ocValidity > 0)) throw new RangeError(`ocValidityMs must be positive, got ${this.ocValidity}`);
    this.ocSeq = { sec: Math.floor(this.clock.now() / 1000), n: 0 };
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.probe();
    this.timer = this.timers.schedule(this.sampleMs, this.tick);
  }

  stop(): void {
    this.timers.cancel(this.timer);
    this.timer = undefined;
  }

  /**
   * For every inbound message before it is handled: true for a probe of ours
   * (then it is ours to drop). One comparison for anything but OPTIONS.
   */
  isProbe(msg: SipMessage): boolean {
    if (msg.kind !== 'request' || msg.method !== 'OPTIONS' || !msg.callId.startsWith(this.probePrefix)) return false;
    if (this.probeSentAt !== undefined && msg.callId === this.probeId) {
      this.measured = Math.max(this.measured, this.clock.now() - this.probeSentAt);
      this.returned = true;
      this.probeSentAt = undefined;
    }
    return true;
  }

  /**
   * For each new out-of-dialog request: admits exactly its class's fraction,
   * evenly spread. A request over a connection with a verified client
   * certificate (`vouched`: a trusted server's, whose requests carry no
   * digest) is in the class with credentials.
   */
  admit(req: SipRequest, vouched = false): AdmissionVerdict {
    if (vouched || hasCredentials(req)) {
      if (this.vouched.take()) return 'admit';
      this.refusedCount++;
      return 'refuse';
    }
    if (this.anonymous.take()) return 'admit';
    this.droppedCount++;
    return 'drop';
  }

  /**
   * For each new request whose top Via carries "oc" (the caller tests that):
   * while we shed, or for one validity period after, puts our RFC 7339
   * feedback on that Via, which every response to the request echoes.
   */
  feedback(req: SipRequest): void {
    const top = req.via[0];
    if (top === undefined || !wantsLossFeedback(top)) return;
    const shedding = this.vouched.fraction < 1 || this.anonymous.fraction < 1;
    if (!shedding && this.clock.now() >= this.ocEndUntil) return;
    const fraction = hasCredentials(req) ? this.vouched.fraction : this.anonymous.fraction;
    const reduction = shedding ? Math.round((1 - fraction) * 100) : 0;
    setTopVia(req, withFeedback(top, { reduction, validityMs: shedding ? this.ocValidity : 0, seq: this.ocSeq }));
    this.feedbackCount++;
  }

  /** The Retry-After of the next 503, cycling over the spread (no allocation). */
  retryAfter(): Header {
    return this.retryHeaders[this.refusedCount % this.retryHeaders.length] as Header;
  }

  get state(): OverloadState {
    return {
      admitted: this.vouched.fraction,
      admittedUnauthenticated: this.anonymous.fraction,
      delayMs: this.lastDelay,
      refused: this.refusedCount,
      dropped: this.droppedCount,
      ocFeedback: this.feedbackCount,
    };
  }

  /** A new oc-seq: this second's, counting changes within the second (RFC 7339 oc-seq). */
  private nextSeq(now: number): void {
    const sec = Math.floor(now / 1000);
    this.ocSeq = sec > this.ocSeq.sec ? { sec, n: 0 } : { sec: this.ocSeq.sec, n: this.ocSeq.n + 1 };
  }

  private probe(): void {
    this.probeId = this.probePrefix + String(++this.probeSeq);
    this.probeSentAt = this.sendProbe(this.probeId) ? this.clock.now() : undefined;
  }

  /** One sample: measure, then move the admitted fractions (lower class cut first, raised last). */
  /**
   * A pause the process caused itself and knows to be over (a heap trim's
   * full GC): the waits it put on the probes are no load, so the samples that
   * see them shed nothing. Load that goes on past them is seen as before.
   */
  excusePause(): void {
    this.excusedUntil = this.clock.now() + 2 * this.sampleMs;
  }

  private readonly tick = (): void => {
    const now = this.clock.now();
    // A probe still in the queue has waited at least this long; one lost to an overflowing socket keeps counting.
    const waiting = this.probeSentAt === undefined ? 0 : now - this.probeSentAt;
    const delay = Math.max(this.measured, waiting);
    this.lastDelay = delay;
    const over = delay > this.maxDelay && now > this.excusedUntil;
    const wasOver = this.wasOver;
    const [vouchedBefore, anonymousBefore] = [this.vouched.fraction, this.anonymous.fraction];
    this.wasOver = over;
    // One long wait alone is a stall (a full GC, the process descheduled), not a load to shed: two in a row are.
    if (over && wasOver) {
      // A queue already shrinking (this wait under the last probe's) is left to drain: cutting
      // again for a wait a cut has not yet worked off would overshoot and idle the server.
      if (delay >= this.lastReturned) {
        if (this.anonymous.fraction > 0) this.anonymous.cut();
        else this.vouched.cut();
      }
    } else if (!over && delay < this.maxDelay / 2) {
      if (this.vouched.fraction < 1) this.vouched.raise(this.step);
      else if (this.anonymous.fraction < 1) this.anonymous.raise(this.step);
    }
    if (this.vouched.fraction !== vouchedBefore || this.anonymous.fraction !== anonymousBefore) this.nextSeq(now);
    // The end notice runs one validity period from the last sample that shed: the longest a client may still be reducing.
    if (vouchedBefore < 1 || anonymousBefore < 1) this.ocEndUntil = now + this.ocValidity;
    if (this.returned) this.lastReturned = this.measured;
    this.returned = false;
    this.measured = 0;
    // One probe in the queue at a time; a lost one is replaced after 10 limits, still counted meanwhile.
    if (this.probeSentAt === undefined || waiting > 10 * this.maxDelay) this.probe();
    this.timer = this.timers.schedule(this.sampleMs, this.tick);
  };
}
