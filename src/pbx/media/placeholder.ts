// SDP for calls the server answers itself before there is anyone to talk to
// (a short code's 200, a picker-up waiting to be joined, a parked party), and
// for holding a party whose other side is gone. Until the media server can
// play tones or music (its own issue), such a stream is simply inactive
// (RFC 3264 §6.1): one codec accepted, nothing sent either way. Offers on
// RTP/SAVP get a crypto line of ours (SDES, RFC 4568) with a fresh key, so an
// SRTP-only phone accepts the answer.
import { randomBytes } from 'node:crypto';
import type { Sdp, SdpMedia } from '../../sdp/index.ts';
import { answerCrypto, bumpVersion, classifyOffer, cryptoAttribute, isAudio, parseSdp, serializeSdp, setDirection } from '../../sdp/index.ts';

/** RFC 863 discard: a port that means "send nothing here", since an inactive stream sends nothing anyway. */
const DISCARD_PORT = 9;

/** An inactive answer to `offer` from `address`; undefined for an offer we cannot read. */
export function inactiveAnswer(offer: Buffer, address: string): Buffer | undefined {
  const parsed = parseSdp(offer);
  if (!parsed.ok) return undefined;
  const kinds = classifyOffer(parsed.sdp);
  const v4 = !address.includes(':');
  const media: SdpMedia[] = parsed.sdp.media.map((m, i) => {
    const pt = m.formats.find((f) => !isTelephoneEvent(m, f));
    if (!isAudio(m) || pt === undefined) return { ...m, port: 0, connections: [], attributes: [], bandwidths: [], other: [] };
    const attributes = m.attributes.filter((a) => (a.name === 'rtpmap' || a.name === 'fmtp') && a.value?.split(' ')[0] === pt);
    const crypto = kinds.find((k) => k.mediaIndex === i)?.cryptos[0];
    if (crypto) attributes.push(cryptoAttribute(answerCrypto(crypto)));
    attributes.push({ name: 'inactive', value: null });
    return { ...m, port: DISCARD_PORT, portCount: null, formats: [pt], connections: [], bandwidths: [], attributes, other: [] };
  });
  const sdp: Sdp = {
    origin: { username: '-', sessionId: sessionId(), sessionVersion: '1', netType: 'IN', addrType: v4 ? 'IP4' : 'IP6', address },
    sessionName: '-',
    connection: { netType: 'IN', addrType: v4 ? 'IP4' : 'IP6', address },
    bandwidths: [],
    attributes: [],
    other: [{ type: 't', value: '0 0' }],
    media,
  };
  return Buffer.from(serializeSdp(sdp));
}

/**
 * An inactive offer of our own, for a party that sent an INVITE without one
 * (late offer, RFC 3261 §13.2.1): PCMU with telephone-event, nothing sent.
 * Its ACK carries the answer, which nothing needs.
 */
export function inactiveOffer(address: string): Buffer {
  const ip = address.includes(':') ? 'IP6' : 'IP4';
  return Buffer.from([
    'v=0', `o=- ${sessionId()} 1 IN ${ip} ${address}`, 's=-', `c=IN ${ip} ${address}`, 't=0 0',
    `m=audio ${DISCARD_PORT} RTP/AVP 0 101`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', 'a=inactive', '',
  ].join('\r\n'));
}

/**
 * A hold re-offer to a party: the last description we sent it, inactive, one
 * version on (RFC 3264 §8.4). Undefined when we never sent it one.
 */
export function holdOffer(lastSent: Buffer | undefined): Buffer | undefined {
  if (!lastSent) return undefined;
  const parsed = parseSdp(lastSent);
  if (!parsed.ok) return undefined;
  return Buffer.from(serializeSdp(bumpVersion(setDirection(parsed.sdp, 'inactive'))));
}

function isTelephoneEvent(m: SdpMedia, pt: string): boolean {
  for (const a of m.attributes) {
    if (a.name !== 'rtpmap' || a.value === null) continue;
    const [p, enc] = a.value.split(' ');
    if (p === pt) return (enc ?? '').toLowerCase().startsWith('telephone-event/');
  }
  return false;
}

function sessionId(): string {
  return BigInt('0x' + randomBytes(6).toString('hex')).toString();
}
