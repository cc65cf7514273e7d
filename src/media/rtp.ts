// RTP and RTCP header helpers (RFC 3550). The accessors read straight from
// the Buffer without allocating, for the relay's per-packet path; the parse
// functions build objects and are meant for statistics and tests.
// Every function tolerates arbitrary bytes: malformed input gives -1 / null.

export const RTP_VERSION = 2;
export const RTP_HEADER_MIN = 12;
export const RTCP_HEADER_MIN = 8;
export const RTCP_SR = 200;
export const RTCP_RR = 201;

// The field accessors below assume at least a fixed header's worth of bytes
// (check rtpHeaderLength() >= 0, or length >= 8 for RTCP, first).
export const rtpVersion = (b: Buffer): number => (b.length > 0 ? b[0]! >>> 6 : -1);
export const rtpHasPadding = (b: Buffer): boolean => (b[0]! & 0x20) !== 0;
export const rtpHasExtension = (b: Buffer): boolean => (b[0]! & 0x10) !== 0;
export const rtpCsrcCount = (b: Buffer): number => b[0]! & 0x0f;
export const rtpMarker = (b: Buffer): boolean => (b[1]! & 0x80) !== 0;
export const rtpPayloadType = (b: Buffer): number => b[1]! & 0x7f;
export const rtpSeq = (b: Buffer): number => (b[2]! << 8) | b[3]!;
export const rtpTimestamp = (b: Buffer): number => b.readUInt32BE(4);
export const rtpSsrc = (b: Buffer): number => b.readUInt32BE(8);
/** SSRC of the first RTCP packet's sender (bytes 4..7). */
export const rtcpSenderSsrc = (b: Buffer): number => b.readUInt32BE(4);

/**
 * RFC 5761 §4 demultiplexing of RTP and RTCP on one port: RTCP packet types
 * 192–223 fall where an RTP marker bit plus payload type 64–95 would be.
 */
export function isRtcp(b: Buffer): boolean {
  return b.length >= RTCP_HEADER_MIN && b[0]! >>> 6 === RTP_VERSION && b[1]! >= 192 && b[1]! <= 223;
}

/**
 * Length of the RTP header including CSRCs and the header extension, checked
 * against `length` (defaults to the Buffer's). -1 when not a well-formed RTP
 * version 2 header.
 */
export function rtpHeaderLength(b: Buffer, length: number = b.length): number {
  if (length < RTP_HEADER_MIN || b[0]! >>> 6 !== RTP_VERSION) return -1;
  let n = RTP_HEADER_MIN + 4 * (b[0]! & 0x0f);
  if ((b[0]! & 0x10) !== 0) {
    if (n + 4 > length) return -1;
    n += 4 + 4 * ((b[n + 2]! << 8) | b[n + 3]!);
  }
  return n <= length ? n : -1;
}

/**
 * Number of padding bytes at the end of the packet (0 without the P bit), or
 * -1 when the padding count does not fit the payload.
 */
export function rtpPaddingLength(b: Buffer, headerLength: number, length: number = b.length): number {
  if ((b[0]! & 0x20) === 0) return 0;
  if (length <= headerLength) return -1;
  const pad = b[length - 1]!;
  return pad === 0 || pad > length - headerLength ? -1 : pad;
}

export interface RtpHeader {
  version: number;
  padding: boolean;
  extension: boolean;
  marker: boolean;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  csrcs: number[];
  /** Header extension profile word and data, when present. */
  extensionProfile?: number;
  extensionData?: Buffer;
  headerLength: number;
  /** Payload length without padding. */
  payloadLength: number;
  paddingLength: number;
}

export function parseRtpHeader(b: Buffer): RtpHeader | null {
  const headerLength = rtpHeaderLength(b);
  if (headerLength < 0) return null;
  const paddingLength = rtpPaddingLength(b, headerLength);
  if (paddingLength < 0) return null;
  const cc = rtpCsrcCount(b);
  const csrcs: number[] = [];
  for (let i = 0; i < cc; i++) csrcs.push(b.readUInt32BE(RTP_HEADER_MIN + 4 * i));
  const h: RtpHeader = {
    version: RTP_VERSION,
    padding: rtpHasPadding(b),
    extension: rtpHasExtension(b),
    marker: rtpMarker(b),
    payloadType: rtpPayloadType(b),
    sequenceNumber: rtpSeq(b),
    timestamp: rtpTimestamp(b),
    ssrc: rtpSsrc(b),
    csrcs,
    headerLength,
    payloadLength: b.length - headerLength - paddingLength,
    paddingLength,
  };
  if (h.extension) {
    const x = RTP_HEADER_MIN + 4 * cc;
    h.extensionProfile = b.readUInt16BE(x);
    h.extensionData = Buffer.from(b.subarray(x + 4, headerLength));
  }
  return h;
}

export interface RtpPacketFields {
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  marker?: boolean;
  csrcs?: number[];
  /** Data must be a multiple of 4 bytes long. */
  extension?: { profile: number; data: Buffer };
  /** Padding bytes to append (1–255), the last one holding the count. */
  padding?: number;
  payload: Buffer;
}

