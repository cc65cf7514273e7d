// One call through the B2BUA: the caller's inbound leg, the outbound legs
// forked to the callee's contacts (first 2xx wins, the others are
// cancelled), then the two dialogs joined. In-dialog traffic between the
// joined legs is relayed by relay.ts; SDP crosses through the MediaSession.
import type { Header, SipResponse } from '../../sip/message.ts';
import type { ServerTransaction } from '../../sip/transaction/types.ts';
import type { SipRequest } from '../../sip/message.ts';
import type { TimerHandle } from '../../sip/timer-queue.ts';
import { getContacts, getHeader, getHeaders } from '../../sip/headers.ts';
import { formatUri } from '../../sip/uri.ts';
import { dtmfRelayBody } from '../../media/dtmf.ts';
import { forwardingHeaders } from './forwarding.ts';
import type { Diversion } from './forwarding.ts';
import type { Caller } from './routing.ts';
import type { CdrLeg } from '../../store/types.ts';
import type { CallContext, CallState, CallView } from './context.ts';
import type { InboundLeg } from './inbound-leg.ts';
import type { Leg } from './leg.ts';
import type { MediaSession, MediaSide } from './media.ts';
import type { OutboundEvents, OutboundTarget } from './outbound-leg.ts';
import { OutboundLeg } from './outbound-leg.ts';
import { relayRequest, relayAck } from './relay.ts';
import { SessionTimer } from './session-timer.ts';
import { bestFailure, callRecord } from './outcome.ts';

export interface CallParty {
  number: string;
  name: string;
  user: CallView['caller']['user'];
}

export interface CallInit {
  ref: string;
  direction: CallView['direction'];
  caller: CallParty;
  callee: CallView['callee'];
  inbound: InboundLeg;
  media: MediaSession;
  callerMedia: MediaSide;
  calleeMedia: MediaSide;
  noAnswerTimeoutSec: number;
  /** Who called, as routing sees it (for following a callee's redirect). */
  routeCaller: Caller;
  /** Headers for the final 2xx to the caller (connected identity). */
  answerHeaders: Header[];
}

const MAX_REDIRECTS = 3;

/** Request headers a B2BUA passes on from one leg's INVITE to the other's. */
const CARRIED_REQUEST_HEADERS = ['subject', 'priority', 'alert-info', 'call-info', 'accept-language', 'session-expires', 'min-se'];

export class Call implements CallView, OutboundEvents {
  readonly ref: string;
  state: CallState = 'routing';
  readonly direction: CallView['direction'];
  readonly caller: CallParty;
  readonly callee: CallView['callee'];
  readonly startedAt: number;
  answeredAt: number | undefined;
  endedAt: number | undefined;
  readonly inbound: InboundLeg;
  readonly forks: OutboundLeg[] = [];
  winner: OutboundLeg | undefined;
  readonly media: MediaSession;
  readonly callerMedia: MediaSide;
  readonly calleeMedia: MediaSide;
  private readonly cdrLegs: CdrLeg[] = [];
  private noAnswer: TimerHandle | undefined;
  private cancelledByCaller = false;
  private timedOut = false;
  /** Caller sent no SDP: the callee's 2xx carries the offer and the caller's ACK the answer. */
  private readonly lateOffer: boolean;
  /** SDP answer already relayed in a provisional; a 2xx without SDP repeats it. */
  private earlyAnswer: Buffer | undefined;
  private lastProvisional = '';
  /** Our 2xx to a late-offer INVITE/re-INVITE waits for the ACK whose answer goes on to `to`. */
  pendingAckRelay: { from: Leg; cseq: number; to: Leg; toCseq: number; offerFromCallee: boolean } | undefined;
  readonly sessionTimer: SessionTimer;
  private readonly answerHeaders: Header[];
  private readonly routeCaller: Caller;
  private chain: Promise<void> = Promise.resolve();
  /** INVITE body and headers as sent to the first forks, for forks added by a redirect. */
  private forkBody: Buffer | undefined;
  private forkHeaders: Header[] = [];
  /** Diversions so far (RFC 5806 counter; History-Info index). */
  private readonly diversions: Diversion[] = [];

