// One call through the B2BUA, from the caller's INVITE to the last BYE. While
// it rings it runs the routing plan step by step (each step forks the INVITE
// to its targets; the first 2xx wins, the others are cancelled; no answer or
// busy moves to the step's fallback). Once answered, its bridge joins the
// caller's leg and the winner's; features (transfer, park, pickup) may later
// give the call a new bridge between other legs. It keeps one record with the
// segments of who talked to whom.
import type { Header, SipRequest, SipResponse } from '../../sip/message.ts';
import type { ServerTransaction } from '../../sip/transaction/types.ts';
import { getHeader, getHeaders } from '../../sip/headers.ts';
import type { Caller } from '../routing/targets.ts';
import type { CdrLeg } from '../../store/types.ts';
import type { CallContext, CallState, CallView } from './context.ts';
import type { InboundLeg } from './inbound-leg.ts';
import type { Leg, LegEvents } from './leg.ts';
import type { MediaSession, MediaSide } from './media.ts';
import type { OutboundLeg } from './outbound-leg.ts';
import { Ringer } from './ringer.ts';
import type { RingerOwner, StepOffer } from './ringer.ts';
import { relayRequest, relayAck } from './relay.ts';
import { Bridge } from './bridge.ts';
import type { BridgeOwner } from './bridge.ts';
import { callRecord, mediaRecord } from './outcome.ts';
import type { PlanStep } from '../routing/plan.ts';
import { partyOf, type CallParty, type Segment } from './segments.ts';

export type { CallParty } from './segments.ts';

export interface CallInit {
  ref: string;
  direction: CallView['direction'];
  caller: CallParty;
  callee: CallView['callee'];
  inbound: InboundLeg;
  media: MediaSession;
  callerMedia: MediaSide;
  /** Who called, as routing sees it (for following a callee's redirect). */
  routeCaller: Caller;
}

/** What features plug into a call (engine.ts installs them). */
export interface CallHooks {
  /** REFER from a party of the call. */
  refer(call: Call, bridge: Bridge, leg: Leg, req: SipRequest, tx: ServerTransaction): void;
  /** A party left; true when a feature takes over (the transferor leaving mid-transfer). */
  legLeft?(call: Call, leg: Leg): boolean;
  /** Caller ID headers for the answer to the caller when `user` answers. */
  answerHeaders(step: PlanStep, winner: OutboundLeg): Header[];
  /** The callee side's media identity for a plan step. */
  calleeSide(step: PlanStep): MediaSide;
  /** A party's re-INVITE, before it is relayed: true when a feature answers it (music on hold). */
  takeReoffer?(call: Call, bridge: Bridge, leg: Leg, req: SipRequest, tx: ServerTransaction): boolean;
  /** A party's re-INVITE with an offer went through (hold or resume: bridge.media.held). */
  reoffered?(call: Call, bridge: Bridge, leg: Leg): void;
}

/** Request headers a B2BUA passes on from one leg's INVITE to the other's. */
const CARRIED_REQUEST_HEADERS = ['subject', 'priority', 'alert-info', 'call-info', 'accept-language', 'session-expires', 'min-se'];

export class Call implements CallView, RingerOwner, LegEvents, BridgeOwner {
  readonly ref: string;
  state: CallState = 'routing';
  readonly direction: CallView['direction'];
  caller: CallParty;
  callee: CallView['callee'];
  readonly startedAt: number;
  answeredAt: number | undefined;
  endedAt: number | undefined;
  readonly inbound: InboundLeg;
  /** Rings the plan while the call is not answered. */
  ringer: Ringer | undefined;
  bridge: Bridge;
  /** Every leg this call holds (closed when it ends); a transfer may move a leg to another call. */
  readonly legs = new Set<Leg>();
  /** The caller's leg was released to another call (attended transfer): ending this call must not close it. */
  private inboundMoved = false;
  readonly segments: Segment[] = [];
  hooks: CallHooks | undefined;
  private readonly cleanups: (() => void)[] = [];
  /** Set by a feature (transfer, pickup) that has taken the call over. */
  takenOver = false;
  private readonly cdrLegs: CdrLeg[] = [];
  private cancelledByCaller = false;
  private timedOut = false;
  /** Caller sent no SDP: the callee's 2xx carries the offer and the caller's ACK the answer. */
  private readonly lateOffer: boolean;
  /** SDP answer already relayed in a provisional; a 2xx without SDP repeats it. */
  private earlyAnswer: Buffer | undefined;
  private lastProvisional = '';
  private readonly routeCaller: Caller;