/** Builds an RTP packet (tests, tone generators, benches). Throws on bad fields. */
export function buildRtpPacket(f: RtpPacketFields): Buffer {
  const csrcs = f.csrcs ?? [];
  if (csrcs.length > 15) throw new RangeError('csrcs: at most 15');
  if (!Number.isInteger(f.payloadType) || f.payloadType < 0 || f.payloadType > 127) {
    throw new RangeError('payloadType must be 0..127');
  }
  if (f.extension && f.extension.data.length % 4 !== 0) throw new RangeError('extension.data: length must be a multiple of 4');
  const pad = f.padding ?? 0;
  if (!Number.isInteger(pad) || pad < 0 || pad > 255) throw new RangeError('padding must be 0..255');
  const extLen = f.extension ? 4 + f.extension.data.length : 0;
  const headerLength = RTP_HEADER_MIN + 4 * csrcs.length + extLen;
  const out = Buffer.alloc(headerLength + f.payload.length + pad);
  out[0] = (RTP_VERSION << 6) | (pad > 0 ? 0x20 : 0) | (f.extension ? 0x10 : 0) | csrcs.length;
  out[1] = (f.marker ? 0x80 : 0) | f.payloadType;
  out.writeUInt16BE(f.sequenceNumber & 0xffff, 2);
  out.writeUInt32BE(f.timestamp >>> 0, 4);
  out.writeUInt32BE(f.ssrc >>> 0, 8);
  csrcs.forEach((c, i) => out.writeUInt32BE(c >>> 0, RTP_HEADER_MIN + 4 * i));
  if (f.extension) {
    const x = RTP_HEADER_MIN + 4 * csrcs.length;
    out.writeUInt16BE(f.extension.profile & 0xffff, x);
    out.writeUInt16BE(f.extension.data.length / 4, x + 2);
    f.extension.data.copy(out, x + 4);
  }
  f.payload.copy(out, headerLength);
  if (pad > 0) out[out.length - 1] = pad;
  return out;
}

export interface RtcpSenderInfo {
  ntpSeconds: number;
  ntpFraction: number;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
}

export interface RtcpReportBlock {
  ssrc: number;
  /** Fraction lost since the previous report, 0–255 (/256). */
  fractionLost: number;
  /** Cumulative packets lost, signed 24-bit. */
  cumulativeLost: number;
  extendedHighestSeq: number;
  /** Interarrival jitter in timestamp units. */
  jitter: number;
  lastSr: number;
  delaySinceLastSr: number;
}

export interface RtcpReport {
  type: 'SR' | 'RR';
  ssrc: number;
  sender?: RtcpSenderInfo;
  reports: RtcpReportBlock[];
}

/** Upper bound on packets examined in one compound packet. */
const MAX_RTCP_PARTS = 64;

/**
 * SR and RR packets from a (decrypted) compound RTCP packet; other packet
 * types are skipped. null when the compound framing is broken: wrong version,
 * a length running past the end, or a report count that does not fit.
 */
export function parseRtcpReports(b: Buffer): RtcpReport[] | null {
  const out: RtcpReport[] = [];
  let off = 0;
  for (let part = 0; off < b.length; part++) {
    if (part >= MAX_RTCP_PARTS || off + 4 > b.length || b[off]! >>> 6 !== RTP_VERSION) return null;
    const count = b[off]! & 0x1f;
    const pt = b[off + 1]!;
    const len = 4 * (b.readUInt16BE(off + 2) + 1);
    if (off + len > b.length) return null;
    if (pt === RTCP_SR || pt === RTCP_RR) {
      const fixed = pt === RTCP_SR ? 28 : 8;
      if (len < fixed + 24 * count) return null;
      const r: RtcpReport = { type: pt === RTCP_SR ? 'SR' : 'RR', ssrc: b.readUInt32BE(off + 4), reports: [] };
      if (pt === RTCP_SR) {
        r.sender = {
          ntpSeconds: b.readUInt32BE(off + 8),
          ntpFraction: b.readUInt32BE(off + 12),
          rtpTimestamp: b.readUInt32BE(off + 16),
          packetCount: b.readUInt32BE(off + 20),
          octetCount: b.readUInt32BE(off + 24),
        };
      }
      for (let i = 0; i < count; i++) r.reports.push(readReportBlock(b, off + fixed + 24 * i));
      out.push(r);
    }
    off += len;
  }
  return out;
}

function readReportBlock(b: Buffer, o: number): RtcpReportBlock {
  const lost = (b[o + 5]! << 16) | (b[o + 6]! << 8) | b[o + 7]!;
  return {
    ssrc: b.readUInt32BE(o),
    fractionLost: b[o + 4]!,
    cumulativeLost: lost & 0x800000 ? lost - 0x1000000 : lost,
    extendedHighestSeq: b.readUInt32BE(o + 8),
    jitter: b.readUInt32BE(o + 12),
    lastSr: b.readUInt32BE(o + 16),
    delaySinceLastSr: b.readUInt32BE(o + 20),
  };
}
