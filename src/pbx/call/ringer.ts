// Rings a routing plan: each step forks an INVITE to every target at once
// (parallel forking); the first 2xx wins and the other forks are cancelled;
// a step that ends unanswered (its timer, or every fork failing) moves to its
// fallback, evaluated then; a phone's own 3xx is followed with Diversion and
// History-Info. What the INVITE carries and what an answer means is the
// owner's: a new call (the caller waits for our final response), a transfer
// (the transferee is re-INVITEd when the target answers), a park recall.
import type { Header, SipResponse } from '../../sip/message.ts';
import type { TimerHandle } from '../../lib/timer-queue.ts';
import { getContacts } from '../../sip/headers.ts';
import { formatUri } from '../../sip/uri.ts';
import type { CallContext } from './context.ts';
import type { LegEvents } from './leg.ts';
import type { OutboundEvents, OutboundTarget } from './outbound-leg.ts';
import { OutboundLeg } from './outbound-leg.ts';
import { forwardingHeaders } from './forwarding.ts';
import type { Diversion } from './forwarding.ts';
import { bestFailure } from './outcome.ts';
import type { Caller } from '../routing/targets.ts';
import type { PlanStep, StepOutcome } from '../routing/plan.ts';
import { MAX_DIVERSIONS } from '../routing/plan.ts';

export type StepOffer = { ok: true; body: Buffer | undefined } | { ok: false; status: number; reason: string };

export interface RingerOwner {
  readonly ref: string;
  /** In-dialog requests of forks (early UPDATE, BYE) go where the owner's legs' go. */
  readonly legEvents: LegEvents;
  /** The INVITE body for a step's callee (undefined: an offerless INVITE); a refusal ends the ringing. */
  stepOffer(step: PlanStep): Promise<StepOffer>;
  /** A fork was sent (records). */
  forked?(leg: OutboundLeg): void;
  /** A provisional response from a fork of the current step (in arrival order). */
  provisional(leg: OutboundLeg, res: SipResponse): void | Promise<void>;
  /** The first 2xx: the owner ACKs it and connects, or ACKs and hangs up. */
  onAnswer(leg: OutboundLeg, res: SipResponse): void | Promise<void>;
  /** A 2xx the ringing no longer wants (a second fork, after cancel): ACK and BYE. */
  unwanted(leg: OutboundLeg): void;
  /** A fork's final failure (records). */
  forkFailed?(leg: OutboundLeg): void;
  /** The plan is exhausted: nobody answered. `timedOut` when the last step's timer ran out. */
  failed(status: number, reason: string, timedOut: boolean, rang: boolean): void;
}

const MAX_REDIRECTS = 3;

export class Ringer implements OutboundEvents {
  readonly forks: OutboundLeg[] = [];
  winner: OutboundLeg | undefined;
  step: PlanStep | undefined;
  private stepForks = new Set<OutboundLeg>();
  private stepBody: Buffer | undefined;
  private stepHeaders: Header[] = [];
  private timer: TimerHandle | undefined;
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;
  /** Diversions so far (RFC 5806 counter; History-Info index). */
  private readonly diversions: Diversion[] = [];

  constructor(
    private readonly ctx: CallContext,
    private readonly owner: RingerOwner,
    /** Headers every INVITE carries (caller ID, carried request headers). */
    private readonly headers: Header[],
    /** Who calls, for following a callee's redirect with the caller's permissions. */
    private readonly caller: Caller,
  ) {}

  get done(): boolean {
    return this.stopped;
  }

  /** The single early fork, if exactly one has answered provisionally (early in-dialog requests go there). */
  earlyPeer(): OutboundLeg | undefined {
    let one: OutboundLeg | undefined;
    for (const f of this.stepForks) {
      if (f.state !== 'early') continue;
      if (one) return undefined;
      one = f;
    }
    return one;
  }

  /** Whether any fork of the current step has rung (a provisional with a tag). */
  get rang(): boolean {
    for (const f of this.stepForks) if (f.state === 'early') return true;
    return false;
  }

  /** A fork of the current step still waits for its final response. */
  private get pending(): boolean {
    for (const f of this.stepForks) if (f.state === 'calling' || f.state === 'early') return true;
    return false;
  }

  /** Rings a step: the offer is shaped for its callee, then every target is forked. */
  async ring(step: PlanStep): Promise<void> {
    if (this.stopped) return;
    this.step = step;
    this.stepForks = new Set();
    if (step.diversions) this.diversions.push(...step.diversions);
    const offer = await this.owner.stepOffer(step);
    if (this.stopped || this.step !== step) return;
    if (!offer.ok) return this.fail(offer.status, offer.reason, false);
    const headers = this.headers.slice();
    if (this.diversions.length > 0) headers.push(...forwardingHeaders(this.diversions, formatUri(step.targets[0]!.to.uri)));
    this.stepBody = offer.body;
    this.stepHeaders = headers;
    // RFC 7339 §5.10: a trunk that asked us to send less gets fewer new calls; when none of a
    // step's targets is left, the step ends as unavailable (503) and its fallback, if any, rings.
    const overload = this.ctx.trunkOverload;
    const targets = overload === undefined ? step.targets : step.targets.filter((t) => t.peer.trunk === undefined || overload.admit(t.peer.trunk));
    if (targets.length === 0) {
      this.ctx.log.info({ call: this.owner.ref, step: step.label }, 'call not sent: the trunk asked for fewer calls (RFC 7339)');
      return this.fallback('unavailable', { status: 503, reason: 'Service Unavailable' }, false);
    }
    for (const t of targets) this.fork(t, offer.body, headers);
    this.clearTimer();
    this.timer = this.ctx.timers.schedule(step.ringMs ?? this.ctx.settings.noAnswerTimeoutSec * 1000, () => this.onNoAnswer());
  }

