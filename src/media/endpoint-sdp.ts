// SDP offer/answer (RFC 3264) for the media endpoint: one RTP/AVP audio
// stream carrying G.711 (PCMU or PCMA, the offerer's first choice) and
// telephone-event (RFC 4733) when the peer has it. Everything else — SRTP
// profiles (the relay terminates SRTP), other codecs, further m= lines — is
// declined. The endpoint's own descriptions are written from scratch.
import { isIP } from 'node:net';
import {
  TELEPHONE_EVENT,
  answerDirection,
  codecsOf,
  connectionOf,
  isAudio,
  mediaDirection,
  parseSdp,
  type Direction,
  type Sdp,
} from '../sdp/index.ts';

export type G711Codec = 'PCMU' | 'PCMA';

/** What one side of the negotiation settled on, from the peer's description. */
export interface StreamParams {
  codec: G711Codec;
  /** Payload type of the codec in the peer's description (what we send with). */
  pt: number;
  /** The peer's telephone-event payload type, or null. */
  tePt: number | null;
  /** Where the peer receives; null when nowhere (port 0, c=0.0.0.0 hold, no c=). */
  remote: { address: string; rtpPort: number; rtcpAddress: string; rtcpPort: number } | null;
  /** The stream's direction as the peer wrote it. */
  peerDirection: Direction;
}

export type OfferVerdict =
  | { ok: true; params: StreamParams; mediaIndex: number; sdp: Sdp }
  | { ok: false; reason: string };

const PROFILES = new Set(['RTP/AVP', 'RTP/AVPF']);
export const OUR_TE_PT = 101;

function params(sdp: Sdp, index: number): StreamParams | string {
  const m = sdp.media[index]!;
  let codec: { name: G711Codec; pt: number } | null = null;
  let tePt: number | null = null;
  for (const { codec: c } of codecsOf(m)) {
    if (c === null || c.clockRate !== 8000) continue;
    if (codec === null && (c.name === 'PCMU' || c.name === 'PCMA') && (c.channels ?? 1) === 1) codec = { name: c.name, pt: c.pt };
    else if (tePt === null && c.name === TELEPHONE_EVENT) tePt = c.pt;
  }
  if (codec === null) return 'no common codec (the media endpoint speaks PCMU and PCMA)';
  const conn = connectionOf(sdp, index);
  const usable = conn !== null && conn.port > 0 && isIP(conn.address) !== 0 && conn.address !== '0.0.0.0' && conn.address !== '::';
  return {
    codec: codec.name,
    pt: codec.pt,
    tePt,
    remote: usable ? { address: conn.address, rtpPort: conn.port, rtcpAddress: isIP(conn.rtcpAddress) ? conn.rtcpAddress : conn.address, rtcpPort: conn.rtcpPort } : null,
    peerDirection: mediaDirection(sdp, index),
  };
}

/** Picks the stream to answer in an offer: the first active audio stream on plain RTP. */
export function judgeOffer(offer: Buffer): OfferVerdict {
  const parsed = parseSdp(offer);
  if (!parsed.ok) return { ok: false, reason: `bad SDP: ${parsed.reason}` };
  const sdp = parsed.sdp;
  let secureOnly = false;
  for (let i = 0; i < sdp.media.length; i++) {
    const m = sdp.media[i]!;
    if (m.port === 0 || !isAudio(m)) continue;
    if (!PROFILES.has(m.proto.toUpperCase())) {
      if (m.proto.toUpperCase().includes('SAVP')) secureOnly = true;
      continue;
    }
    const p = params(sdp, i);
    if (typeof p === 'string') return { ok: false, reason: p };
    return { ok: true, params: p, mediaIndex: i, sdp };
  }
  return { ok: false, reason: secureOnly ? 'SRTP is not terminated by the media endpoint (offer RTP/AVP)' : 'no RTP/AVP audio stream' };
}

/** Reads the answer to our offer (stream 0); null when it declines or is unusable. */
export function judgeAnswer(answer: Buffer): StreamParams | null {
  const parsed = parseSdp(answer);
  if (!parsed.ok) return null;
  const m = parsed.sdp.media[0];
  if (m === undefined || m.port === 0 || !isAudio(m) || !PROFILES.has(m.proto.toUpperCase())) return null;
  const p = params(parsed.sdp, 0);
  return typeof p === 'string' ? null : p;
}

export interface LocalDescription {
  address: string;
  rtpPort: number;
  sessionId: string;
  version: number;
}

function header(local: LocalDescription): string {
  const ipv = local.address.includes(':') ? 'IP6' : 'IP4';
  return `v=0\r\no=switchboard ${local.sessionId} ${local.version} IN ${ipv} ${local.address}\r\ns=-\r\nc=IN ${ipv} ${local.address}\r\nt=0 0\r\n`;
}

function audio(port: number, codecs: ReadonlyArray<[pt: number, name: string]>, tePt: number | null, direction: Direction): string {
  let s = `m=audio ${port} RTP/AVP ${codecs.map((c) => c[0]).join(' ')}${tePt !== null ? ` ${tePt}` : ''}\r\n`;
  for (const [pt, name] of codecs) s += `a=rtpmap:${pt} ${name}/8000\r\n`;
  if (tePt !== null) s += `a=rtpmap:${tePt} telephone-event/8000\r\na=fmtp:${tePt} 0-16\r\n`;
  return `${s}a=ptime:20\r\na=${direction}\r\n`;
}

/** Our answer to `verdict`'s offer: the chosen stream answered, every other m= line declined (port 0). */
export function answerSdp(local: LocalDescription, verdict: Extract<OfferVerdict, { ok: true }>): Buffer {
  const { params: p, mediaIndex, sdp } = verdict;
  let s = header(local);
  for (let i = 0; i < sdp.media.length; i++) {
    const m = sdp.media[i]!;
    if (i === mediaIndex) s += audio(local.rtpPort, [[p.pt, p.codec]], p.tePt, answerDirection(p.peerDirection));
    else s += `m=${m.media} 0 ${m.proto} ${m.formats[0] ?? '0'}\r\n`;
  }
  return Buffer.from(s);
}

/** Our offer: PCMU, PCMA and telephone-event, sendrecv. */
export function offerSdp(local: LocalDescription): Buffer {
  return Buffer.from(header(local) + audio(local.rtpPort, [[0, 'PCMU'], [8, 'PCMA']], OUR_TE_PT, 'sendrecv'));
}