  constructor(
    readonly ctx: CallContext,
    init: CallInit,
  ) {
    this.ref = init.ref;
    this.direction = init.direction;
    this.caller = init.caller;
    this.callee = init.callee;
    this.inbound = init.inbound;
    this.media = init.media;
    this.callerMedia = init.callerMedia;
    this.calleeMedia = init.calleeMedia;
    this.startedAt = ctx.now();
    this.lateOffer = init.inbound.invite.body.length === 0;
    this.answerHeaders = init.answerHeaders;
    this.routeCaller = init.routeCaller;
    this.sessionTimer = new SessionTimer(ctx, () => this.hangup('session timer expired', 'SIP;cause=408;text="Session expired"'));
    this.noAnswer = ctx.timers.schedule(init.noAnswerTimeoutSec * 1000, () => this.onNoAnswer());
  }

  /** State read after an await (where TypeScript would keep the narrowing from before it). */
  private over(): boolean {
    return this.state === 'ended';
  }

  get codec(): string | undefined {
    return this.media.codec;
  }

  get held(): boolean {
    return this.media.held;
  }

  get connectionType(): string {
    return this.media.connectionType;
  }

  mediaStats(): ReturnType<MediaSession['legStats']> {
    return this.media.legStats();
  }

  get streams(): { a: string; b: string } {
    return this.media.streams;
  }

  /**
   * A digit the media relay took out of one side's RFC 4733 stream, for the
   * other side, which wants DTMF as SIP INFO (application/dtmf-relay).
   */
  sendDtmfInfo(from: 'a' | 'b', digit: string, durationMs: number): void {
    const to = from === 'a' ? this.winner : this.inbound;
    if (!to || to.ended || this.state !== 'connected') return;
    const body = dtmfRelayBody(digit, durationMs);
    const nop = () => {};
    to.sendInDialog('INFO', { body, contentType: 'application/dtmf-relay' }, { onResponse: nop, onTimeout: nop, onTransportError: nop });
  }

  /** The other joined leg, or undefined before the call is answered (several forks may be ringing). */
  other(leg: Leg): Leg | undefined {
    if (leg === this.inbound) return this.winner ?? (this.forks.length === 1 && this.forks[0]!.state === 'early' ? this.forks[0] : undefined);
    return this.inbound;
  }

  sideOf(leg: Leg): MediaSide {
    return leg === this.inbound ? this.callerMedia : this.calleeMedia;
  }

  /** Forks the INVITE to every target at once (parallel forking). */
  async start(targets: OutboundTarget[], extraHeaders: Header[]): Promise<void> {
    const invite = this.inbound.invite;
    let body: Buffer | undefined;
    if (!this.lateOffer) {
      const verdict = await this.media.offer(this.callerMedia, this.calleeMedia, invite.body);
      // The caller may have cancelled while media was being set up.
      if (this.state === 'ended') return;
      if (!verdict.ok) {
        this.finish(verdict.status, verdict.reason);
        return;
      }
      body = verdict.body;
    }
    const carried: Header[] = [];
    for (const name of CARRIED_REQUEST_HEADERS) for (const v of getHeaders(invite, name)) carried.push({ name, value: v });
    const headers = carried.concat(extraHeaders);
    this.forkBody = body;
    this.forkHeaders = headers;
    for (const t of targets) this.fork(t, body, headers);
    this.ctx.callChanged(this);
  }

  private fork(target: OutboundTarget, body: Buffer | undefined, headers: Header[]): void {
    const leg = new OutboundLeg(this.ctx, this, target);
    this.forks.push(leg);
    leg.start(body, headers);
    this.cdrLegs.push({ target: leg.label, status: 0, callId: leg.legCallId });
  }

  /**
   * Responses from the callee side are handled one at a time, in arrival
   * order, even though their SDP may take a round trip to a media relay: a
   * 200 must never overtake the 183 before it.
   */
  private serial(step: () => void | Promise<void>): void {
    this.chain = this.chain.then(step).catch((err: Error) => {
      this.ctx.log.error({ call: this.ref, err: err.message }, 'call step failed');
      if (this.state !== 'ended') {
        if (this.inbound.answered) this.hangup('internal error');
        else this.finish(500, 'Server Internal Error');
      }
    });
  }

  onProvisional(leg: OutboundLeg, res: SipResponse): void {
    this.serial(() => this.provisional(leg, res));
  }

