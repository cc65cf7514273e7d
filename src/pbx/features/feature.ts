// What a feature is handed: for a short code, the caller's INVITE (no call
// exists yet: the feature decides what the INVITE becomes), who dialled and
// the matched code; for every feature, the engine's calls (CallControl).
import type { SipRequest } from '../../sip/message.ts';
import type { Inbound } from '../../sip/transport/types.ts';
import type { InviteServerTransaction } from '../../sip/transaction/types.ts';
import type { ShortCodeMatch } from '../../model/short-code.ts';
import type { User } from '../../store/types.ts';
import type { CallContext } from '../call/context.ts';
import type { RoutingPipeline } from '../routing/pipeline.ts';
import type { Call } from '../call/call.ts';
import type { MediaSession } from '../call/media.ts';
import type { Leg } from '../call/leg.ts';
import type { InboundLeg } from '../call/inbound-leg.ts';
import type { Caller } from '../routing/targets.ts';
import type { PlanStep } from '../routing/plan.ts';

export interface FeatureRequest {
  req: SipRequest;
  tx: InviteServerTransaction;
  inbound: Inbound;
  /** The authenticated local user who dialled the code. */
  user: User;
  match: ShortCodeMatch;
  /** Refuses the INVITE with a status whose reason phrase says why (and records the attempt). */
  refuse(status: number, reason: string): void;
  /** The code was carried out and answered by the server: recorded as an answered call to the code. */
  done(): void;
}

/** What features may do with the engine's calls (the engine implements it). */
export interface CallControl {
  readonly ctx: CallContext;
  readonly pipeline: RoutingPipeline;
  /** A media session for a new bridge of `call`. */
  newMedia(call: Call): MediaSession;
  /** The leg that owns one of our dialogs, and its call. */
  legByDialog(key: string): { leg: Leg; call: Call } | undefined;
  liveCalls(): Iterable<Call>;
  /** The short code a dialled string matches, if any. */
  matchShortCode(dialled: string): ShortCodeMatch | undefined;
  /** The caller's leg for a feature's INVITE (its events are the feature's to set). */
  acceptLeg(req: FeatureRequest): InboundLeg | undefined;
  /** Who a leg's party is, as routing sees a caller (for calls a feature places on its behalf). */
  callerOf(leg: Leg): Caller;
  /** The feature's INVITE becomes an ordinary call ringing `step`. */
  placeCall(f: FeatureRequest, step: PlanStep): void;
}
