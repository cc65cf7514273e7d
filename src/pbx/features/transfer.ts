// Transfer (SPEC A-26, B-12, AC-10): a party of a connected call sends REFER
// (RFC 3515) and we carry it out ourselves — the REFER never reaches the
// other party, so a handset that knows nothing but REFER gets transfer
// against any phone. Blind: the Refer-To number is routed like a call from
// the transferee (with the transferor's outbound permission for trunks), rung
// with an offerless INVITE, and joined with the transferee (join.ts) when it
// answers. Attended: the Refer-To carries Replaces (RFC 3891) naming the
// transferor's other call; the two other parties are joined and both of the
// transferor's calls end. Progress goes back as NOTIFY message/sipfrag; the
// handset variants of B-12 (hold before REFER, BYE right after REFER) work
// because the transferee's call outlives the transferor's leg.
import type { SipRequest, SipUri } from '../../sip/message.ts';
import type { ServerTransaction } from '../../sip/transaction/types.ts';
import { ReferNotifier } from '../../sip/ua/refer.ts';
import { replacesDialogKey } from '../../sip/ua/replaces.ts';
import type { Replaces } from '../../sip/ua/replaces.ts';
import { dialogKey } from '../../sip/dialog.ts';
import { Bridge } from '../call/bridge.ts';
import type { Call } from '../call/call.ts';
import type { Leg } from '../call/leg.ts';
import { askOffer, connectOffer } from '../call/join.ts';
import { RingFor } from './ring-for.ts';
import type { CallControl } from './feature.ts';
import type { Parking } from './park.ts';

/** The transfers in progress, by call: one at a time per call. */
const active = new WeakMap<Call, Transfer>();

export interface TransferDeps {
  control: CallControl;
  parking: Parking;
}

/** The REFER handler every call gets (engine hooks.refer). */
export function handleRefer(deps: TransferDeps, call: Call, bridge: Bridge, leg: Leg, req: SipRequest, tx: ServerTransaction): void {
  if (active.has(call)) return leg.answer(req, tx, 491, { reason: 'Transfer In Progress' });
  // Only a party of the connected call may transfer it: the REFER came in that party's own dialog.
  const transferee = bridge.b ? bridge.other(leg) : undefined;
  // A REFER may overtake the transferee's ACK of our 2xx (it reaches us by another path, e.g. through
  // another worker): it is taken once that ACK is in, or refused if it never comes.
  if (bridge === call.bridge && transferee && !transferee.established && transferee.awaitingAck && leg.dialog) {
    transferee.afterAck(() => handleRefer(deps, call, bridge, leg, req, tx));
    return;
  }
  if (bridge !== call.bridge || !transferee || !transferee.established || !leg.dialog) return leg.answer(req, tx, 403, { reason: 'Call Not Connected' });
  const ctx = deps.control.ctx;
  const notifier = ReferNotifier.accept(req, tx, {
    dialog: leg.dialog,
    transactions: ctx.transactions,
    timers: ctx.timers,
    dest: leg.dest,
    via: () => leg.via(),
    contact: leg.contact(),
  });
  if (!notifier) return;
  const t = new Transfer(deps, call, leg, transferee, notifier);
  active.set(call, t);
  ctx.log.info({ call: call.ref, by: leg.peer.user?.extension, to: notifier.referTo.target.user, attended: notifier.referTo.replaces !== undefined }, 'transfer requested');
  const replaces = notifier.referTo.replaces;
  void (replaces ? t.attended(replaces) : t.blind(notifier.referTo.target)).catch((err: Error) => {
    ctx.log.error({ call: call.ref, err: err.message }, 'transfer failed');
    t.fail(500, 'Server Internal Error');
  });
}

/** The transferor hung up while its transfer goes on: the transferee's call stays (engine hooks.legLeft). */
export function transferorLeft(call: Call, leg: Leg): boolean {
  const t = active.get(call);
  if (!t || t.transferor !== leg) return false;
  t.transferorGone = true;
  return true;
}

class Transfer {
  transferorGone = false;
  private ringer: RingFor | undefined;

