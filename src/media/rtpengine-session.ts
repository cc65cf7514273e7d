// The B2BUA's handle on one call anchored in rtpengine, shaped like the
// built-in relay's role: an SDP offer from one side goes in, the SDP to send
// to the other side comes out (rtpengine's ports, and SRTP or plain RTP as
// that side wants), and the same for the answer. Unlike the built-in relay it
// is asynchronous, since every step is a round trip to rtpengine.
//
// The two legs of a B2BUA call have their own Call-IDs and tags; rtpengine
// only needs one call with two parties, so the session names them with its
// own call id and the tags "a" (the caller's leg) and "b" (the callee's leg).
// One callee leg only: forks are resolved before the answer comes here.
import { randomBytes } from 'node:crypto';
import type { Logger } from '../lib/log.ts';
import { silentLogger } from '../lib/log.ts';
import type { NgCallStats, NgClient, NgSdes, NgTransportProtocol } from './rtpengine.ts';
import { NgError } from './rtpengine.ts';

export type RtpengineSide = 'a' | 'b';

/** How media toward one side must look. */
export interface RtpengineSideOptions {
  /** Profile in the SDP this side receives, e.g. 'RTP/SAVP' for an SRTP-only phone; default: as the other side offered. */
  transportProtocol?: NgTransportProtocol;
  /** SDES choices for this side (suites, unencrypted SRTCP, or off); default with SAVP: AES_CM_128_HMAC_SHA1_80 and _32 only. */
  sdes?: NgSdes;
  /** rtpengine logical interface (--interface=NAME/IP) that faces this side. */
  interface?: string;
}

export interface RtpengineSessionOptions {
  client: NgClient;
  /** Unique per call in rtpengine; default a random one. */
  callId?: string;
  a?: RtpengineSideOptions;
  b?: RtpengineSideOptions;
  /** Extra ng flags for every offer and answer. */
  flags?: readonly string[];
  logger?: Logger;
}

/** The same shape as the call's MediaVerdict, so the B2BUA can treat both backends alike. */
export type RtpengineVerdict = { ok: true; body: Buffer } | { ok: false; status: number; reason: string };

/** Without a side's own choice, SRTP toward it uses the suites the SPEC names (rtpengine would offer twelve). */
const DEFAULT_SDES: NgSdes = { only: ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'] };

const other = (s: RtpengineSide): RtpengineSide => (s === 'a' ? 'b' : 'a');

export class RtpengineSession {
  readonly callId: string;
  private readonly client: NgClient;
  private readonly sides: Record<RtpengineSide, RtpengineSideOptions>;
  private readonly flags: readonly string[] | undefined;
  private readonly log: Logger;
  /** rtpengine knows both parties once an answer went through; re-offers then name the to-tag. */
  private bothKnown = false;
  private closed = false;

  constructor(opts: RtpengineSessionOptions) {
    this.client = opts.client;
    this.callId = opts.callId ?? `sb-${randomBytes(12).toString('hex')}`;
    this.sides = { a: { ...opts.a }, b: { ...opts.b } };
    this.flags = opts.flags;
    this.log = opts.logger ?? silentLogger;
  }

  /** Changes what a side gets from the next offer or answer on (a re-INVITE that changes its security). */
  setSide(side: RtpengineSide, opts: RtpengineSideOptions): void {
    this.sides[side] = { ...opts };
  }

  /**
   * An offer from `from`; resolves with the SDP for the other side. Never
   * rejects: 488 when rtpengine refuses the SDP, 503 when it cannot be
   * reached, 500 for a bad side option or after close().
   */
  async offer(from: RtpengineSide, body: Buffer): Promise<RtpengineVerdict> {
    const to = other(from);
    return this.run('offer', () =>
      this.client.offer({
        ...this.common(to, body),
        fromTag: from,
        toTag: this.bothKnown ? to : undefined,
        // rtpengine needs interfaces on the first offer only; repeating them is harmless.
        direction: this.direction(from, to),
      }),
    );
  }

  /**
   * An answer from `from` to the other side's offer; resolves with the SDP for
   * the offerer. Never rejects: 502 when rtpengine refuses or cannot be
   * reached (the caller has a 2xx in hand and must end the call), 500 after close().
   */
  async answer(from: RtpengineSide, body: Buffer): Promise<RtpengineVerdict> {
    const offerer = other(from);
    const v = await this.run('answer', () =>
      this.client.answer({
        ...this.common(offerer, body),
        // rtpengine names the parties as in the original request: offerer in from-tag.
        fromTag: offerer,
        toTag: from,
      }),
    );
    if (v.ok) this.bothKnown = true;
    return v;
  }

  /** rtpengine's counters for this call; per party, what it received from that side ('a' or 'b'). */
  stats(): Promise<NgCallStats> {
    return this.client.query({ callId: this.callId });
  }

  /**
   * Ends the call in rtpengine and resolves with its final counters
   * (undefined when they could not be had). Never rejects; failures are
   * logged, and rtpengine's own timers reap a call whose delete was lost.
   * Idempotent.
   */
  async close(): Promise<NgCallStats | undefined> {
    if (this.closed) return undefined;
    this.closed = true;
    // rtpengine 10.5 returns no statistics with delete, so ask for them first.
    let final: NgCallStats | undefined;
    try {
      final = await this.client.query({ callId: this.callId });
    } catch (err) {
      this.log.debug({ callId: this.callId, err: (err as Error).message }, 'rtpengine query before delete failed');
    }
    try {
      return (await this.client.delete({ callId: this.callId, fromTag: 'a' })) ?? final;
    } catch (err) {
      this.log.warn({ callId: this.callId, err: (err as Error).message }, 'rtpengine delete failed');
      return final;
    }
  }

  private common(to: RtpengineSide, body: Buffer) {
    const dst = this.sides[to];
    return {
      callId: this.callId,
      sdp: body,
      ice: 'remove' as const,
      replace: ['origin', 'session-connection'] as const,
      transportProtocol: dst.transportProtocol,
      sdes: dst.sdes ?? (dst.transportProtocol?.includes('SAVP') ? DEFAULT_SDES : undefined),
      // SDES is what the phones here speak; a DTLS fingerprint would only confuse them.
      dtls: 'off' as const,
      flags: this.flags,
    };
  }

  private direction(from: RtpengineSide, to: RtpengineSide): readonly [string, string] | undefined {
    const f = this.sides[from].interface;
    const t = this.sides[to].interface;
    return f !== undefined && t !== undefined ? [f, t] : undefined;
  }

  private async run(what: 'offer' | 'answer', call: () => Promise<{ sdp: Buffer }>): Promise<RtpengineVerdict> {
    if (this.closed) return { ok: false, status: 500, reason: 'Server Internal Error' };
    try {
      return { ok: true, body: (await call()).sdp };
    } catch (err) {
      const kind = err instanceof NgError ? err.kind : 'invalid';
      // Details go to the log only; the SIP reason phrase stays generic.
      this.log.warn({ callId: this.callId, command: what, kind, err: (err as Error).message }, 'rtpengine refused media');
      if (what === 'answer') return { ok: false, status: 502, reason: 'Bad Gateway' };
      if (kind === 'rejected') return { ok: false, status: 488, reason: 'Not Acceptable Here' };
      if (kind === 'invalid') return { ok: false, status: 500, reason: 'Server Internal Error' };
      return { ok: false, status: 503, reason: 'Service Unavailable' };
    }
  }
}
