import { describe, expect, it } from 'vitest';
import { RtpReceiveStats, SideStats } from '../../../src/media/stats.ts';

const SSRC = 0x1234abcd;

/** Feeds sequence numbers at 20 ms spacing with matching 8 kHz timestamps. */
function feed(s: RtpReceiveStats, seqs: number[], ssrc = SSRC): void {
  let t = 0;
  for (const seq of seqs) {
    s.record(seq, seq * 160, ssrc, 0, t);
    t += 20;
  }
}

describe('RtpReceiveStats loss (RFC 3550 A.1/A.3)', () => {
  it('counts a clean run as no loss', () => {
    const s = new RtpReceiveStats();
    feed(s, [100, 101, 102, 103, 104]);
    expect(s.expected).toBe(5);
    expect(s.received).toBe(5);
    expect(s.lost).toBe(0);
  });

  it('counts gaps as loss', () => {
    const s = new RtpReceiveStats();
    feed(s, [10, 11, 14, 15, 20]); // 12, 13, 16–19 missing
    expect(s.expected).toBe(11);
    expect(s.received).toBe(5);
    expect(s.lost).toBe(6);
  });

  it('does not count a reordered packet as lost once it arrives', () => {
    const s = new RtpReceiveStats();
    feed(s, [1, 2, 4, 3, 5]);
    expect(s.expected).toBe(5);
    expect(s.received).toBe(5);
    expect(s.lost).toBe(0);
    expect(s.duplicates).toBe(0);
  });

  it('does not let duplicates hide loss', () => {
    const s = new RtpReceiveStats();
    // 3 is lost; 2 arrives twice and 5 twice (once right away, once late).
    feed(s, [1, 2, 2, 4, 5, 5, 6, 2]);
    expect(s.duplicates).toBe(3);
    expect(s.expected).toBe(6);
    expect(s.received).toBe(5);
    expect(s.lost).toBe(1);
  });

  it('follows the sequence number across the 16-bit wrap', () => {
    const s = new RtpReceiveStats();
    feed(s, [65533, 65534, 65535, 1, 2, 0]); // 0 late, after 1 and 2
    expect(s.expected).toBe(6);
    expect(s.received).toBe(6);
    expect(s.lost).toBe(0);
    const t = new RtpReceiveStats();
    feed(t, [65534, 65535, 2, 3]); // 0 and 1 lost across the wrap
    expect(t.expected).toBe(6);
    expect(t.lost).toBe(2);
  });

  it('keeps counting over many wraps', () => {
    const s = new RtpReceiveStats();
    const seqs: number[] = [];
    for (let i = 0; i < 3 * 65536 + 10; i++) if (i % 1000 !== 7) seqs.push(i & 0xffff);
    feed(s, seqs);
    expect(s.expected).toBe(3 * 65536 + 10);
    expect(s.lost).toBe(197); // i % 1000 === 7 for i in 0..196,617: 197 values
  });

  it('resynchronises after a large jump confirmed by a second packet, keeping earlier totals', () => {
    const s = new RtpReceiveStats();
    feed(s, [100, 101, 103]); // one lost before the restart
    feed(s, [40000]); // stray or restart: not counted yet
    expect(s.discarded).toBe(1);
    expect(s.expected).toBe(4);
    feed(s, [40001, 40002, 40003]); // second in sequence confirms the restart
    expect(s.expected).toBe(4 + 3);
    expect(s.received).toBe(3 + 3);
    expect(s.lost).toBe(1);
  });

  it('starts a new epoch on a new SSRC and adds up both', () => {
    const s = new RtpReceiveStats();
    feed(s, [500, 501, 503]);
    feed(s, [9, 10, 11, 13], 0x99);
    expect(s.ssrc).toBe(0x99);
    expect(s.expected).toBe(4 + 5);
    expect(s.received).toBe(3 + 4);
    expect(s.lost).toBe(2);
  });
});