  constructor(
    private readonly deps: TransferDeps,
    private readonly call: Call,
    readonly transferor: Leg,
    private readonly transferee: Leg,
    private readonly notifier: ReferNotifier,
  ) {
    call.onEnd(() => {
      this.ringer?.cancel();
      active.delete(call);
    });
  }

  /** Blind transfer: ring the Refer-To number for the transferee. */
  async blind(target: SipUri): Promise<void> {
    const dialled = target.user;
    if (dialled === undefined || dialled === '') return this.fail(404, 'Not Found');
    const code = this.deps.control.matchShortCode(dialled);
    if (code) {
      // Park is the one code that makes sense as a transfer target (*37*S#).
      if (code.feature !== 'park') return this.fail(403, 'Not A Transfer Target');
      const parked = await this.deps.parking.park(this.call, this.transferee, code.param, this.transferor.peer.user);
      if (!parked.ok) return this.fail(parked.status, parked.reason);
      return this.succeed();
    }
    const control = this.deps.control;
    const route = control.pipeline.run({
      dialled,
      caller: control.callerOf(this.transferee),
      direction: 'internal',
      visited: new Set(),
      permitted: this.transferor.peer.user,
      diverted: true,
    });
    if (route.ok === 'feature') return this.fail(403, 'Not A Transfer Target');
    if (!route.ok) return this.fail(route.status, route.reason);
    this.ringer = new RingFor(control, this.call, this.transferee, {
      ringing: () => this.notifier.progress(180, 'Ringing'),
      done: (ok, status, reason) => (ok ? this.succeed() : this.fail(status, reason)),
    });
    await this.ringer.ring(route);
  }

  /** Attended transfer: join the transferee with the party of the transferor's other call. */
  async attended(r: Replaces): Promise<void> {
    const control = this.deps.control;
    // The transferor names its dialog with us from its side; accept either tag order (some handsets swap them).
    const found = control.legByDialog(replacesDialogKey(r)) ?? control.legByDialog(dialogKey(r.callId, r.fromTag, r.toTag));
    if (!found || found.call === this.call) return this.fail(481, 'Call/Transaction Does Not Exist');
    const { leg: consult, call: other } = found;
    // Only the transferor's own call may be merged: the dialog must be one with the same user.
    const me = this.transferor.peer.user?.extension;
    if (me === undefined || consult.peer.user?.extension !== me) return this.fail(403, 'Forbidden');
    if (!other.isAnswered) {
      // The consultation call is still ringing: it becomes a blind transfer to the number it rings.
      const number = other.callee.number;
      other.hangup('replaced by a transfer');
      return this.blind({ scheme: 'sip', user: number, host: control.ctx.settings.domain, params: new Map(), headers: new Map() });
    }
    const target = other.bridge.other(consult);
    if (!target || !target.established) return this.fail(481, 'Call/Transaction Does Not Exist');
    const bridge = Bridge.between(this.call, this.transferee, target, control.newMedia(this.call));
    const pending = await askOffer(target);
    if (!pending) return this.abandon(bridge, 'the transfer target gave no offer');
    if (!(await connectOffer(bridge, target, pending))) return this.abandon(bridge, 'the parties could not agree on media');
    other.release(target);
    this.call.rebridge(bridge);
    other.hangup('transferred');
    this.succeed();
  }

  /** The transfer is done: the transferor hears 200 and its leg is ended. */
  private succeed(): void {
    this.notifier.progress(200, 'OK');
    this.call.release(this.transferor);
    this.transferor.bye();
    this.transferor.close();
    active.delete(this.call);
  }

  private abandon(bridge: Bridge, why: string): void {
    bridge.close();
    this.deps.control.ctx.log.info({ call: this.call.ref, why }, 'transfer abandoned');
    this.fail(488, 'Not Acceptable Here');
  }

  /** The transfer failed: the transferor hears why; a transferee left alone is hung up. */
  fail(status: number, reason: string): void {
    if (active.get(this.call) !== this) return;
    active.delete(this.call);
    this.notifier.progress(status, reason);
    if (this.transferorGone) this.call.hangup(`transfer failed: ${status}`);
  }
}