  private async provisional(leg: OutboundLeg, res: SipResponse): Promise<void> {
    if (this.state === 'ended' || this.winner) return;
    let body: Buffer | undefined;
    if (res.body.length > 0 && !this.lateOffer && this.earlyAnswer === undefined) {
      const verdict = await this.media.answer(this.calleeMedia, this.callerMedia, res.body);
      if (this.over() || this.winner) return;
      if (verdict.ok) body = this.earlyAnswer = verdict.body;
    }
    const status = res.status === 183 && body === undefined && this.earlyAnswer === undefined ? 180 : res.status;
    const key = status + (body ? 'sdp' : '');
    if (this.state !== 'ringing') {
      this.state = 'ringing';
      this.ctx.callChanged(this);
    }
    if (key === this.lastProvisional) return;
    this.lastProvisional = key;
    this.inbound.provisional(status, res.reason, body);
    void leg;
  }

  onFinal(leg: OutboundLeg, res: SipResponse): void {
    this.serial(() => this.final(leg, res));
  }

  private async final(leg: OutboundLeg, res: SipResponse): Promise<void> {
    this.recordLeg(leg);
    if (res.status >= 200 && res.status < 300) {
      await this.onAnswered(leg, res);
      return;
    }
    if (this.state === 'ended' || this.winner) return;
    if (res.status >= 300 && res.status < 400 && this.followRedirect(leg, res)) return;
    if (this.forks.some((f) => f.state === 'calling' || f.state === 'early')) return;
    const best = bestFailure(this.forks.map((f) => f.status));
    this.finish(best.status, best.reason);
  }

  /**
   * A callee's phone forwarded the call with a 3xx: ring the new target with
   * Diversion (RFC 5806) and History-Info (RFC 7044) saying who forwarded it
   * and why. At most MAX_REDIRECTS hops, so two phones forwarding to each
   * other cannot loop.
   */
  private followRedirect(leg: OutboundLeg, res: SipResponse): boolean {
    if (this.cancelledByCaller || this.diversions.length >= MAX_REDIRECTS) return false;
    const contacts = getContacts(res);
    const next = Array.isArray(contacts) ? contacts[0] : undefined;
    if (!next) return false;
    const route = this.ctx.redirect(this.routeCaller, next.uri);
    if (!route.ok) return false;
    const domain = this.ctx.settings.domain;
    const by = leg.target.peer.user;
    const divertedUri = by ? `sip:${by.extension}@${domain}` : formatUri(leg.target.requestUri);
    this.diversions.push({ uri: divertedUri, cause: res.status });
    const headers = this.forkHeaders.filter((h) => h.name !== 'diversion' && h.name !== 'history-info');
    headers.push(...forwardingHeaders(this.diversions, formatUri(route.targets[0]!.to.uri)));
    this.ctx.log.info({ call: this.ref, from: divertedUri, to: formatUri(next.uri) }, 'call forwarded by the callee');
    for (const t of route.targets) this.fork(t, this.forkBody, headers);
    return true;
  }

  private async onAnswered(leg: OutboundLeg, res: SipResponse): Promise<void> {
    if (this.over() || this.winner || this.cancelledByCaller) {
      this.dropAnswer(leg);
      leg.close();
      return;
    }
    this.winner = leg;
    this.clearNoAnswer();
    for (const f of this.forks) if (f !== leg) f.cancel();
    if (this.lateOffer) {
      // The caller sent no SDP: the callee's 2xx holds the offer, and the caller's ACK will hold the answer.
      if (res.body.length === 0) return this.dropAnswer(leg, 502, 'Bad Gateway');
      const verdict = await this.media.offer(this.calleeMedia, this.callerMedia, res.body);
      if (this.over() || this.cancelledByCaller) return this.dropAnswer(leg);
      if (!verdict.ok) return this.dropAnswer(leg, verdict.status, verdict.reason);
      this.pendingAckRelay = { from: this.inbound, cseq: this.inbound.invite.cseq.seq, to: leg, toCseq: leg.request.cseq.seq, offerFromCallee: true };
      this.connect(leg, res, verdict.body);
      return;
    }
    let body: Buffer | undefined;
    if (res.body.length > 0) {
      const verdict = await this.media.answer(this.calleeMedia, this.callerMedia, res.body);
      if (this.over() || this.cancelledByCaller) return this.dropAnswer(leg);
      // Media the caller's policy refuses: no call, rather than a call without audio.
      if (!verdict.ok) return this.dropAnswer(leg, verdict.status, verdict.reason);
      body = verdict.body;
    }
    leg.ack();
    this.connect(leg, res, body ?? this.earlyAnswer);
  }