describe('RtpReceiveStats jitter (RFC 3550 A.8)', () => {
  it('matches a hand-computed example at 8 kHz', () => {
    const s = new RtpReceiveStats();
    // Timestamps step 160 (20 ms); arrivals at 0, 20, 45, 60 ms.
    // D: 0, |200-160| = 40, |120-160| = 40 units. J: 0 → 40/16 = 2.5 → 2.5 + (40-2.5)/16 = 4.84375 units.
    s.record(1, 1000, SSRC, 0, 0);
    s.record(2, 1160, SSRC, 0, 20);
    expect(s.jitterUnits).toBe(0);
    s.record(3, 1320, SSRC, 0, 45);
    expect(s.jitterUnits).toBeCloseTo(2.5, 9);
    s.record(4, 1480, SSRC, 0, 60);
    expect(s.jitterUnits).toBeCloseTo(4.84375, 9);
    expect(s.jitterMs).toBeCloseTo(4.84375 / 8, 9);
  });

  it('is zero for perfectly paced packets, including across a timestamp wrap', () => {
    const s = new RtpReceiveStats();
    let ts = 0xffffffff - 480;
    for (let i = 0; i < 10; i++) {
      s.record(i, ts >>> 0, SSRC, 0, 1_000_000 + i * 20);
      ts += 160;
    }
    expect(s.jitterUnits).toBeCloseTo(0, 9);
  });

  it('uses the configured clock rate and payload type', () => {
    const s = new RtpReceiveStats();
    s.setClock(16000, 96);
    s.record(1, 0, SSRC, 96, 0);
    s.record(2, 320, SSRC, 96, 30); // 10 ms late at 16 kHz: D = 160 units
    expect(s.jitterUnits).toBeCloseTo(10, 9);
    expect(s.jitterMs).toBeCloseTo(10 / 16, 9);
    s.record(3, 320, SSRC, 101, 100); // telephone-event: ignored for jitter
    expect(s.jitterUnits).toBeCloseTo(10, 9);
    expect(() => s.setClock(0)).toThrow(/clockRate/);
    expect(() => s.setClock(8000, 128)).toThrow(/payloadType/);
  });
});

describe('SideStats', () => {
  function rr(fractionLost: number, cumulative: number, jitter: number): Buffer {
    const b = Buffer.alloc(32);
    b[0] = 0x81; // V=2, RC=1
    b[1] = 201;
    b.writeUInt16BE(7, 2);
    b.writeUInt32BE(0xaaaa, 4);
    b.writeUInt32BE(SSRC, 8);
    b[12] = fractionLost;
    b.writeUIntBE(cumulative, 13, 3);
    b.writeUInt32BE(jitter, 20);
    return b;
  }

  it('keeps what the last RTCP receiver report said, in % and ms', () => {
    const s = new SideStats();
    expect(s.snapshot().reported).toBeNull();
    s.rtcpReport(rr(64, 12, 80), 1000);
    const r = s.snapshot().reported;
    expect(r).toEqual({ fractionLostPercent: 25, cumulativeLost: 12, jitterMs: 10, at: 1000 });
    s.rtcpReport(rr(0, 12, 8), 1100); // within 500 ms: not parsed
    expect(s.snapshot().reported?.jitterMs).toBe(10);
    s.rtcpReport(rr(0, 12, 8), 1600);
    expect(s.snapshot().reported?.jitterMs).toBe(1);
    s.rtcpReport(Buffer.from([0x81, 201, 0, 99]), 3000); // broken framing: ignored
    expect(s.snapshot().reported?.at).toBe(1600);
  });

  it('counts drop reasons, bounded', () => {
    const s = new SideStats();
    s.dropReason('auth');
    s.dropReason('auth');
    s.dropReason('replay');
    s.dropReason(null);
    for (let i = 0; i < 100; i++) s.dropReason(`r${i}`);
    const reasons = s.snapshot().drops.reasons;
    expect(reasons.auth).toBe(2);
    expect(reasons.replay).toBe(1);
    expect(reasons.unspecified).toBe(1);
    expect(Object.keys(reasons).length).toBe(16);
  });

  it('snapshot is a plain copy with loss in percent', () => {
    const s = new SideStats();
    feed(s.receive, [1, 2, 4, 5]);
    s.rtp.packetsIn = 4;
    const snap = s.snapshot();
    s.rtp.packetsIn = 99;
    expect(snap.rtp.packetsIn).toBe(4);
    expect(snap.receive).toMatchObject({ ssrc: SSRC, expected: 5, received: 4, lost: 1, lossPercent: 20 });
    expect(JSON.parse(JSON.stringify(snap))).toEqual(snap);
  });
});
