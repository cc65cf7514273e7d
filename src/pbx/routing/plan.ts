// What routing hands the call engine: a plan of ringing steps with timers and
// fallbacks (ring 1001 for 20 s, then its forward-on-no-answer target; busy
// goes to the forward-on-busy target; a hunt group walks its members). The
// fallbacks are functions evaluated when a step ends, so they see the state
// of that moment (who is busy now, who logged out of a group).
import type { User } from '../../store/types.ts';
import type { OutboundTarget } from '../call/outbound-leg.ts';
import type { CallView } from '../call/context.ts';
import type { Diversion } from '../call/forwarding.ts';
import type { MediaProfile } from '../media/profile.ts';

/** Why a step ended without an answer. */
export type StepOutcome = 'no-answer' | 'busy' | 'unavailable';

/** A number the call may not go on to: the caller gets this status. */
export interface Refusal {
  ok: false;
  status: number;
  reason: string;
  /** For the record: who was called. */
  calleeUser?: User;
  trunkName?: string;
}


export interface PlanStep {
  ok: true;
  /** Who rings in this step, for logs: "1001", "hunt 600 → 1002", "trunk pstn". */
  label: string;
  direction: CallView['direction'];
  targets: OutboundTarget[];
  /** The user rung (media policy of the callee side, caller ID of the answer). */
  calleeUser: User | undefined;
  trunkName: string | undefined;
  /** How long this step rings before its no-answer fallback; undefined: the call-wide limit. */
  ringMs: number | undefined;
  /** Who forwarded the call to this step, first forwarder first (each hop a Diversion line, RFC 5806). */
  diversions?: readonly Diversion[];
  /**
   * An application of the media server answers this step (voicemail, ivr,
   * conference): the callee user, if any, is whom it serves, not a party in
   * the call (not busy because of it).
   */
  app?: string;
  /** The callee side's media profile when it is not the callee user's (an endpoint of ours). */
  calleeProfile?: MediaProfile;
  /** What comes after this step when nobody answers; evaluated at that moment. */
  next?: (outcome: StepOutcome) => PlanStep | Refusal | undefined;
}

export type RouteResult = PlanStep | Refusal;

/** Number of forwarding hops one call may take before it is refused (loops through forwarding end here). */
export const MAX_DIVERSIONS = 5;