  /** A 2xx that will not be connected: the callee is ACKed and hung up; with a status, the caller gets it. */
  private dropAnswer(leg: OutboundLeg, status?: number, reason?: string): void {
    leg.ack();
    leg.bye();
    if (status !== undefined) this.finish(status, reason ?? '');
  }

  /** The callee answered: our 200 to the caller, and the call is connected. */
  private connect(leg: OutboundLeg, res: SipResponse, body: Buffer | undefined): void {
    const headers = this.answerHeaders.slice();
    const se = getHeader(res, 'session-expires');
    if (se !== undefined && this.inbound.callerTimer) headers.push({ name: 'session-expires', value: se }, { name: 'require', value: 'timer' });
    this.sessionTimer.negotiated(se, this.inbound.callerTimer, leg);
    this.state = 'connected';
    this.answeredAt = this.ctx.now();
    this.inbound.final(200, 'OK', body, headers);
    this.ctx.callChanged(this);
  }

  /** The caller sent CANCEL before the call was answered. */
  cancelByCaller(): void {
    if (this.state === 'ended' || this.inbound.answered) return;
    this.cancelledByCaller = true;
    this.finish(487, 'Request Terminated');
  }

  private onNoAnswer(): void {
    this.noAnswer = undefined;
    if (this.state === 'ended' || this.winner) return;
    this.timedOut = true;
    const rang = this.forks.some((f) => f.state === 'early');
    this.finish(rang ? 480 : 408, rang ? 'Temporarily Unavailable' : 'Request Timeout');
  }

  /** Ends an unanswered call with a final response to the caller. */
  finish(status: number, reason: string): void {
    if (this.state === 'ended') return;
    for (const f of this.forks) f.cancel();
    this.inbound.final(status, reason);
    this.end(status);
  }

  /** Ends an answered call: BYE to both parties. */
  hangup(why: string, reasonHeader?: string): void {
    if (this.state === 'ended') return;
    this.ctx.log.info({ call: this.ref, why }, 'call hung up by the server');
    this.inbound.bye(reasonHeader);
    this.winner?.bye(reasonHeader);
    this.end(200);
  }

  onRequest(leg: Leg, req: SipRequest, tx: ServerTransaction): void {
    relayRequest(this, leg, req, tx);
  }

  onAck(leg: Leg, ack: SipRequest): void {
    relayAck(this, leg, ack);
  }

  onLegFailed(leg: Leg, why: string): void {
    this.ctx.log.info({ call: this.ref, leg: leg.side, why }, 'call leg failed');
    if (this.state === 'ended') return;
    if (!this.inbound.answered) {
      this.finish(leg === this.inbound ? 504 : 502, leg === this.inbound ? 'Server Time-out' : 'Bad Gateway');
      return;
    }
    this.hangup(why);
  }

  /** Ends the call: legs closed, timers stopped, record written. Idempotent. */
  end(status: number): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.endedAt = this.ctx.now();
    this.clearNoAnswer();
    this.sessionTimer.stop();
    this.inbound.close();
    for (const f of this.forks) {
      this.recordLeg(f);
      if (f !== this.winner && f.state !== 'answered') continue;
      f.close();
    }
    this.media.close();
    this.ctx.callEnded(this, callRecord(this, { endedAt: this.endedAt, status, cancelled: this.cancelledByCaller, timedOut: this.timedOut, legs: this.cdrLegs }));
  }

  private recordLeg(leg: OutboundLeg): void {
    const entry = this.cdrLegs.find((l) => l.callId === leg.legCallId);
    if (entry && leg.status !== 0) entry.status = leg.status;
  }

  private clearNoAnswer(): void {
    if (this.noAnswer) this.ctx.timers.cancel(this.noAnswer);
    this.noAnswer = undefined;
  }
}
