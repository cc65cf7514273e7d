// One call an application of the media server answers: the UAS leg toward
// the B2BUA (an InboundLeg, with its 2xx retransmission, ACK and in-dialog
// handling) and the media endpoint whose SDP it answers with. Re-INVITE and
// UPDATE (hold, resume, session refresh, a move into or out of the relay)
// re-answer from the endpoint; DTMF arriving as SIP INFO (RFC 6086 with
// application/dtmf-relay) is handed to the endpoint like RTP events; a
// transfer is a REFER (RFC 3515) the B2BUA carries out, whose NOTIFY
// sipfrag tells the outcome.
import type { SipRequest } from '../../sip/message.ts';
import type { ServerTransaction } from '../../sip/transaction/types.ts';
import type { Logger } from '../../lib/log.ts';
import type { TimerQueue } from '../../lib/timer-queue.ts';
import { getHeader } from '../../sip/headers.ts';
import { parseSipfrag } from '../../sip/ua/refer.ts';
import { parseDtmfRelay } from '../../media/dtmf.ts';
import type { InboundLeg } from '../call/inbound-leg.ts';
import type { Leg, LegEvents } from '../call/leg.ts';

/** What a call needs of its media endpoint (src/media/endpoint.ts). */
export interface AppEndpoint {
  /** Our answer to an SDP offer, or why not. */
  answer(offer: Buffer): { ok: true; body: Buffer } | { ok: false; status: number; reason: string };
  /** An offer of ours (offerless INVITE or re-INVITE). */
  offer(): Buffer;
  /** The answer to our offer; false when unusable. */
  accept(answer: Buffer): boolean;
  /** A digit that came as SIP INFO. */
  pushDigit(digit: string): void;
  close(): void;
}

/** How long a transfer may take before the application gives up on it (the B2BUA rings the target meanwhile). */
const TRANSFER_WAIT_MS = 120_000;

export class AppCall<E extends AppEndpoint = AppEndpoint> implements LegEvents {
  private ep: E | undefined;
  ended = false;
  private readonly endFns: (() => void)[] = [];
  private acked: ((ok: boolean) => void) | undefined;
  /** Our offer went out in the 2xx (offerless INVITE): the ACK holds the answer. */
  private offered = false;
  private referWait: ((r: { status: number; reason: string }) => void) | undefined;

  constructor(
    readonly leg: InboundLeg,
    private readonly log: Logger,
    private readonly timers: TimerQueue,
  ) {
    leg.events = this;
  }

  /** The endpoint (set once answered). */
  get endpoint(): E {
    if (!this.ep) throw new Error('the call has no endpoint before it is answered');
    return this.ep;
  }

  /** Who called, as the B2BUA presents the caller (From). */
  get caller(): { number: string; name: string } {
    const from = this.leg.invite.from;
    return { number: from.uri.user ?? 'anonymous', name: from.displayName ?? '' };
  }

  /** The number the caller dialled or was routed to (To): the mailbox owner, the room, the menu. */
  get called(): string {
    return this.leg.invite.to.uri.user ?? '';
  }

  onEnd(fn: () => void): void {
    if (this.ended) fn();
    else this.endFns.push(fn);
  }

  /** Answers with the endpoint's SDP and waits for the ACK; false when the call cannot go on. */
  answer(endpoint: E): Promise<boolean> {
    this.ep = endpoint;
    if (this.ended) {
      endpoint.close();
      return Promise.resolve(false);
    }
    const invite = this.leg.invite;
    let body: Buffer;
    if (invite.body.length > 0) {
      const verdict = endpoint.answer(invite.body);
      if (!verdict.ok) {
        this.fail(verdict.status, verdict.reason);
        return Promise.resolve(false);
      }
      body = verdict.body;
    } else {
      this.offered = true;
      body = endpoint.offer();
    }
    return new Promise((resolve) => {
      this.acked = resolve;
      this.leg.final(200, 'OK', body);
    });
  }

  /** Refuses the INVITE (before the answer) or hangs up (after). */
  fail(status: number, reason: string): void {
    if (!this.leg.answered) this.leg.final(status, reason);
    else this.leg.bye();
    this.finish();
  }