  /** Stops ringing: every fork still ringing is cancelled. */
  cancel(): void {
    this.stopped = true;
    this.clearTimer();
    for (const f of this.forks) f.cancel();
  }

  private fork(target: OutboundTarget, body: Buffer | undefined, headers: Header[]): void {
    const leg = new OutboundLeg(this.ctx, this, target);
    this.forks.push(leg);
    this.stepForks.add(leg);
    this.owner.forked?.(leg);
    leg.start(body, headers);
  }

  /**
   * Responses are handled one at a time, in arrival order, even though their
   * SDP may take a round trip to a media relay: a 200 must never overtake the
   * 183 before it.
   */
  private serial(step: () => void | Promise<void>): void {
    this.chain = this.chain.then(step).catch((err: Error) => {
      this.ctx.log.error({ call: this.owner.ref, err: err.message }, 'ringing step failed');
      if (!this.winner) this.fail(500, 'Server Internal Error', false);
    });
  }

  // OutboundEvents: the forks report here; in-dialog requests go to the owner's legs' handler.

  onRequest: LegEvents['onRequest'] = (leg, req, tx) => this.owner.legEvents.onRequest(leg, req, tx);
  onAck: LegEvents['onAck'] = (leg, ack) => this.owner.legEvents.onAck(leg, ack);
  onLegFailed: LegEvents['onLegFailed'] = (leg, why) => this.owner.legEvents.onLegFailed(leg, why);

  onProvisional(leg: OutboundLeg, res: SipResponse): void {
    this.serial(() => {
      if (this.stopped || this.winner || !this.stepForks.has(leg)) return;
      return this.owner.provisional(leg, res);
    });
  }

  onFinal(leg: OutboundLeg, res: SipResponse): void {
    this.serial(() => this.final(leg, res));
  }

  private async final(leg: OutboundLeg, res: SipResponse): Promise<void> {
    if (res.status >= 200 && res.status < 300) {
      if (this.stopped || this.winner) return this.owner.unwanted(leg);
      this.winner = leg;
      this.stopped = true;
      this.clearTimer();
      for (const f of this.forks) if (f !== leg) f.cancel();
      return this.owner.onAnswer(leg, res);
    }
    this.owner.forkFailed?.(leg);
    if (this.stopped || !this.stepForks.has(leg)) return;
    if (res.status >= 300 && res.status < 400 && this.followRedirect(leg, res)) return;
    if (this.pending) return;
    const best = bestFailure([...this.stepForks].map((f) => f.status));
    this.fallback(best.status === 486 || best.status === 600 ? 'busy' : 'unavailable', best, false);
  }

  private onNoAnswer(): void {
    this.timer = undefined;
    if (this.stopped) return;
    const rang = this.rang;
    for (const f of this.stepForks) f.cancel();
    this.fallback('no-answer', rang ? { status: 480, reason: 'Temporarily Unavailable' } : { status: 408, reason: 'Request Timeout' }, true);
  }

  /** The step ended unanswered: its fallback (evaluated now), or the failure to the owner. */
  private fallback(outcome: StepOutcome, failure: { status: number; reason: string }, timedOut: boolean): void {
    const step = this.step;
    const next = this.diversions.length < MAX_DIVERSIONS ? step?.next?.(outcome) : undefined;
    if (next && next.ok) {
      for (const f of this.stepForks) f.cancel();
      this.ctx.log.info({ call: this.owner.ref, from: step!.label, to: next.label, outcome }, 'call moves to the next step of its plan');
      this.serial(() => this.ring(next));
      return;
    }
    if (next && !next.ok) return this.fail(next.status, next.reason, timedOut);
    this.fail(failure.status, failure.reason, timedOut);
  }

  private fail(status: number, reason: string, timedOut: boolean): void {
    if (this.stopped) return;
    const rang = this.rang;
    this.cancel();
    this.owner.failed(status, reason, timedOut, rang);
  }

  /**
   * A callee's phone forwarded the call with a 3xx: ring the new target with
   * Diversion (RFC 5806) and History-Info (RFC 7044) saying who forwarded it
   * and why. At most MAX_REDIRECTS hops, so two phones forwarding to each
   * other cannot loop.
   */
  private followRedirect(leg: OutboundLeg, res: SipResponse): boolean {
    if (this.diversions.length >= MAX_REDIRECTS) return false;
    const contacts = getContacts(res);
    const next = Array.isArray(contacts) ? contacts[0] : undefined;
    if (!next) return false;
    const route = this.ctx.redirect(this.caller, next.uri);
    if (!route.ok) return false;
    const domain = this.ctx.settings.domain;
    const by = leg.target.peer.user;
    const divertedUri = by ? `sip:${by.extension}@${domain}` : formatUri(leg.target.requestUri);
    this.diversions.push({ uri: divertedUri, cause: res.status });
    const headers = this.stepHeaders.filter((h) => h.name !== 'diversion' && h.name !== 'history-info');
    headers.push(...forwardingHeaders(this.diversions, formatUri(route.targets[0]!.to.uri)));
    this.ctx.log.info({ call: this.owner.ref, from: divertedUri, to: formatUri(next.uri) }, 'call forwarded by the callee');
    for (const t of route.targets) this.fork(t, this.stepBody, headers);
    return true;
  }

  private clearTimer(): void {
    if (this.timer) this.ctx.timers.cancel(this.timer);
    this.timer = undefined;
  }
}
