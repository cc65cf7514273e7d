// Short codes (SPEC AC-12, IP Office style; the table is src/model/short-code.ts):
// a code that changes a setting is answered 200 and ended by us with BYE at
// once; one that cannot be carried out gets a 4xx whose reason phrase says
// why. Codes that act on calls (park, unpark, pickup) hand over to their
// features. What each setting code changes is decided by the model
// (shortCodeAction); this module only applies it.
import type { FeatureRequest, CallControl } from './feature.ts';
import { shortCodeAction } from '../../model/short-code-effect.ts';
import { SHORT_CODE_FEATURE_NAMES } from '../../model/short-code.ts';
import type { User, UserRepository } from '../../store/types.ts';
import type { HuntGroupTable } from '../routing/feature-tables.ts';
import { StoreError } from '../../store/errors.ts';
import type { Parking } from './park.ts';
import { pickup } from './pickup.ts';
import { adhocConference } from './adhoc-conference.ts';
import type { PlanStep } from '../routing/plan.ts';
import { confirmAndHangUp } from './answer.ts';
import type { Call } from '../call/call.ts';
import type { Leg } from '../call/leg.ts';

export interface ShortCodeDeps {
  control: CallControl;
  parking: Parking;
  users: Pick<UserRepository, 'update'>;
  huntGroups: Pick<HuntGroupTable, 'setMemberLoggedIn'> | undefined;
  /** A user record changed: routing must see it from the next call on. */
  usersChanged(): void;
  /** The plan step into ad-hoc conference room `id` (undefined: no media server). */
  adhocRoom?(id: string, user: User): PlanStep | undefined;
}

export type ShortCodeHandler = (f: FeatureRequest) => void;

/** One handler per short-code feature name. */
export function shortCodeHandlers(deps: ShortCodeDeps): Map<string, ShortCodeHandler> {
  const out = new Map<string, ShortCodeHandler>();
  const run = (f: FeatureRequest) => void apply(deps, f).catch((err: Error) => {
    deps.control.ctx.log.error({ code: f.match.code.code, err: err.message }, 'short code failed');
    f.refuse(500, 'Server Internal Error');
  });
  for (const name of SHORT_CODE_FEATURE_NAMES) out.set(name, run);
  return out;
}

async function apply(deps: ShortCodeDeps, f: FeatureRequest): Promise<void> {
  const { control } = deps;
  const action = shortCodeAction(f.match, f.user);
  control.ctx.log.info({ user: f.user.extension, code: f.match.code.code, feature: f.match.feature, action: action.kind }, 'short code dialled');
  switch (action.kind) {
    case 'refused':
      return f.refuse(403, sentence(action.reason));
    case 'user':
      try {
        await deps.users.update(action.extension, action.patch);
      } catch (err) {
        return f.refuse(...storeRefusal(err));
      }
      deps.usersChanged();
      return confirm(deps, f);
    case 'hunt-login':
      if (!deps.huntGroups) return f.refuse(404, 'No Such Hunt Group');
      try {
        await deps.huntGroups.setMemberLoggedIn(action.group, action.extension, action.loggedIn);
      } catch (err) {
        // The store says not-found both for a group that does not exist (field 'number') and for a caller who is not in it.
        const missing = err instanceof StoreError && err.field === 'number' ? 'No Such Hunt Group' : 'Not A Member Of That Hunt Group';
        return f.refuse(...storeRefusal(err, missing));
      }
      return confirm(deps, f);
    case 'call':
      switch (action.feature) {
        case 'park':
          return parkHeld(deps, f, action.param);
        case 'unpark':
          return deps.parking.unpark(f, action.param);
        case 'pickup-group':
          return pickup(control, f, null);
        case 'pickup-directed':
          return pickup(control, f, action.param);
        case 'voicemail':
          return f.refuse(480, 'Voicemail Not Available');
        case 'conference':
          return adhocConference(control, f, (id) => deps.adhocRoom?.(id, f.user));
      }
  }
}

function confirm(deps: ShortCodeDeps, f: FeatureRequest): void {
  const leg = deps.control.acceptLeg(f);
  if (!leg) return;
  f.done();
  void confirmAndHangUp(leg);
}

/** *37*S# dialled as a new call while the caller holds another: that call's other party is parked. */
async function parkHeld(deps: ShortCodeDeps, f: FeatureRequest, slot: string | null): Promise<void> {
  let held: { call: Call; mine: Leg; other: Leg } | undefined;
  for (const call of deps.control.liveCalls()) {
    const b = call.bridge;
    if (call.state !== 'connected' || !b.b || !call.held) continue;
    const mine = b.a.peer.user?.extension === f.user.extension ? b.a : b.b.peer.user?.extension === f.user.extension ? b.b : undefined;
    if (mine) held = { call, mine, other: b.other(mine)! };
  }
  if (!held) return f.refuse(404, 'No Held Call To Park');
  const parked = await deps.parking.park(held.call, held.other, slot, f.user);
  if (!parked.ok) return f.refuse(parked.status, parked.reason);
  held.call.release(held.mine);
  held.mine.bye();
  held.mine.close();
  confirm(deps, f);
}

function storeRefusal(err: unknown, notFound = 'Not Found'): [number, string] {
  if (err instanceof StoreError) {
    if (err.code === 'not-found') return [404, notFound];
    return [400, sentence(err.message)];
  }
  throw err;
}

/** A reason phrase from a message: one line of printable text, capitalised. */
function sentence(text: string): string {
  const clean = text.replace(/[^\x20-\x7e]/g, ' ').trim().slice(0, 80);
  return clean.length > 0 ? clean[0]!.toUpperCase() + clean.slice(1) : 'Forbidden';
}