  /** Ends the call with BYE (idempotent). */
  hangup(): void {
    if (this.ended) return;
    if (!this.leg.answered) this.leg.final(480, 'Temporarily Unavailable');
    else this.leg.bye();
    this.finish();
  }

  /**
   * Asks the B2BUA to transfer the caller to `number` (blind REFER). Resolves
   * with the outcome of the referred call: 200 when it was answered (the
   * B2BUA then ends this leg), the failure status otherwise (the call with us
   * goes on, so the application can say so and try something else).
   */
  transfer(number: string, domain: string): Promise<{ status: number; reason: string }> {
    return new Promise((resolve) => {
      if (this.ended || this.referWait) return resolve({ status: 481, reason: 'Call/Transaction Does Not Exist' });
      const timer = this.timers.schedule(TRANSFER_WAIT_MS, () => settle({ status: 408, reason: 'Request Timeout' }));
      const settle = (r: { status: number; reason: string }) => {
        this.timers.cancel(timer);
        this.referWait = undefined;
        resolve(r);
      };
      this.referWait = settle;
      const target = `<sip:${number}@${domain}>`;
      const sent = this.leg.sendInDialog('REFER', { headers: [{ name: 'refer-to', value: target }] }, {
        onResponse: (res) => {
          if (res.status >= 300) settle({ status: res.status, reason: res.reason });
        },
        onTimeout: () => settle({ status: 408, reason: 'Request Timeout' }),
        onTransportError: () => settle({ status: 503, reason: 'Service Unavailable' }),
      });
      if (!sent) settle({ status: 481, reason: 'Call/Transaction Does Not Exist' });
    });
  }

  // LegEvents: the B2BUA's in-dialog requests.

  onAck(_leg: Leg, ack: SipRequest): void {
    if (this.offered && ack.body.length > 0 && this.ep && !this.ep.accept(ack.body)) {
      this.log.info({ call: this.leg.invite.callId }, 'media server: answer in ACK not usable');
    }
    this.offered = false;
    const done = this.acked;
    this.acked = undefined;
    done?.(true);
  }

  onRequest(leg: Leg, req: SipRequest, tx: ServerTransaction): void {
    switch (req.method) {
      case 'BYE':
        leg.answer(req, tx, 200);
        this.finish();
        return;
      case 'INVITE':
      case 'UPDATE':
        return this.reoffer(req, tx);
      case 'INFO': {
        const type = (getHeader(req, 'content-type') ?? '').toLowerCase();
        const d = type.startsWith('application/dtmf') ? parseDtmfRelay(req.body.toString('utf8')) : undefined;
        if (d !== undefined) this.ep?.pushDigit(d.digit);
        leg.answer(req, tx, 200);
        return;
      }
      case 'NOTIFY': {
        leg.answer(req, tx, 200);
        const frag = parseSipfrag(req.body);
        if (frag && frag.status >= 200) this.referWait?.(frag);
        return;
      }
      default:
        leg.answer(req, tx, 405, { headers: [{ name: 'allow', value: 'INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE, NOTIFY' }] });
    }
  }

  onLegFailed(_leg: Leg, why: string): void {
    this.log.info({ call: this.leg.invite.callId, why }, 'media server call failed');
    this.finish();
  }

  /** A re-INVITE or UPDATE: answered from the endpoint (an offerless one gets our offer). */
  private reoffer(req: SipRequest, tx: ServerTransaction): void {
    const ep = this.ep;
    if (!ep) return this.leg.answer(req, tx, 491);
    if (req.body.length === 0) {
      if (req.method === 'UPDATE') return this.leg.answer(req, tx, 200);
      this.offered = true;
      return this.leg.answer(req, tx, 200, { body: ep.offer() });
    }
    const verdict = ep.answer(req.body);
    if (!verdict.ok) return this.leg.answer(req, tx, verdict.status, { reason: verdict.reason });
    this.leg.answer(req, tx, 200, { body: verdict.body });
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.acked?.(false);
    this.acked = undefined;
    this.referWait?.({ status: 481, reason: 'Call/Transaction Does Not Exist' });
    this.ep?.close();
    this.leg.close();
    for (const fn of this.endFns.splice(0)) fn();
  }
}
