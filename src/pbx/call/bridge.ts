// A bridge joins two legs and owns the media between them: every SDP body
// that crosses from one leg to the other goes through its MediaSession, and
// in-dialog requests are relayed across it (relay.ts). A call has one bridge
// at a time; transfer, park and pickup end a bridge and make a new one with a
// fresh media session (new relay ports and SRTP keys per side, SPEC KI-04).
// While a call is still ringing its bridge has only the caller's leg; `b`
// is set when a fork answers.
import { dtmfRelayBody } from '../../media/dtmf.ts';
import type { SipRequest } from '../../sip/message.ts';
import type { ServerTransaction } from '../../sip/transaction/types.ts';
import type { CallContext } from './context.ts';
import type { Leg } from './leg.ts';
import type { MediaSession, MediaSide } from './media.ts';
import { SessionTimer } from './session-timer.ts';

/** What a bridge needs from the call that holds it. */
export interface BridgeOwner {
  readonly ref: string;
  readonly ctx: CallContext;
  /** The bridge's session timer ran out: end the call. */
  sessionExpired(bridge: Bridge): void;
  /** A party sent BYE (already answered 200). */
  legBye(bridge: Bridge, leg: Leg, reason: string | undefined): void;
  /** A party asked to transfer (REFER, RFC 3515): the owner answers it. */
  refer(bridge: Bridge, leg: Leg, req: SipRequest, tx: ServerTransaction): void;
  /** The media changed (codec, hold): status listeners. */
  changed(): void;
  /** A re-INVITE from a party before it is relayed: true when a feature answers it instead (music on hold). */
  takeReoffer?(bridge: Bridge, leg: Leg, req: SipRequest, tx: ServerTransaction): boolean;
  /** A re-INVITE with an offer from `leg` went through (hold, resume, a media change): `media.held` tells which. */
  reoffered?(bridge: Bridge, leg: Leg): void;
}

export class Bridge {
  b: Leg | undefined;
  /** Our 2xx to a late-offer INVITE/re-INVITE waits for the ACK whose answer goes on to `to`. */
  pendingAckRelay: { from: Leg; cseq: number; to: Leg; toCseq: number } | undefined;
  readonly sessionTimer: SessionTimer;
  private aSide: MediaSide;
  private bSide: MediaSide;
  closed = false;
  /** A party put the other on hold and an endpoint of ours plays it music (the last offer through the media session was the music's). */
  holdMusic = false;
  private closers: (() => void)[] = [];

  constructor(
    readonly owner: BridgeOwner,
    readonly a: Leg,
    b: Leg | undefined,
    readonly media: MediaSession,
    sides: { a: MediaSide; b: MediaSide },
    /** While ringing: the forks (their early requests go to the caller) and the one early fork the caller's may go to. */
    private readonly early?: { peer(): Leg | undefined; has(leg: Leg): boolean },
  ) {
    this.b = b;
    this.aSide = sides.a;
    this.bSide = sides.b;
    this.sessionTimer = new SessionTimer(owner.ctx, () => owner.sessionExpired(this));
  }

  /** A bridge between two legs that already have dialogs: each side's media identity comes from its leg. */
  static between(owner: BridgeOwner, a: Leg, b: Leg, media: MediaSession): Bridge {
    return new Bridge(owner, a, b, media, { a: { role: 'a', ...a.media }, b: { role: 'b', ...b.media } });
  }

  get ctx(): CallContext {
    return this.owner.ctx;
  }

  /** One party with nobody across and no call ringing for it: parked, or waiting to be joined. */
  get alone(): boolean {
    return this.b === undefined && this.early === undefined;
  }

  has(leg: Leg): boolean {
    return leg === this.a || leg === this.b;
  }

  /** The leg across from `leg`; while ringing, the single early fork if there is exactly one. */
  other(leg: Leg): Leg | undefined {
    if (leg === this.a) return this.b ?? this.early?.peer();
    if (leg === this.b || this.early?.has(leg)) return this.a;
    return undefined;
  }

  sideOf(leg: Leg): MediaSide {
    return leg === this.a ? this.aSide : this.bSide;
  }

  /** The callee side of a ringing call (the offer is shaped for it before any fork exists). */
  get calleeSide(): MediaSide {
    return this.bSide;
  }

  /** The callee side changes while ringing (forwarding to another user brings another media policy). */
  setCalleeSide(side: MediaSide): void {
    this.bSide = side;
  }

  /**
   * A digit the media relay took out of one side's RFC 4733 stream, for the
   * other side, which wants DTMF as SIP INFO (application/dtmf-relay).
   */
  sendDtmfInfo(from: 'a' | 'b', digit: string, durationMs: number): void {
    const to = from === 'a' ? this.b : this.a;
    if (!to || to.ended || this.closed) return;
    const body = dtmfRelayBody(digit, durationMs);
    const nop = () => {};
    to.sendInDialog('INFO', { body, contentType: 'application/dtmf-relay' }, { onResponse: nop, onTimeout: nop, onTransportError: nop });
  }

  /** Runs `fn` when the bridge closes (what a feature added to it goes with it). */
  onClose(fn: () => void): void {
    if (this.closed) fn();
    else this.closers.push(fn);
  }

  /** Releases the media and timers; the legs live on (a feature may bridge them elsewhere). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sessionTimer.stop();
    this.pendingAckRelay = undefined;
    this.media.close();
    for (const fn of this.closers.splice(0)) fn();
  }
}
