// Ringing a new party for someone already in a call — the target of a blind
// transfer, the parker when a parked call times out — and joining them when
// the new party answers. The INVITE is offerless: the answer's 200 brings the
// offer, which the waiting party gets in a re-INVITE (join.ts).
import type { SipResponse } from '../../sip/message.ts';
import { Bridge } from '../call/bridge.ts';
import type { Call } from '../call/call.ts';
import type { Leg, LegEvents } from '../call/leg.ts';
import type { OutboundLeg } from '../call/outbound-leg.ts';
import { Ringer } from '../call/ringer.ts';
import type { RingerOwner, StepOffer } from '../call/ringer.ts';
import { connectOffer } from '../call/join.ts';
import type { PlanStep } from '../routing/plan.ts';
import type { CallControl } from './feature.ts';

export interface RingForEvents {
  /** The new party's phone rings. */
  ringing?(): void;
  /** Joined (the call's bridge is now waiting party ↔ new party), or why not. */
  done(ok: boolean, status: number, reason: string): void;
}

export class RingFor implements RingerOwner {
  private readonly ringer: Ringer;
  private rang = false;

  constructor(
    private readonly control: CallControl,
    private readonly call: Call,
    /** The party waiting in the call, who will talk to whoever answers. */
    private readonly waiting: Leg,
    private readonly events: RingForEvents,
  ) {
    this.ringer = new Ringer(control.ctx, this, [], control.callerOf(waiting));
    call.onEnd(() => this.ringer.cancel());
  }

  ring(step: PlanStep): Promise<void> {
    return this.ringer.ring(step);
  }

  cancel(): void {
    this.ringer.cancel();
  }

  get ref(): string {
    return this.call.ref;
  }

  get legEvents(): LegEvents {
    return this.call;
  }

  async stepOffer(): Promise<StepOffer> {
    return { ok: true, body: undefined };
  }

  provisional(_leg: OutboundLeg, res: SipResponse): void {
    if (res.status === 100 || this.rang) return;
    this.rang = true;
    this.events.ringing?.();
  }

  unwanted(leg: OutboundLeg): void {
    leg.ack();
    leg.bye();
  }

  async onAnswer(leg: OutboundLeg, res: SipResponse): Promise<void> {
    if (this.call.state === 'ended' || !this.waiting.established || res.body.length === 0) {
      this.unwanted(leg);
      return this.events.done(false, res.body.length === 0 ? 502 : 487, res.body.length === 0 ? 'Bad Gateway' : 'Request Terminated');
    }
    leg.events = this.call;
    const bridge = Bridge.between(this.call, this.waiting, leg, this.control.newMedia(this.call));
    const ok = await connectOffer(bridge, leg, { offer: res.body, complete: (answer) => leg.ack(answer) });
    if (!ok) {
      leg.bye();
      bridge.close();
      return this.events.done(false, 488, 'Not Acceptable Here');
    }
    this.call.rebridge(bridge);
    this.events.done(true, 200, 'OK');
  }

  failed(status: number, reason: string): void {
    this.events.done(false, status, reason);
  }
}
