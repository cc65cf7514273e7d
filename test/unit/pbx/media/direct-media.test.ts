// When media may go straight between two sides (SPEC, EC-07): the
// SRTCP rule applies only where both sides may use SRTP.
import { describe, expect, it } from 'vitest';
import { canGoDirect } from '../../../../src/pbx/media/direct-media.ts';
import type { MediaSide } from '../../../../src/pbx/call/media.ts';
import type { MediaProfile } from '../../../../src/pbx/media/profile.ts';
import { classifyOffer, parseSdp } from '../../../../src/sdp/index.ts';

const base: MediaProfile = {
  security: 'best-effort', encryptedSrtcp: true, directMedia: true, dtmf: 'rfc4733', capneg: false, transport: 'any',
  suites: ['AES_CM_128_HMAC_SHA1_80'], codecs: ['PCMU'],
};
/** How an offer's streams classify: plain RTP, or RTP/SAVP with SDES. */
function offer(kind: 'rtp' | 'srtp') {
  const lines = ['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0', `m=audio 4000 ${kind === 'srtp' ? 'RTP/SAVP' : 'RTP/AVP'} 0`, 'a=rtpmap:0 PCMU/8000'];
  if (kind === 'srtp') lines.push('a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz');
  const parsed = parseSdp(Buffer.from(lines.join('\r\n') + '\r\n'));
  if (!parsed.ok) throw new Error(parsed.reason);
  return classifyOffer(parsed.sdp);
}
const side = (role: 'a' | 'b', p: Partial<MediaProfile>): MediaSide => ({ role, profile: { ...base, ...p }, natted: false });

describe('canGoDirect', () => {
  it('keeps two SRTP-capable sides that disagree on SRTCP encryption in the relay (EC-07)', () => {
    expect(canGoDirect(side('a', { security: 'enforced' }), side('b', { security: 'enforced', encryptedSrtcp: false }), offer('srtp'))).toBe(false);
    expect(canGoDirect(side('a', {}), side('b', { encryptedSrtcp: false }), offer('rtp'))).toBe(false);
  });

  it('lets a plain side (security disabled: an endpoint of ours, a plain phone) go direct whatever the other side’s SRTCP setting', () => {
    expect(canGoDirect(side('a', { security: 'disabled' }), side('b', { security: 'disabled', encryptedSrtcp: false }), offer('rtp'))).toBe(true);
    expect(canGoDirect(side('a', {}), side('b', { security: 'disabled', encryptedSrtcp: false }), offer('rtp'))).toBe(true);
  });

  it('still refuses what the other rules refuse: DTMF mismatch, NAT, direct media off', () => {
    const plain = { security: 'disabled' as const };
    expect(canGoDirect(side('a', plain), side('b', { ...plain, dtmf: 'info' }), offer('rtp'))).toBe(false);
    expect(canGoDirect({ ...side('a', plain), natted: true }, side('b', plain), offer('rtp'))).toBe(false);
    expect(canGoDirect(side('a', plain), side('b', { ...plain, directMedia: false }), offer('rtp'))).toBe(false);
  });
});
