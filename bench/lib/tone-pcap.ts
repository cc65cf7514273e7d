// A libpcap file (Ethernet, IPv4, UDP) of 20 ms G.711 µ-law RTP packets
// carrying a sine tone, for SIPp's play_pcap_audio: SIPp takes each UDP
// payload, paces the packets by their capture times and rewrites addresses
// and ports for the call, so only the payload and the times matter.
import { writeFileSync } from 'node:fs';
import { encodeG711 } from '../../src/media/g711.ts';
import { buildRtpPacket } from '../../src/media/rtp.ts';

const FRAME = 160;

/** Writes `seconds` of a `freq` Hz tone to `path`. */
export function writeTonePcap(path: string, freq: number, seconds: number, amplitude = 8000): void {
  const frames = Math.round(seconds * 50);
  const parts: Buffer[] = [];
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(65535, 16); // snaplen
  head.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
  parts.push(head);
  const pcm = new Int16Array(FRAME);
  for (let f = 0; f < frames; f++) {
    for (let i = 0; i < FRAME; i++) pcm[i] = Math.round(amplitude * Math.sin((2 * Math.PI * freq * (f * FRAME + i)) / 8000));
    const payload = Buffer.alloc(FRAME);
    encodeG711('ulaw', pcm, payload);
    const rtp = buildRtpPacket({ payloadType: 0, sequenceNumber: (1000 + f) & 0xffff, timestamp: f * FRAME, ssrc: 0x51bb0001, payload, marker: f === 0 });
    const frame = Buffer.alloc(14 + 20 + 8 + rtp.length);
    frame.writeUInt16BE(0x0800, 12); // IPv4
    const ip = 14;
    frame[ip] = 0x45;
    frame.writeUInt16BE(20 + 8 + rtp.length, ip + 2);
    frame[ip + 8] = 64; // TTL
    frame[ip + 9] = 17; // UDP
    frame.set([127, 0, 0, 1], ip + 12);
    frame.set([127, 0, 0, 1], ip + 16);
    let sum = 0;
    for (let i = 0; i < 20; i += 2) sum += frame.readUInt16BE(ip + i);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    frame.writeUInt16BE(~sum & 0xffff, ip + 10);
    const udp = ip + 20;
    frame.writeUInt16BE(6000, udp);
    frame.writeUInt16BE(6002, udp + 2);
    frame.writeUInt16BE(8 + rtp.length, udp + 4);
    rtp.copy(frame, udp + 8);
    const rec = Buffer.alloc(16);
    const us = f * 20_000;
    rec.writeUInt32LE(Math.floor(us / 1e6), 0);
    rec.writeUInt32LE(us % 1e6, 4);
    rec.writeUInt32LE(frame.length, 8);
    rec.writeUInt32LE(frame.length, 12);
    parts.push(rec, frame);
  }
  writeFileSync(path, Buffer.concat(parts));
}
