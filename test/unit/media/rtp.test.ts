import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  buildRtpPacket, isRtcp, parseRtcpReports, parseRtpHeader, rtcpSenderSsrc, rtpHeaderLength, rtpMarker,
  rtpPaddingLength, rtpPayloadType, rtpSeq, rtpSsrc, rtpTimestamp, rtpVersion,
} from '../../../src/media/rtp.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('RTP header', () => {
  it('reads the fixed fields of a hand-written packet', () => {
    const p = hex('80 88 1234 decafbad cafebabe 00112233');
    expect(rtpVersion(p)).toBe(2);
    expect(rtpMarker(p)).toBe(true);
    expect(rtpPayloadType(p)).toBe(8);
    expect(rtpSeq(p)).toBe(0x1234);
    expect(rtpTimestamp(p)).toBe(0xdecafbad);
    expect(rtpSsrc(p)).toBe(0xcafebabe);
    expect(rtpHeaderLength(p)).toBe(12);
  });

  it('round-trips CSRCs, a header extension, padding and the marker through build and parse', () => {
    const payload = crypto.randomBytes(160);
    const p = buildRtpPacket({
      payloadType: 101, sequenceNumber: 65535, timestamp: 0xffffffff, ssrc: 0x80000001, marker: true,
      csrcs: [1, 0xffffffff], extension: { profile: 0xbede, data: hex('10ff0000 22aabb00') }, padding: 3, payload,
    });
    expect(p.length).toBe(12 + 8 + 4 + 8 + 160 + 3);
    const h = parseRtpHeader(p)!;
    expect(h).toMatchObject({
      version: 2, padding: true, extension: true, marker: true, payloadType: 101, sequenceNumber: 65535,
      timestamp: 0xffffffff, ssrc: 0x80000001, csrcs: [1, 0xffffffff], extensionProfile: 0xbede,
      headerLength: 32, payloadLength: 160, paddingLength: 3,
    });
    expect(h.extensionData).toEqual(hex('10ff0000 22aabb00'));
    expect(p.subarray(h.headerLength, h.headerLength + h.payloadLength)).toEqual(payload);
  });

  it('rejects malformed headers with -1 / null instead of throwing', () => {
    expect(rtpHeaderLength(Buffer.alloc(0))).toBe(-1);
    expect(rtpHeaderLength(hex('80 00 0001 00000000 0000'))).toBe(-1); // 10 bytes
    expect(rtpHeaderLength(hex('40 00 0001 00000000 00000000'))).toBe(-1); // version 1
    expect(rtpHeaderLength(hex('82 00 0001 00000000 00000000 00000001'))).toBe(-1); // CC=2, one CSRC present
    expect(rtpHeaderLength(hex('90 00 0001 00000000 00000000 bede'))).toBe(-1); // extension header cut
    expect(rtpHeaderLength(hex('90 00 0001 00000000 00000000 bede0002 00000000'))).toBe(-1); // ext longer than packet
    expect(rtpHeaderLength(hex('90 00 0001 00000000 00000000 bede0001 00000000'))).toBe(20);
    expect(parseRtpHeader(hex('a0 00 0001 00000000 00000000 0102 0005'))).toBeNull(); // padding 5 > payload
    expect(parseRtpHeader(hex('a0 00 0001 00000000 00000000 0102 0000'))).toBeNull(); // padding count 0
    expect(rtpPaddingLength(hex('a0 00 0001 00000000 00000000'), 12)).toBe(-1);
    expect(rtpVersion(Buffer.alloc(0))).toBe(-1);
    for (let i = 0; i < 2000; i++) {
      const junk = crypto.randomBytes(i % 40);
      const n = rtpHeaderLength(junk);
      expect(n === -1 || (n >= 12 && n <= junk.length)).toBe(true);
      parseRtpHeader(junk);
    }
  });

  it('refuses fields buildRtpPacket cannot encode, naming them', () => {
    const base = { payloadType: 0, sequenceNumber: 0, timestamp: 0, ssrc: 0, payload: Buffer.alloc(0) };
    expect(() => buildRtpPacket({ ...base, payloadType: 128 })).toThrow(/payloadType/);
    expect(() => buildRtpPacket({ ...base, csrcs: new Array(16).fill(1) })).toThrow(/csrcs/);
    expect(() => buildRtpPacket({ ...base, extension: { profile: 1, data: Buffer.alloc(3) } })).toThrow(/extension/);
    expect(() => buildRtpPacket({ ...base, padding: 256 })).toThrow(/padding/);
  });
});

describe('RTCP', () => {
  // SR (1 report block) + SDES, as a phone sends it.
  const sr = hex(`81c8000c cafebabe e0000000 00000001 00001234 00000001 000000a0
                  deadbeef 05fffffe 0001fffe 00000010 11112222 00003333
                  81ca0003 cafebabe 01047465 73740000`);

  it('demultiplexes RTCP from RTP on one port (RFC 5761)', () => {
    expect(isRtcp(sr)).toBe(true);
    expect(isRtcp(hex('80 00 0001 00000000 00000000'))).toBe(false);
    expect(isRtcp(hex('80 e0 0001 00000000 00000000'))).toBe(false); // marker + PT 96
    expect(isRtcp(hex('80c9 0001'))).toBe(false); // too short
    expect(rtcpSenderSsrc(sr)).toBe(0xcafebabe);
  });

  it('parses SR sender info and report blocks, with a negative cumulative loss', () => {
    const reports = parseRtcpReports(sr)!;
    expect(reports).toHaveLength(1);
    expect(reports[0]).toEqual({
      type: 'SR', ssrc: 0xcafebabe,
      sender: { ntpSeconds: 0xe0000000, ntpFraction: 1, rtpTimestamp: 0x1234, packetCount: 1, octetCount: 160 },
      reports: [{
        ssrc: 0xdeadbeef, fractionLost: 5, cumulativeLost: -2, extendedHighestSeq: 0x1fffe, jitter: 16,
        lastSr: 0x11112222, delaySinceLastSr: 0x3333,
      }],
    });
  });

  it('parses an RR without report blocks', () => {
    expect(parseRtcpReports(hex('80c90001 cafebabe'))).toEqual([{ type: 'RR', ssrc: 0xcafebabe, reports: [] }]);
  });

  it('returns null on broken compound framing', () => {
    expect(parseRtcpReports(sr.subarray(0, sr.length - 4))).toBeNull(); // SDES length runs past the end
    expect(parseRtcpReports(hex('81c90001 cafebabe'))).toBeNull(); // RC=1 but no block
    expect(parseRtcpReports(hex('40c90001 cafebabe'))).toBeNull(); // version 1
    expect(parseRtcpReports(hex('80c9'))).toBeNull();
    for (let i = 0; i < 2000; i++) parseRtcpReports(crypto.randomBytes(i % 64));
    const many = Buffer.concat(new Array(100).fill(hex('80c90001 cafebabe')));
    expect(parseRtcpReports(many)).toBeNull(); // more parts than any real compound packet
  });
});
