// What a call needs from the rest of the server, gathered in one object the
// engine builds once, so Call and Leg take one argument instead of ten.
import type { OverloadFeedback } from '../../sip/overload-client.ts';
import type { Logger } from '../../lib/log.ts';
import type { MessageSender } from '../../sip/transport/types.ts';
import type { TimerQueue } from '../../lib/timer-queue.ts';
import type { TransactionLayer } from '../../sip/transaction/layer.ts';
import type { Endpoint, Header, SipRequest, SipUri } from '../../sip/message.ts';
import type { Caller, RouteResult } from '../routing/targets.ts';
import type { LegMediaStats } from './media.ts';
import type { DialogUsage } from '../../sip/ua/core.ts';
import type { CdrInput, User } from '../../store/types.ts';

export interface CallSettings {
  domain: string;
  /** Seconds a call rings before it gives up (a user's noAnswerTimeoutSec overrides). */
  noAnswerTimeoutSec: number;
  /** Simultaneous calls per user (a user's maxCalls overrides). */
  maxCallsPerUser: number;
  /** Codecs when a user has no list of their own, in preference order. */
  defaultCodecs: readonly string[];
  /** Seconds a parked call waits before the parker is rung back. */
  parkTimeoutSec: number;
}

export interface CallContext {
  readonly settings: CallSettings;
  readonly transactions: TransactionLayer;
  readonly sender: MessageSender;
  readonly timers: TimerQueue;
  readonly log: Logger;
  now(): number;
  /** The engine's dialog index: in-dialog requests and ACKs are found through it. */
  registerDialog(key: string, leg: DialogOwner): void;
  unregisterDialog(key: string, leg: DialogOwner): void;
  /** Every state change of a call (status feed) and its end (CDR). */
  callChanged(call: CallView): void;
  callEnded(call: CallView, cdr: CdrInput): void;
  /** Where a callee's 3xx sends the call (its phone's own forwarding). */
  redirect(caller: Caller, contact: SipUri): RouteResult;
  /** Headers every request and response we originate carries (Allow, Supported, User-Agent/Server). */
  readonly commonHeaders: { allow: Header; supported: Header };
  /** RFC 7339 feedback from trunks: INVITEs to them ask for it, new calls to a trunk that asks us to reduce are shed. */
  readonly trunkOverload?: OverloadFeedback;
}

/** Anything that owns a dialog: the user-agent core hands it in-dialog requests and ACKs. */
export type DialogOwner = DialogUsage;

export type CallState = 'routing' | 'ringing' | 'connected' | 'ended';

/** The read-only face of a call for status and records. */
export interface CallView {
  readonly ref: string;
  readonly state: CallState;
  readonly direction: 'internal' | 'inbound' | 'outbound';
  readonly caller: { number: string; name: string; user: User | undefined };
  /** `app`: an application of the media server took the call for `user` (voicemail): the user is not in it. */
  readonly callee: { number: string; user: User | undefined; trunk: string | undefined; app?: string };
  readonly startedAt: number;
  readonly answeredAt: number | undefined;
  readonly codec: string | undefined;
  readonly held: boolean;
  readonly connectionType: string;
  /** Per-leg media counters (relayed calls), null for direct media. */
  mediaStats(): { a: LegMediaStats; b: LegMediaStats } | null;
  /** "SRTP"/"RTP" of each leg. */
  readonly streams: { a: string; b: string };
}
