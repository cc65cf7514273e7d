// Call pickup (SPEC AC-12): a call ringing at another phone is answered here
// instead — any call ringing a member of my pickup group (*30), or the call
// ringing at one extension (*32*N#). The ringing phones get CANCEL; the
// picker-up is answered at once (inactive), then joined with the caller: the
// caller's offer goes to the picker-up in a re-INVITE and its answer back in
// our 200 to the caller (join.ts). A phone that answers at the same moment
// wins or loses cleanly: whoever the call takes first.
import { Bridge } from '../call/bridge.ts';
import type { Call } from '../call/call.ts';
import { connectOffer } from '../call/join.ts';
import type { User } from '../../store/types.ts';
import type { CallControl, FeatureRequest } from './feature.ts';
import { answerAlone } from './answer.ts';

/** The ringing call a pickup takes: directed (at `extension`) or any in the picker-up's group. */
export function findRinging(control: CallControl, picker: User, extension: string | null): Call | undefined {
  const group = picker.pickupGroup;
  if (extension === null && group === null) return undefined;
  for (const call of control.liveCalls()) {
    if (call.isAnswered || call.takenOver || call.state === 'ended' || !call.ringer || call.ringer.done) continue;
    for (const f of call.ringer.forks) {
      const u = f.peer.user;
      if (!u || u.extension === picker.extension || (f.state !== 'early' && f.state !== 'calling')) continue;
      if (extension !== null ? u.extension === extension : u.pickupGroup === group) return call;
    }
  }
  return undefined;
}

export async function pickup(control: CallControl, f: FeatureRequest, extension: string | null): Promise<void> {
  const call = findRinging(control, f.user, extension);
  if (!call) return f.refuse(404, 'No Call To Pick Up');
  const caller = call.inbound;
  if (caller.invite.body.length === 0 || f.req.body.length === 0) return f.refuse(488, 'Offer Required');
  const leg = control.acceptLeg(f);
  if (!leg) return;
  // From here the call is ours: the ringing phones are cancelled and a late 2xx from one is hung up.
  call.takenOver = true;
  call.ringer?.cancel();
  control.ctx.log.info({ call: call.ref, by: f.user.extension, extension }, 'call picked up');
  if (!(await answerAlone(leg)) || call.state === 'ended') {
    leg.bye();
    leg.close();
    if (call.state !== 'ended') call.finish(480, 'Temporarily Unavailable');
    return;
  }
  leg.events = call;
  const bridge = Bridge.between(call, caller, leg, control.newMedia(call));
  const ok = await connectOffer(bridge, caller, {
    offer: caller.invite.body,
    complete: (answer) => (answer ? caller.final(200, 'OK', answer) : caller.final(488, 'Not Acceptable Here')),
  });
  if (!ok) {
    bridge.close();
    leg.bye();
    leg.close();
    call.end(488);
    return;
  }
  call.rebridge(bridge);
}
