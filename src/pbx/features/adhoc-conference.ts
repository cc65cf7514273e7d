// Ad-hoc conference (SPEC EC-05, D-23): a handset with one call held and one
// active — DECT handsets cannot mix audio themselves — dials the conference
// code, and the server joins all three in a room of the media server. Each
// of the two other parties is moved into the room the way a transfer moves
// a transferee (an offerless INVITE to the room, its offer to the party in
// a re-INVITE, join.ts), then the dialling user's old legs are hung up; the
// code's own call becomes the user's way into the room.
import type { Call } from '../call/call.ts';
import type { Leg } from '../call/leg.ts';
import type { PlanStep } from '../routing/plan.ts';
import type { CallControl, FeatureRequest } from './feature.ts';
import { RingFor } from './ring-for.ts';

/** The user's side and the other party of one of the user's connected calls. */
interface Joinable {
  call: Call;
  mine: Leg;
  other: Leg;
}

/** The connected two-party calls `extension` is in. */
function callsOf(control: CallControl, extension: string): Joinable[] {
  const out: Joinable[] = [];
  for (const call of control.liveCalls()) {
    if (call.state !== 'connected' || call.takenOver) continue;
    const { a, b } = call.bridge;
    if (!b || !a.established || !b.established) continue;
    if (a.peer.user?.extension === extension) out.push({ call, mine: a, other: b });
    else if (b.peer.user?.extension === extension) out.push({ call, mine: b, other: a });
  }
  return out;
}

let rooms = 0;

/**
 * The conference code: `room(id)` is the plan step into ad-hoc room `id` on
 * the media server (undefined when it is down).
 */
export async function adhocConference(control: CallControl, f: FeatureRequest, room: (id: string) => PlanStep | undefined): Promise<void> {
  const me = f.user.extension;
  const calls = callsOf(control, me);
  if (calls.length < 2) return f.refuse(404, 'No Calls To Join');
  if (calls.length > 2) return f.refuse(486, 'Too Many Calls To Join');
  const id = `adhoc-${me}-${(++rooms).toString(36)}`;
  const step = room(id);
  if (!step) return f.refuse(503, 'Media Server Unavailable');
  control.ctx.log.info({ user: me, room: id, parties: calls.map((c) => c.other.peer.user?.extension ?? c.other.peer.number) }, 'ad-hoc conference');
  control.placeCall(f, step);
  await Promise.all(calls.map((c) => moveIn(control, c, room(id))));
}

/** One party into the room; the user's leg of that call is ended once the party is in. */
function moveIn(control: CallControl, j: Joinable, step: PlanStep | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (!step) return resolve();
    const ringer = new RingFor(control, j.call, j.other, {
      done: (ok, status, reason) => {
        if (ok) {
          j.call.release(j.mine);
          j.mine.bye();
          j.mine.close();
        } else {
          control.ctx.log.info({ call: j.call.ref, status, reason }, 'ad-hoc conference: a party could not be moved in');
        }
        resolve();
      },
    });
    void ringer.ring(step);
  });
}
