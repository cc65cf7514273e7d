import { describe, expect, it } from 'vitest';
import { DtmfDetector, DtmfInjector, dtmfChar, dtmfEvent, dtmfRelayBody, parseDtmfRelay } from '../../../src/media/dtmf.ts';
import { buildRtpPacket } from '../../../src/media/rtp.ts';

const voice = (seq: number, ts: number) => buildRtpPacket({ payloadType: 0, sequenceNumber: seq, timestamp: ts, ssrc: 0x1234, payload: Buffer.alloc(160) });
const event = (seq: number, ts: number, code: number, end: boolean, duration: number) => {
  const body = Buffer.from([code, (end ? 0x80 : 0) | 10, 0, 0]);
  body.writeUInt16BE(duration, 2);
  return buildRtpPacket({ payloadType: 101, sequenceNumber: seq, timestamp: ts, ssrc: 0x1234, payload: body });
};

describe('RFC 4733 events', () => {
  it('maps digits and codes both ways', () => {
    expect(dtmfChar(0)).toBe('0');
    expect(dtmfChar(10)).toBe('*');
    expect(dtmfChar(11)).toBe('#');
    expect(dtmfChar(15)).toBe('D');
    expect(dtmfChar(16)).toBeUndefined();
    expect(dtmfEvent('#')).toBe(11);
    expect(dtmfEvent('b')).toBe(13);
    expect(dtmfEvent('x')).toBeUndefined();
  });

  it('reports a digit once, at its first end packet, ignoring voice and the repeated ends', () => {
    const d = new DtmfDetector(101);
    expect(d.feed(voice(1, 160))).toBeUndefined();
    expect(d.feed(event(2, 320, 5, false, 160))).toBeUndefined();
    expect(d.feed(event(3, 320, 5, true, 800))).toEqual({ digit: '5', duration: 800, volume: 10 });
    expect(d.feed(event(4, 320, 5, true, 800))).toBeUndefined();
    expect(d.feed(event(5, 1280, 11, true, 400))!.digit).toBe('#');
    expect(d.feed(Buffer.alloc(5))).toBeUndefined();
  });

  it('injects a digit into a stream and shifts the numbering of what follows', () => {
    const inj = new DtmfInjector(96, null);
    expect(inj.packets('1', 100)).toBeUndefined(); // no stream yet
    inj.rtp(voice(100, 8000));
    const pkts = inj.packets('9', 250)!;
    expect(pkts).toHaveLength(6);
    expect(pkts.map((p) => p.readUInt16BE(2))).toEqual([101, 102, 103, 104, 105, 106]);
    expect(pkts.every((p) => (p[1]! & 0x7f) === 96 && p.readUInt32BE(8) === 0x1234 && p.readUInt32BE(4) === 8160 && p[12] === 9)).toBe(true);
    expect(pkts.filter((p) => p[13]! & 0x80)).toHaveLength(3);
    expect(pkts[5]!.readUInt16BE(14)).toBe(2000);
    expect(pkts[0]![1]! & 0x80).toBe(0x80); // marker on the first packet of the event
    const next = inj.rtp(voice(101, 8160))!;
    expect(next.readUInt16BE(2)).toBe(107);
    expect(inj.rtp(voice(0xffff, 8320))!.readUInt16BE(2)).toBe(5);
  });

  it('reads and writes application/dtmf-relay bodies', () => {
    expect(parseDtmfRelay('Signal=5\r\nDuration=160\r\n')).toEqual({ digit: '5', durationMs: 160 });
    expect(parseDtmfRelay('signal= #\nduration=99999999')).toEqual({ digit: '#', durationMs: 250 });
    expect(parseDtmfRelay('Signal=55')).toBeUndefined();
    expect(parseDtmfRelay('')).toBeUndefined();
    expect(dtmfRelayBody('*', 120.4).toString()).toBe('Signal=*\r\nDuration=120\r\n');
  });
});
