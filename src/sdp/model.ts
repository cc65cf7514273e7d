// Typed SDP model (RFC 8866, the parts telephony uses).
//
// The fields that offer/answer code reads or rewrites (o=, s=, c=, b=, m=,
// a=) are typed; every other line (i= u= e= p= t= r= z= k=, and letters we
// do not know) is kept verbatim in `other`, in input order. The serializer
// writes each section in RFC order, so a well-formed description comes back
// byte for byte, and attributes keep their order, which is what SDES
// (a=crypto) and RFC 5939 (a=acap/tcap/pcfg) need: their tags and preference
// order live in the attribute text, which is never touched.
//
// Helpers that change a description return a new one and leave their input
// alone, so a B2BUA can keep the SDP it received next to the one it sends.

/** o= line. Ids and versions stay strings: they may exceed 2^53. */
export interface SdpOrigin {
  username: string;
  sessionId: string;
  /** Decimal digits; bumpVersion() increases it. */
  sessionVersion: string;
  netType: string;
  addrType: string;
  address: string;
}

/** c= line. `address` is as written, including a multicast "/ttl/count" suffix. */
export interface SdpConnection {
  netType: string;
  addrType: string;
  address: string;
}

/** b=<type>:<value>. */
export interface SdpBandwidth {
  type: string;
  value: number;
}

/** a=<name>:<value> (value '' when the colon is there but nothing follows it), or a=<name> (value null). */
export interface SdpAttribute {
  name: string;
  value: string | null;
}

/** A line the model does not interpret, kept verbatim: `${type}=${value}`. */
export interface SdpLine {
  type: string;
  value: string;
}

export interface SdpMedia {
  /** "audio", "video", "application", ... as written. */
  media: string;
  port: number;
  /** The "/2" of "m=audio 49170/2 ...", null when absent. */
  portCount: number | null;
  proto: string;
  /** Payload types for RTP profiles ("0", "8", "101"), other tokens for other protocols. */
  formats: string[];
  /** Usually zero or one; several only for layered multicast. */
  connections: SdpConnection[];
  bandwidths: SdpBandwidth[];
  attributes: SdpAttribute[];
  other: SdpLine[];
}

export interface Sdp {
  origin: SdpOrigin;
  sessionName: string;
  connection: SdpConnection | null;
  bandwidths: SdpBandwidth[];
  attributes: SdpAttribute[];
  other: SdpLine[];
  media: SdpMedia[];
}

export type ParseSdpResult = { ok: true; sdp: Sdp } | { ok: false; reason: string };

export interface SdpLimits {
  /** Octets (UTF-8) of the whole description. */
  maxBytes: number;
  maxLines: number;
  maxMedia: number;
  /** Formats on one m= line. */
  maxFormats: number;
}

export const DEFAULT_SDP_LIMITS: Readonly<SdpLimits> = Object.freeze({
  maxBytes: 64 * 1024,
  maxLines: 1024,
  maxMedia: 64,
  maxFormats: 256,
});

/** True for RTP-based transport protocols (RTP/AVP, RTP/SAVP, RTP/SAVPF, UDP/TLS/RTP/SAVPF, ...). */
export function isRtpProto(proto: string): boolean {
  const p = proto.toUpperCase();
  return p.startsWith('RTP/') || p.includes('/RTP/');
}

export function isAudio(m: SdpMedia): boolean {
  return m.media.toLowerCase() === 'audio';
}

/** First attribute called `name` (case-insensitive, as RFC 8866 attribute names are); null when absent. */
export function findAttribute(attrs: readonly SdpAttribute[], name: string): SdpAttribute | null {
  const want = name.toLowerCase();
  for (const a of attrs) if (a.name.toLowerCase() === want) return a;
  return null;
}

/** Every attribute called `name` (case-insensitive), in order. */
export function findAttributes(attrs: readonly SdpAttribute[], name: string): SdpAttribute[] {
  const want = name.toLowerCase();
  return attrs.filter((a) => a.name.toLowerCase() === want);
}

export function cloneMedia(m: SdpMedia): SdpMedia {
  return {
    media: m.media,
    port: m.port,
    portCount: m.portCount,
    proto: m.proto,
    formats: [...m.formats],
    connections: m.connections.map((c) => ({ ...c })),
    bandwidths: m.bandwidths.map((b) => ({ ...b })),
    attributes: m.attributes.map((a) => ({ ...a })),
    other: m.other.map((l) => ({ ...l })),
  };
}

/** A deep copy that shares nothing with `sdp`. */
export function cloneSdp(sdp: Sdp): Sdp {
  return {
    origin: { ...sdp.origin },
    sessionName: sdp.sessionName,
    connection: sdp.connection ? { ...sdp.connection } : null,
    bandwidths: sdp.bandwidths.map((b) => ({ ...b })),
    attributes: sdp.attributes.map((a) => ({ ...a })),
    other: sdp.other.map((l) => ({ ...l })),
    media: sdp.media.map(cloneMedia),
  };
}

/** The media section at `index`; RangeError for an index the description does not have (a caller bug). */
export function mediaAt(sdp: Sdp, index: number): SdpMedia {
  const m = Number.isInteger(index) ? sdp.media[index] : undefined;
  if (!m) throw new RangeError(`SDP has no media section ${index} (it has ${sdp.media.length})`);
  return m;
}