  constructor(
    readonly ctx: CallContext,
    init: CallInit,
  ) {
    this.ref = init.ref;
    this.direction = init.direction;
    this.caller = init.caller;
    this.callee = init.callee;
    this.inbound = init.inbound;
    this.legs.add(init.inbound);
    this.startedAt = ctx.now();
    this.lateOffer = init.inbound.invite.body.length === 0;
    this.routeCaller = init.routeCaller;
    this.bridge = new Bridge(this, init.inbound, undefined, init.media, { a: init.callerMedia, b: init.callerMedia }, {
      peer: () => this.ringer?.earlyPeer(),
      has: (leg) => this.ringer?.forks.includes(leg as OutboundLeg) ?? false,
    });
  }

  private over(): boolean {
    return this.state === 'ended';
  }

  get media(): MediaSession {
    return this.bridge.media;
  }

  get codec(): string | undefined {
    return this.media.codec;
  }

  get held(): boolean {
    return this.media.held || this.bridge.holdMusic;
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

  get isAnswered(): boolean {
    return this.answeredAt !== undefined;
  }

  /** Runs `fn` when the call ends (features release what they hold for it). */
  onEnd(fn: () => void): void {
    this.cleanups.push(fn);
  }

  /** Starts ringing the plan's first step. */
  async start(step: PlanStep, extraHeaders: Header[]): Promise<void> {
    const headers: Header[] = [];
    const invite = this.inbound.invite;
    for (const name of CARRIED_REQUEST_HEADERS) for (const v of getHeaders(invite, name)) headers.push({ name, value: v });
    headers.push(...extraHeaders);
    this.ringer = new Ringer(this.ctx, this, headers, this.routeCaller);
    await this.ringer.ring(step);
  }

  get forks(): readonly OutboundLeg[] {
    return this.ringer?.forks ?? [];
  }

  get winner(): OutboundLeg | undefined {
    return this.ringer?.winner;
  }

  // RingerOwner

  get legEvents(): LegEvents {
    return this;
  }

  /** The offer for a step's callee: the caller's, judged against that callee's media policy. */
  async stepOffer(step: PlanStep): Promise<StepOffer> {
    this.callee = { number: this.callee.number, user: step.calleeUser, trunk: step.trunkName ?? this.callee.trunk };
    if (step.app !== undefined) this.callee.app = step.app;
    const side = this.hooks?.calleeSide(step);
    if (side) this.bridge.setCalleeSide(side);
    this.ctx.callChanged(this);
    if (this.lateOffer) return { ok: true, body: undefined };
    const verdict = await this.media.offer(this.bridge.sideOf(this.inbound), this.bridge.calleeSide, this.inbound.invite.body);
    if (this.over()) return { ok: false, status: 487, reason: 'Request Terminated' };
    return verdict.ok ? { ok: true, body: verdict.body } : verdict;
  }

  forked(leg: OutboundLeg): void {
    this.legs.add(leg);
    this.cdrLegs.push({ target: leg.label, status: 0, callId: leg.legCallId });
  }

  forkFailed(leg: OutboundLeg): void {
    this.recordLeg(leg);
    this.legs.delete(leg);
  }

  async provisional(leg: OutboundLeg, res: SipResponse): Promise<void> {
    if (this.state === 'ended') return;
    let body: Buffer | undefined;
    if (res.body.length > 0 && !this.lateOffer && this.earlyAnswer === undefined) {
      const verdict = await this.media.answer(this.bridge.sideOf(leg), this.bridge.sideOf(this.inbound), res.body);
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
  }

  unwanted(leg: OutboundLeg): void {
    this.recordLeg(leg);
    this.dropAnswer(leg);
    leg.close();
  }

  failed(status: number, reason: string, timedOut: boolean): void {
    if (this.takenOver) return;
    this.timedOut = timedOut;
    this.finish(status, reason);
  }

  async onAnswer(leg: OutboundLeg, res: SipResponse): Promise<void> {
    this.recordLeg(leg);
    if (this.over() || this.cancelledByCaller || this.takenOver) {
      this.dropAnswer(leg);
      leg.close();
      return;
    }
    if (this.lateOffer) {
      // The caller sent no SDP: the callee's 2xx holds the offer, and the caller's ACK will hold the answer.
      if (res.body.length === 0) return this.dropAnswer(leg, 502, 'Bad Gateway');
      const verdict = await this.media.offer(this.bridge.sideOf(leg), this.bridge.sideOf(this.inbound), res.body);
      if (this.over() || this.cancelledByCaller) return this.dropAnswer(leg);
      if (!verdict.ok) return this.dropAnswer(leg, verdict.status, verdict.reason);
      this.bridge.pendingAckRelay = { from: this.inbound, cseq: this.inbound.invite.cseq.seq, to: leg, toCseq: leg.request.cseq.seq };
      this.connect(leg, res, verdict.body);
      return;
    }
    let body: Buffer | undefined;
    if (res.body.length > 0) {
      const verdict = await this.media.answer(this.bridge.sideOf(leg), this.bridge.sideOf(this.inbound), res.body);
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
    this.legs.delete(leg);
    if (status !== undefined) this.finish(status, reason ?? '');
  }

  /** The callee answered: our 200 to the caller, and the call is connected. */
  private connect(leg: OutboundLeg, res: SipResponse, body: Buffer | undefined): void {
    const step = this.ringer?.step;
    const headers = step ? (this.hooks?.answerHeaders(step, leg) ?? []) : [];
    const se = getHeader(res, 'session-expires');
    if (se !== undefined && this.inbound.callerTimer) headers.push({ name: 'session-expires', value: se }, { name: 'require', value: 'timer' });
    this.bridge.b = leg;
    // The phone that answered decides whose call it is (a ring-all hunt step rings several users).
    if (leg.peer.user) this.callee = { ...this.callee, user: leg.peer.user };
    this.bridge.sessionTimer.negotiated(se, this.inbound.callerTimer, leg);
    this.state = 'connected';
    this.answeredAt = this.ctx.now();
    this.segments.push({ a: partyOf(this.inbound), b: partyOf(leg), startedAt: this.answeredAt, endedAt: undefined });
    this.inbound.final(200, 'OK', body, headers);
    this.ctx.callChanged(this);
  }

  /**
   * The call goes on between two other legs (transfer, park retrieval,
   * pickup): the old bridge's media is released, the new bridge becomes the
   * call's, and a new segment starts.
   */
  rebridge(next: Bridge, alone?: CallView['callee']): void {
    const now = this.ctx.now();
    const last = this.segments[this.segments.length - 1];
    if (last && last.endedAt === undefined) last.endedAt = now;
    if (this.bridge !== next) {
      // The session timer a remaining party negotiated carries over to its new bridge.
      const stays = next.a !== undefined && this.bridge.has(next.a) ? next.a : next.b && this.bridge.has(next.b) ? next.b : undefined;
      if (stays) next.sessionTimer.continueFor(this.bridge.sessionTimer, stays);
      this.bridge.close();
    }
    this.bridge = next;
    for (const leg of [next.a, next.b]) {
      if (!leg) continue;
      leg.events = this;
      this.legs.add(leg);
    }
    if (this.answeredAt === undefined) this.answeredAt = now;
    this.state = 'connected';
    this.caller = partyOf(next.a);
    const b = next.b ? partyOf(next.b) : undefined;
    // A party alone (parked) is in a call with nobody: status must not show its last partner as still in it.
    this.callee = b ? { number: b.number, user: b.user, trunk: b.trunk } : (alone ?? { number: '', user: undefined, trunk: undefined });
    if (next.b) this.segments.push({ a: partyOf(next.a), b: partyOf(next.b), startedAt: now, endedAt: undefined });
    this.ctx.callChanged(this);
  }

  /** A leg leaves this call for another (attended transfer merges two calls). */
  release(leg: Leg): void {
    this.legs.delete(leg);
    if (leg === this.inbound) this.inboundMoved = true;
  }

  /** The caller sent CANCEL before the call was answered. */
  cancelByCaller(): void {
    if (this.state === 'ended' || this.inbound.answered) return;
    this.cancelledByCaller = true;
    this.finish(487, 'Request Terminated');
  }

  /** Ends an unanswered call with a final response to the caller. */
  finish(status: number, reason: string): void {
    if (this.state === 'ended') return;
    this.ringer?.cancel();
    this.inbound.final(status, reason);
    this.end(status, reason);
  }

  /** Ends the call: BYE to every party still connected. */
  hangup(why: string, reasonHeader?: string): void {
    if (this.state === 'ended') return;
    this.ctx.log.info({ call: this.ref, why }, 'call hung up by the server');
    for (const leg of this.legs) if (leg.established || leg.awaitingAck) leg.bye(reasonHeader);
    if (!this.inbound.answered) return this.finish(487, 'Request Terminated');
    this.end(200);
  }

  onRequest(leg: Leg, req: SipRequest, tx: ServerTransaction): void {
    relayRequest(this.bridge, leg, req, tx);
  }

  onAck(leg: Leg, ack: SipRequest): void {
    relayAck(this.bridge, leg, ack);
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

  // BridgeOwner

  sessionExpired(): void {
    this.hangup('session timer expired', 'SIP;cause=408;text="Session expired"');
  }

  legBye(bridge: Bridge, leg: Leg, reason: string | undefined): void {
    if (!bridge.has(leg) || bridge !== this.bridge) {
      // A fork that was never joined, or a leg a feature is about to drop, ends only its own dialog.
      leg.close();
      this.legs.delete(leg);
      if (this.hooks?.legLeft?.(this, leg)) return;
      return;
    }
    if (!this.inbound.answered && leg === this.inbound) return this.cancelByCaller();
    leg.close();
    this.legs.delete(leg);
    if (this.hooks?.legLeft?.(this, leg)) return;
    bridge.other(leg)?.bye(reason);
    this.end(200);
  }

  refer(bridge: Bridge, leg: Leg, req: SipRequest, tx: ServerTransaction): void {
    if (!this.hooks) return leg.answer(req, tx, 405, { headers: [this.ctx.commonHeaders.allow] });
    this.hooks.refer(this, bridge, leg, req, tx);
  }

  changed(): void {
    this.ctx.callChanged(this);
  }

  takeReoffer(bridge: Bridge, leg: Leg, req: SipRequest, tx: ServerTransaction): boolean {
    return bridge === this.bridge && this.hooks?.takeReoffer?.(this, bridge, leg, req, tx) === true;
  }

  reoffered(bridge: Bridge, leg: Leg): void {
    if (bridge === this.bridge && this.state !== 'ended') this.hooks?.reoffered?.(this, bridge, leg);
  }

  /** Ends the call: legs closed, timers stopped, record written (reason: what the caller was told, for an unanswered call). Idempotent. */
  end(status: number, reason = ''): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.endedAt = this.ctx.now();
    this.ringer?.cancel();
    const last = this.segments[this.segments.length - 1];
    if (last && last.endedAt === undefined) last.endedAt = this.endedAt;
    for (const f of this.forks) this.recordLeg(f);
    // Counters and addresses before the bridge lets the relay go.
    const media = this.answeredAt === undefined ? null : mediaRecord(this.media);
    for (const leg of this.legs) leg.close();
    // A caller moved to another call by a transfer keeps its dialog there.
    if (!this.inboundMoved) this.inbound.close();
    this.bridge.close();
    for (const fn of this.cleanups.splice(0)) fn();
    this.ctx.callEnded(this, callRecord(this, {
      endedAt: this.endedAt, status, reason, cancelled: this.cancelledByCaller, timedOut: this.timedOut, legs: this.cdrLegs, segments: this.segments, media,
    }));
  }

  private recordLeg(leg: OutboundLeg): void {
    const entry = this.cdrLegs.find((l) => l.callId === leg.legCallId);
    if (entry && leg.status !== 0) {
      entry.status = leg.status;
      if (leg.reason !== '') entry.reason = leg.reason;
    }
  }

}
