// RFC 4733 telephone-events in RTP: recognising a digit in a stream (for
// interworking to SIP INFO) and building event packets. An event is sent as
// several packets with one RTP timestamp, the last ones with the E bit (and
// usually three times); a digit is reported once, at its first end packet.

const DIGITS = '0123456789*#ABCD';

/** ITU-T Q.23 DTMF frequencies (Hz): a digit is one row (low group) tone plus one column (high group) tone. */
export const DTMF_ROW_HZ: readonly number[] = [697, 770, 852, 941];
export const DTMF_COL_HZ: readonly number[] = [1209, 1336, 1477, 1633];
/** Keypad layout: DTMF_KEYPAD[row][col]. */
export const DTMF_KEYPAD: readonly string[] = ['123A', '456B', '789C', '*0#D'];

/** The character of an RFC 4733 DTMF event code (0–15), or undefined for other events. */
export function dtmfChar(event: number): string | undefined {
  return event >= 0 && event < 16 ? DIGITS[event] : undefined;
}

export function dtmfEvent(char: string): number | undefined {
  const i = DIGITS.indexOf(char.toUpperCase());
  return i >= 0 ? i : undefined;
}

export interface DtmfDigit {
  digit: string;
  /** Duration in timestamp units (8000 Hz clock: /8 for ms). */
  duration: number;
  volume: number;
}

/**
 * Watches one RTP stream for telephone-events of payload type `payloadType`.
 * feed() takes a plain (decrypted) RTP packet and returns the digit when this
 * packet ends one, else undefined. No allocation except for that result.
 */
export class DtmfDetector {
  private lastEndTs = -1;
  private lastEndSsrc = -1;

  constructor(public payloadType: number) {}

  /** True when the packet is a telephone-event of our payload type (whether or not it ends a digit). */
  isEvent(packet: Buffer): boolean {
    return packet.length >= 16 && (packet[1]! & 0x7f) === this.payloadType;
  }

  feed(packet: Buffer): DtmfDigit | undefined {
    if (!this.isEvent(packet)) return undefined;
    const cc = packet[0]! & 0x0f;
    let off = 12 + cc * 4;
    if (packet[0]! & 0x10) {
      if (packet.length < off + 4) return undefined;
      off += 4 + packet.readUInt16BE(off + 2) * 4;
    }
    if (packet.length < off + 4) return undefined;
    const event = packet[off]!;
    const flags = packet[off + 1]!;
    if ((flags & 0x80) === 0) return undefined; // not an end packet yet
    const ts = packet.readUInt32BE(4);
    const ssrc = packet.readUInt32BE(8);
    if (ts === this.lastEndTs && ssrc === this.lastEndSsrc) return undefined; // the repeated end packets
    this.lastEndTs = ts;
    this.lastEndSsrc = ssrc;
    const digit = dtmfChar(event);
    if (digit === undefined) return undefined;
    return { digit, duration: packet.readUInt16BE(off + 2), volume: flags & 0x3f };
  }
}

/** The SIP INFO body of RFC-less but universal application/dtmf-relay. */
export function dtmfRelayBody(digit: string, durationMs: number): Buffer {
  return Buffer.from(`Signal=${digit}\r\nDuration=${Math.max(1, Math.round(durationMs))}\r\n`);
}

/** Parses an application/dtmf-relay (or application/dtmf) INFO body. */
export function parseDtmfRelay(body: string): { digit: string; durationMs: number } | undefined {
  let digit: string | undefined;
  let duration = 250;
  for (const line of body.split(/\r?\n/)) {
    const eq = line.indexOf('=');
    if (eq < 0) {
      if (digit === undefined && line.trim().length === 1 && dtmfEvent(line.trim()) !== undefined) digit = line.trim().toUpperCase();
      continue;
    }
    const key = line.slice(0, eq).trim().toLowerCase();
    const value = line.slice(eq + 1).trim();
    if (key === 'signal' && value.length === 1 && dtmfEvent(value) !== undefined) digit = value.toUpperCase();
    else if (key === 'duration' && /^\d{1,6}$/.test(value)) duration = Number(value);
  }
  return digit === undefined ? undefined : { digit, durationMs: duration };
}

/**
 * Puts RFC 4733 events into a forwarded RTP stream (for a digit that arrived
 * as SIP INFO): an outbound transform that remembers the stream's SSRC,
 * sequence number and timestamp, and shifts the sequence numbers of the
 * packets that follow by the number of packets it inserted, so the receiver
 * sees one gapless stream.
 */
export class DtmfInjector {
  private ssrc = -1;
  private seq = 0;
  private ts = 0;
  private shift = 0;
  lastDrop: string | null = null;

  constructor(
    private readonly payloadType: number,
    /** Applied after the rewrite (SRTP protect toward the phone), or null. */
    private readonly next: { rtp(p: Buffer): Buffer | null; rtcp(p: Buffer): Buffer | null; readonly lastDrop?: string | null } | null,
  ) {}

  rtp(packet: Buffer): Buffer | null {
    if (packet.length >= 12) {
      if (this.shift !== 0) packet.writeUInt16BE((packet.readUInt16BE(2) + this.shift) & 0xffff, 2);
      this.ssrc = packet.readUInt32BE(8);
      this.seq = packet.readUInt16BE(2);
      this.ts = packet.readUInt32BE(4);
    }
    const out = this.next ? this.next.rtp(packet) : packet;
    if (out === null) this.lastDrop = this.next?.lastDrop ?? 'outbound';
    return out;
  }

  rtcp(packet: Buffer): Buffer | null {
    return this.next ? this.next.rtcp(packet) : packet;
  }

  /**
   * The packets of one digit (three updates, then the end packet three times,
   * RFC 4733 §2.5.1.4), already in the stream's numbering; undefined before the
   * stream has carried a packet (no SSRC to speak for yet).
   */
  packets(digit: string, durationMs: number): Buffer[] | undefined {
    const event = dtmfEvent(digit);
    if (event === undefined || this.ssrc < 0) return undefined;
    const total = Math.max(160, Math.min(0xffff, Math.round(durationMs * 8)));
    const ts = (this.ts + 160) >>> 0;
    const out: Buffer[] = [];
    for (let i = 0; i < 6; i++) {
      const end = i >= 3;
      const p = Buffer.alloc(16);
      p[0] = 0x80;
      p[1] = (i === 0 ? 0x80 : 0) | this.payloadType;
      this.seq = (this.seq + 1) & 0xffff;
      this.shift = (this.shift + 1) & 0xffff;
      p.writeUInt16BE(this.seq, 2);
      p.writeUInt32BE(ts, 4);
      p.writeUInt32BE(this.ssrc >>> 0, 8);
      p[12] = event;
      p[13] = (end ? 0x80 : 0) | 10;
      p.writeUInt16BE(end ? total : Math.round((total * (i + 1)) / 4), 14);
      const sent = this.next ? this.next.rtp(p) : p;
      if (sent) out.push(sent);
    }
    return out;
  }
}
