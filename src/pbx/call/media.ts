// The media side of a call, as the call sees it: every SDP body that crosses
// from one leg to the other goes through a MediaSession, which may rewrite it
// (codec policy now; relay addresses and SRTP keys when the media issue
// inserts an anchored relay) or refuse it. The call never looks inside SDP.
import { filterCodecs, isHold, negotiatedCodec, parseSdp, serializeSdp } from '../../sdp/index.ts';

export type MediaVerdict = { ok: true; body: Buffer } | { ok: false; status: number; reason: string };

/** One side of the call for media purposes. */
export interface MediaSide {
  /** Codecs this side may use, in preference order. */
  codecs: readonly string[];
}

export interface MediaSession {
  /** An offer from `from` on its way to `to` (async: a relay may have to open ports first). */
  offer(from: MediaSide, to: MediaSide, body: Buffer): Promise<MediaVerdict>;
  /** An answer from `from` on its way to `to` (to made the offer). */
  answer(from: MediaSide, to: MediaSide, body: Buffer): MediaVerdict;
  /** Codec of the last answer, for status and records. */
  readonly codec: string | undefined;
  /** The last offer put the call on hold (sendonly/inactive/0.0.0.0). */
  readonly held: boolean;
  /** Releases whatever the session holds (relay ports later). */
  close(): void;
}

/**
 * Direct media: SDP passes through with the endpoints' own addresses, so RTP
 * flows handset to handset. Offers are cut down to the codecs both sides
 * allow, in the receiving side's order (telephone-event always kept); an
 * offer with no codec left is refused with 488.
 */
export class DirectMedia implements MediaSession {
  codec: string | undefined;
  held = false;

  offer(from: MediaSide, to: MediaSide, body: Buffer): Promise<MediaVerdict> {
    return Promise.resolve(this.offerNow(from, to, body));
  }

  private offerNow(from: MediaSide, to: MediaSide, body: Buffer): MediaVerdict {
    const parsed = parseSdp(body);
    if (!parsed.ok) return { ok: false, status: 400, reason: 'Bad SDP' };
    const mine = filterCodecs(parsed.sdp, from.codecs);
    const theirs = filterCodecs(mine.sdp, to.codecs);
    if (theirs.left === 0) return { ok: false, status: 488, reason: 'Not Acceptable Here' };
    this.held = isHold(theirs.sdp);
    const unchanged = mine.removed.length === 0 && theirs.removed.length === 0 && sameOrder(parsed.sdp, theirs.sdp);
    return { ok: true, body: unchanged ? body : Buffer.from(serializeSdp(theirs.sdp)) };
  }

  answer(_from: MediaSide, _to: MediaSide, body: Buffer): MediaVerdict {
    const parsed = parseSdp(body);
    if (!parsed.ok) return { ok: false, status: 502, reason: 'Bad SDP in answer' };
    this.codec = negotiatedCodec(parsed.sdp) ?? this.codec;
    return { ok: true, body };
  }

  close(): void {}
}

function sameOrder(a: { media: readonly { formats: readonly string[] }[] }, b: { media: readonly { formats: readonly string[] }[] }): boolean {
  if (a.media.length !== b.media.length) return false;
  for (let i = 0; i < a.media.length; i++) {
    const x = a.media[i]!.formats;
    const y = b.media[i]!.formats;
    if (x.length !== y.length) return false;
    for (let j = 0; j < x.length; j++) if (x[j] !== y[j]) return false;
  }
  return true;
}
