// Music on hold (SPEC B-13): when one party of a connected call puts the
// other on hold, the held party hears music from an endpoint of ours. The
// holder's hold goes through as always; then the music endpoint speaks for
// the holder in the bridge's media session — its offer reaches the held
// party in a re-INVITE shaped by that party's own policy (SRTP through the
// relay, or plain and direct), so with direct media the held party's stream
// moves to the endpoint, and the holder's resume moves it back the usual way
// (a re-INVITE relayed through the same session). The bridge itself never
// changes: BYE, REFER (hold before transfer, B-12) and session refreshes
// work as on any call. A second hold offer from the holder while the music
// plays is answered by us, so it cannot silence the music.
import type { SipRequest, SipResponse } from '../../sip/message.ts';
import type { ServerTransaction } from '../../sip/transaction/types.ts';
import type { Bridge } from '../call/bridge.ts';
import type { Call } from '../call/call.ts';
import type { Leg, LegEvents } from '../call/leg.ts';
import type { MediaSide } from '../call/media.ts';
import type { OutboundLeg } from '../call/outbound-leg.ts';
import { Ringer } from '../call/ringer.ts';
import type { RingerOwner, StepOffer } from '../call/ringer.ts';
import { sendOffer } from '../call/join.ts';
import { inactiveAnswer } from '../media/placeholder.ts';
import { isHold, parseSdp } from '../../sdp/index.ts';
import type { PlanStep } from '../routing/plan.ts';
import type { CallControl } from './feature.ts';

/** Music for one bridge: who holds, who listens, and the leg to the music endpoint once it is up. */
interface Playing {
  holder: Leg;
  listener: Leg;
  leg: OutboundLeg | undefined;
  ringer: Ringer | undefined;
  stopped: boolean;
}

export interface MusicOnHoldDeps {
  control: CallControl;
  /** The step that reaches the music endpoint for a call, or undefined (music off, media server down). */
  step(call: Call, listener: Leg): PlanStep | undefined;
}

export class MusicOnHold {
  private readonly playing = new WeakMap<Bridge, Playing>();

  constructor(private readonly deps: MusicOnHoldDeps) {}

  /** CallHooks.reoffered: a hold starts the music, a resume by the holder stops it. */
  reoffered(call: Call, bridge: Bridge, from: Leg): void {
    const p = this.playing.get(bridge);
    if (p) {
      // The holder resumed (its offer went to the listener in the usual way), or the listener changed its media.
      if (!bridge.media.held || from === p.listener) this.stop(bridge, p);
      return;
    }
    if (!bridge.media.held) return;
    const listener = bridge.other(from);
    if (!listener || !listener.established || bridge.b === undefined) return;
    const step = this.deps.step(call, listener);
    if (!step) return;
    this.start(call, bridge, from, listener, step);
  }

  /** CallHooks.takeReoffer: while the music plays, the holder's further hold offers are ours to answer. */
  takeReoffer(_call: Call, bridge: Bridge, from: Leg, req: SipRequest, tx: ServerTransaction): boolean {
    const p = this.playing.get(bridge);
    if (!p || from !== p.holder || req.body.length === 0) return false;
    const parsed = parseSdp(req.body);
    if (!parsed.ok || !isHold(parsed.sdp)) return false;
    // Still on hold (a session refresh, a codec change): the listener keeps its music.
    const body = inactiveAnswer(req.body, from.local.address);
    if (body === undefined) return false;
    from.answer(req, tx, 200, { body });
    return true;
  }

  private start(call: Call, bridge: Bridge, holder: Leg, listener: Leg, step: PlanStep): void {
    const p: Playing = { holder, listener, leg: undefined, ringer: undefined, stopped: false };
    this.playing.set(bridge, p);
    bridge.onClose(() => this.stop(bridge, p));
    const control = this.deps.control;
    const owner: RingerOwner = {
      ref: call.ref,
      legEvents: this.musicLegEvents(bridge, p),
      stepOffer: async (): Promise<StepOffer> => ({ ok: true, body: undefined }),
      provisional: () => {},
      unwanted: (leg) => {
        leg.ack();
        leg.bye();
      },
      onAnswer: (leg, res) => this.connect(bridge, p, leg, res),
      failed: (status, reason) => {
        control.ctx.log.info({ call: call.ref, status, reason }, 'music on hold not available');
        if (this.playing.get(bridge) === p) this.playing.delete(bridge);
      },
    };
    p.ringer = new Ringer(control.ctx, owner, [], control.callerOf(listener));
    void p.ringer.ring(step);
  }

  /** The endpoint answered with its offer: it goes to the listener as if from the holder. */
  private async connect(bridge: Bridge, p: Playing, leg: OutboundLeg, res: SipResponse): Promise<void> {
    if (p.stopped || bridge.closed || res.body.length === 0 || !p.listener.established) {
      leg.ack();
      leg.bye();
      return;
    }
    p.leg = leg;
    const music: MediaSide = { ...bridge.sideOf(p.holder), profile: leg.media.profile, natted: false };
    const offered = await bridge.media.offer(music, bridge.sideOf(p.listener), res.body);
    const answer = offered.ok && !p.stopped ? await sendOffer(p.listener, offered.body) : undefined;
    const answered = answer !== undefined && !p.stopped ? await bridge.media.answer(bridge.sideOf(p.listener), music, answer) : undefined;
    leg.ack(answered?.ok ? answered.body : undefined);
    if (!answered?.ok || p.stopped) {
      this.stop(bridge, p);
      return;
    }
    bridge.holdMusic = true;
    bridge.owner.changed();
    this.deps.control.ctx.log.info({ call: bridge.owner.ref, listener: p.listener.peer.user?.extension ?? p.listener.peer.number }, 'music on hold playing');
  }

  private musicLegEvents(bridge: Bridge, p: Playing): LegEvents {
    return {
      onRequest: (leg, req, tx) => {
        leg.answer(req, tx, req.method === 'BYE' ? 200 : 488);
        if (req.method === 'BYE') {
          leg.close();
          p.leg = undefined;
          this.stop(bridge, p);
        }
      },
      onAck: () => {},
      onLegFailed: (leg) => {
        leg.close();
        p.leg = undefined;
        this.stop(bridge, p);
      },
    };
  }

  private stop(bridge: Bridge, p: Playing): void {
    if (p.stopped) return;
    p.stopped = true;
    bridge.holdMusic = false;
    this.deps.control.ctx.log.info({ call: bridge.owner.ref, up: p.leg !== undefined }, 'music on hold stopped');
    if (this.playing.get(bridge) === p) this.playing.delete(bridge);
    p.ringer?.cancel();
    const leg = p.leg;
    p.leg = undefined;
    if (leg) {
      leg.bye();
      leg.close();
    }
  }
}
