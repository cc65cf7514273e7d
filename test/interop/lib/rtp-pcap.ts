// An RTP stream written as a libpcap file for SIPp's play_pcap_audio: what a
// phone would send, 20 ms a packet (PCMU audio, RFC 4733 telephone-events
// on a dynamic payload type, or ready-made frames of another codec such as
// G.729's 20 bytes per 20 ms), each packet in an Ethernet/IPv4/UDP frame with
// its send time. SIPp replays the RTP bytes at those times from its media
// port to the address of the answer's SDP; the addresses here are dummies.
import { encodeG711 } from '../../../src/media/g711.ts';
import { buildRtpPacket } from '../../../src/media/rtp.ts';

const FRAME = 160;
const PCMU = 0;
/** ulaw of 0 (silence). */
const ULAW_SILENCE = 0xff;

export type RtpPart =
  /** 8 kHz PCM, sent as PCMU in 20 ms packets (the tail padded with silence). */
  | { audio: Int16Array }
  /** Silence (PCMU) for ms. */
  | { silenceMs: number }
  /** One key press as RFC 4733 events for ms, then three end packets. */
  | { digit: string; ms?: number }
  /** One packet per payload as it is (an 8 kHz codec, 20 ms each), on payloadType. */
  | { frames: readonly Buffer[]; payloadType: number };

const EVENTS = '0123456789*#';

/** The RTP packets of parts in order, each with its send time (ms from the first). */
export function rtpStream(parts: readonly RtpPart[], eventPt: number, ssrc = 0x5151_1234): { atMs: number; packet: Buffer }[] {
  const out: { atMs: number; packet: Buffer }[] = [];
  let seq = 1;
  let ts = 0;
  let atMs = 0;
  const push = (payloadType: number, timestamp: number, payload: Buffer, marker = false): void => {
    out.push({ atMs, packet: buildRtpPacket({ payloadType, sequenceNumber: seq++, timestamp, ssrc, marker, payload }) });
  };
  const audio = (pcm: Int16Array): void => {
    for (let at = 0; at < pcm.length; at += FRAME) {
      const frame = new Int16Array(FRAME);
      frame.set(pcm.subarray(at, Math.min(at + FRAME, pcm.length)));
      const payload = Buffer.alloc(FRAME);
      encodeG711('ulaw', frame, payload);
      push(PCMU, ts, payload);
      ts += FRAME;
      atMs += 20;
    }
  };
  for (const p of parts) {
    if ('audio' in p) audio(p.audio);
    else if ('frames' in p) {
      for (const payload of p.frames) {
        push(p.payloadType, ts, payload);
        ts += FRAME;
        atMs += 20;
      }
    } else if ('silenceMs' in p) {
      for (let i = 0; i < Math.round(p.silenceMs / 20); i++) {
        push(PCMU, ts, Buffer.alloc(FRAME, ULAW_SILENCE));
        ts += FRAME;
        atMs += 20;
      }
    } else {
      const event = EVENTS.indexOf(p.digit);
      if (event < 0) throw new RangeError(`not a DTMF key: ${p.digit}`);
      // RFC 4733 2.5: one timestamp (the event's start) for all its packets, duration growing; the
      // first has the marker bit, the end is sent three times with the E bit.
      const frames = Math.max(2, Math.round((p.ms ?? 100) / 20));
      const body = (duration: number, end: boolean): Buffer => Buffer.from([event, (end ? 0x80 : 0) | 10, duration >> 8, duration & 0xff]);
      for (let i = 1; i <= frames; i++) {
        push(eventPt, ts, body(i * FRAME, false), i === 1);
        atMs += 20;
      }
      for (let i = 0; i < 3; i++) push(eventPt, ts, body(frames * FRAME, true));
      ts += frames * FRAME;
    }
  }
  return out;
}

/** Duration of the stream in ms (the last packet's send time plus one frame). */
export function streamMs(stream: readonly { atMs: number }[]): number {
  return (stream.at(-1)?.atMs ?? 0) + 20;
}

/** A classic libpcap file (linktype Ethernet) holding each packet in a UDP datagram 127.0.0.1:6000 -> :6002. */
export function pcapFile(stream: readonly { atMs: number; packet: Buffer }[]): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(65535, 16);
  head.writeUInt32LE(1, 20);
  const chunks = [head];
  for (const { atMs, packet } of stream) {
    const frame = Buffer.alloc(14 + 20 + 8 + packet.length);
    // Ethernet: two local MACs, type IPv4.
    frame.writeUInt16BE(0x0800, 12);
    const ip = 14;
    frame[ip] = 0x45;
    frame.writeUInt16BE(20 + 8 + packet.length, ip + 2);
    frame[ip + 8] = 64;
    frame[ip + 9] = 17;
    frame.writeUInt32BE(0x7f000001, ip + 12);
    frame.writeUInt32BE(0x7f000001, ip + 16);
    frame.writeUInt16BE(ipChecksum(frame.subarray(ip, ip + 20)), ip + 10);
    const udp = ip + 20;
    frame.writeUInt16BE(6000, udp);
    frame.writeUInt16BE(6002, udp + 2);
    frame.writeUInt16BE(8 + packet.length, udp + 4);
    packet.copy(frame, udp + 8);
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(Math.floor(atMs / 1000), 0);
    rec.writeUInt32LE((atMs % 1000) * 1000, 4);
    rec.writeUInt32LE(frame.length, 8);
    rec.writeUInt32LE(frame.length, 12);
    chunks.push(rec, frame);
  }
  return Buffer.concat(chunks);
}

function ipChecksum(h: Buffer): number {
  let sum = 0;
  for (let i = 0; i < h.length; i += 2) sum += h.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
