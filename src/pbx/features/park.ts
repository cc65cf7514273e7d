// Call park (SPEC AC-12): a party is parked in a numbered slot — by a
// transfer to the park code (*37*S#) or by dialling it while the call is held
// — and put on hold; anyone dials the unpark code (*38*S#) to be joined with
// it. A call nobody retrieves within the park timeout rings the parker back.
// Parked calls live in memory: a restart ends every call anyway.
import type { TimerHandle } from '../../lib/timer-queue.ts';
import type { User } from '../../store/types.ts';
import { Bridge } from '../call/bridge.ts';
import type { Call } from '../call/call.ts';
import type { Leg } from '../call/leg.ts';
import { connectOffer, sendOffer } from '../call/join.ts';
import { holdOffer } from '../media/placeholder.ts';
import type { CallControl, FeatureRequest } from './feature.ts';
import { RingFor } from './ring-for.ts';

export interface ParkedCall {
  slot: string;
  /** The call's reference (status, records). */
  call: string;
  /** The parked party's number and name. */
  party: { number: string; name: string };
  parkedBy: string | null;
  since: number;
}

interface Slot {
  slot: string;
  call: Call;
  leg: Leg;
  parker: User | undefined;
  since: number;
  timer: TimerHandle | undefined;
}

type Outcome = { ok: true } | { ok: false; status: number; reason: string };

export class Parking {
  private readonly slots = new Map<string, Slot>();
  /** Told after every park and release (the other workers of a cluster learn the slots from it). */
  onChange: (() => void) | undefined;
  /** Slots another worker of a cluster holds: taken here too. */
  takenElsewhere: (slot: string) => boolean = () => false;

  constructor(
    private readonly control: CallControl,
    /** Seconds a call stays parked before the parker is rung back. */
    private readonly timeoutSec: () => number,
  ) {}

  list(): ParkedCall[] {
    return [...this.slots.values()]
      .sort((a, b) => a.slot.localeCompare(b.slot, 'en', { numeric: true }))
      .map((s) => {
        const p = s.leg.peer;
        return {
          slot: s.slot,
          call: s.call.ref,
          party: { number: p.user?.extension ?? p.number ?? '', name: p.user?.name ?? p.name ?? '' },
          parkedBy: s.parker?.extension ?? null,
          since: s.since,
        };
      });
  }

  /** Parks `leg` (a party of `call`) in `slot`: it is held, alone in its call, until someone unparks it. */
  async park(call: Call, leg: Leg, slot: string | null, parker: User | undefined): Promise<Outcome> {
    if (slot === null) return { ok: false, status: 484, reason: 'Park Slot Missing' };
    if (this.slots.has(slot) || this.takenElsewhere(slot)) return { ok: false, status: 486, reason: 'Park Slot In Use' };
    const entry: Slot = { slot, call, leg, parker, since: this.control.ctx.now(), timer: undefined };
    this.slots.set(slot, entry);
    this.onChange?.();
    const waiting = new Bridge(call, leg, undefined, this.control.newMedia(call), { a: { role: 'a', ...leg.media }, b: { role: 'b', ...leg.media } });
    call.rebridge(waiting, { number: `park ${slot}`, user: undefined, trunk: undefined });
    call.onEnd(() => this.release(entry));
    // Held until the media server can play music: an inactive re-offer of what it had.
    const hold = holdOffer(leg.lastSdpSent);
    if (hold) await sendOffer(leg, hold);
    entry.timer = this.control.ctx.timers.schedule(this.timeoutSec() * 1000, () => this.recall(entry));
    this.control.ctx.log.info({ call: call.ref, slot, by: parker?.extension }, 'call parked');
    return { ok: true };
  }

  /** *38*S#: the dialling phone is joined with the call parked in slot S. */
  async unpark(f: FeatureRequest, slot: string | null): Promise<void> {
    const entry = slot !== null ? this.slots.get(slot) : undefined;
    if (!entry || entry.call.state === 'ended') return f.refuse(404, 'Park Slot Empty');
    if (f.req.body.length === 0) return f.refuse(488, 'Offer Required');
    const leg = this.control.acceptLeg(f);
    if (!leg) return;
    this.release(entry);
    const { call } = entry;
    leg.events = call;
    const bridge = Bridge.between(call, entry.leg, leg, this.control.newMedia(call));
    const ok = await connectOffer(bridge, leg, {
      offer: f.req.body,
      complete: (answer) => (answer ? leg.final(200, 'OK', answer) : leg.final(488, 'Not Acceptable Here')),
    });
    if (!ok) {
      bridge.close();
      leg.close();
      return;
    }
    call.rebridge(bridge);
    this.control.ctx.log.info({ call: call.ref, slot, by: f.user.extension }, 'call unparked');
  }

  /** Nobody took the call: ring the parker back; unanswered, the call ends. */
  private recall(entry: Slot): void {
    entry.timer = undefined;
    if (this.slots.get(entry.slot) !== entry) return;
    this.release(entry);
    const { call, parker } = entry;
    const hangup = (why: string) => call.hangup(why);
    if (!parker) return hangup('park timed out');
    const route = this.control.pipeline.run({
      dialled: parker.extension,
      caller: this.control.callerOf(entry.leg),
      direction: 'internal',
      visited: new Set(),
      permitted: parker,
      diverted: true,
    });
    if (route.ok !== true) return hangup('park timed out; the parker cannot be rung');
    this.control.ctx.log.info({ call: call.ref, slot: entry.slot, parker: parker.extension }, 'park timed out: ringing the parker');
    const ring = new RingFor(this.control, call, entry.leg, { done: (ok) => void (ok || hangup('park recall unanswered')) });
    void ring.ring(route);
  }

  private release(entry: Slot): void {
    if (entry.timer) this.control.ctx.timers.cancel(entry.timer);
    entry.timer = undefined;
    if (this.slots.get(entry.slot) !== entry) return;
    this.slots.delete(entry.slot);
    this.onChange?.();
  }

  /** The slots in use here. */
  slotNames(): string[] {
    return [...this.slots.keys()];
  }
}
