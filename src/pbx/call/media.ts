// The media side of a call, as the call sees it: every SDP body that crosses
// from one leg to the other goes through a MediaSession, which may rewrite it
// (codec policy, relay addresses, SRTP keys per side) or refuse it. The call
// never looks inside SDP; the implementation is ../media/call-media.ts.
import type { MediaProfile } from '../media/profile.ts';

export type MediaVerdict = { ok: true; body: Buffer } | { ok: false; status: number; reason: string };

/** One side of the call for media purposes: 'a' is the caller, 'b' the callee. */
export interface MediaSide {
  role: 'a' | 'b';
  profile: MediaProfile;
  /** The side's signalling address may not be where its media comes from (NAT): relay and latch. */
  natted: boolean;
  /** Where the side's SIP comes from: an SDP address that differs from it means NAT too. */
  signalAddress?: string;
}

export interface MediaSession {
  /** An offer from `from` on its way to `to` (async: a relay may have to open ports first). */
  offer(from: MediaSide, to: MediaSide, body: Buffer): Promise<MediaVerdict>;
  /** An answer from `from` on its way to `to` (to made the offer); async for external relays (rtpengine). */
  answer(from: MediaSide, to: MediaSide, body: Buffer): Promise<MediaVerdict>;
  /** Codec of the last answer, for status and records. */
  readonly codec: string | undefined;
  /** The last offer put the call on hold (sendonly/inactive/0.0.0.0). */
  readonly held: boolean;
  /** "SRTP Direct Media", "RTP relayed", ... for status. */
  readonly connectionType: string;
  /** Media stream of each leg, "SRTP" or "RTP" (SPEC status view "Media Stream"). */
  readonly streams: { a: string; b: string };
  /** Per-side media counters when the call is relayed (null for direct media: the packets never reach us). */
  legStats(): { a: LegMediaStats; b: LegMediaStats } | null;
  /** Where each side's RTP comes from (address:port, latched or from its SDP), for the call record; null when unknown. */
  addresses?(): { a: string | null; b: string | null };
  /**
   * A DTMF digit that arrived as SIP INFO, for side `to`, which wants RFC 4733:
   * true when it went into `to`'s RTP stream (the INFO is then answered, not relayed).
   */
  injectDtmf?(to: 'a' | 'b', digit: string, durationMs: number): boolean;
  /** Releases whatever the session holds (relay ports). */
  close(): void;
}

/** What status shows per leg of a relayed call (SPEC status view: packet loss, jitter). */
export interface LegMediaStats {
  packetsIn: number;
  packetsOut: number;
  lost: number;
  lossPercent: number;
  jitterMs: number;
  /** SRTP authentication/replay failures and packets from foreign sources, dropped. */
  dropped: number;
  /** "SRTP" or "RTP" on this leg. */
  stream: string;
}
