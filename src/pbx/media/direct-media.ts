// When a call's media may flow straight between the phones (SPEC ).
import type { StreamSecurity } from '../../sdp/index.ts';
import type { MediaSide } from '../call/media.ts';

/**
 * Direct media: both sides allow it, neither is behind NAT, they
 * agree on DTMF and — when both may use SRTP — on SRTCP encryption (EC-07),
 * and the offer as it stands is acceptable to the receiver's security policy
 * without re-keying. A side with media security disabled speaks plain RTP,
 * so its SRTCP setting means nothing (an endpoint of ours, a plain phone).
 */
export function canGoDirect(from: MediaSide, to: MediaSide, kinds: StreamSecurity[]): boolean {
  const f = from.profile;
  const t = to.profile;
  if (!f.directMedia || !t.directMedia || from.natted || to.natted) return false;
  if (f.dtmf !== t.dtmf) return false;
  // The G729A name is translated in the relay (payload types differ between the sides).
  if (f.g729a === true || t.g729a === true) return false;
  if (f.security !== 'disabled' && t.security !== 'disabled' && f.encryptedSrtcp !== t.encryptedSrtcp) return false;
  for (const k of kinds) {
    switch (k.kind) {
      case 'disabled':
        break;
      case 'rtp':
        if (t.security === 'enforced') return false;
        break;
      case 'srtp':
        // SAVP with SDES is what Enforced and Best Effort both take: the endpoints key each other directly.
        if (t.security === 'disabled') return false;
        break;
      case 'rtp+sdes':
        // Best Effort on both ends negotiates end to end; Disabled gets the crypto stripped (plain RTP, which the offer allows).
        if (t.security === 'enforced') return false;
        break;
      case 'rtp+capneg-srtp':
      case 'srtp+rtp-alt':
        if (!t.capneg || t.security !== 'best-effort') return false;
        break;
      default:
        return false;
    }
  }
  return true;
}
