import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildRtpPacket } from '../../../src/media/rtp.ts';
import { SRTP_SUITES, SrtpSession } from '../../../src/media/srtp.ts';
import { SUITES, forEachEngine, g711, pair, rtcp } from './srtp-helpers.ts';

forEachEngine(() => {
  describe('SRTP round trips', () => {
    for (const suite of SUITES) {
      for (const mki of [undefined, Buffer.from('01', 'hex'), Buffer.from('a1b2c3d4', 'hex')]) {
        for (const [encryptRtp, authRtp] of [[true, true], [false, true], [true, false]] as const) {
          const name = `${suite} mki=${mki?.toString('hex') ?? '-'} encrypt=${encryptRtp} auth=${authRtp}`;
          it(name, () => {
            const { tx, rx } = pair(suite, { mki, encryptRtp, authRtp });
            const tag = authRtp ? SRTP_SUITES[suite].rtpTagLength : 0;
            for (let seq = 65530; seq < 65545; seq++) {
              const plain = g711(seq);
              const srtp = tx.protectRtp(plain)!;
              expect(srtp.length).toBe(plain.length + (mki?.length ?? 0) + tag);
              expect(srtp.subarray(0, 12).equals(plain.subarray(0, 12))).toBe(true);
              expect(srtp.subarray(12, plain.length).equals(plain.subarray(12))).toBe(!encryptRtp);
              if (mki) expect(srtp.subarray(plain.length, plain.length + mki.length).equals(mki)).toBe(true);
              expect(rx.unprotectRtp(srtp)?.equals(plain), `seq ${seq}: ${rx.lastDrop}`).toBe(true);
            }
            expect(rx.stats.rtpUnprotected).toBe(15);
            expect(tx.stats.rtpProtected).toBe(15);
          });
        }
      }
    }

    it('keeps CSRCs, the header extension and padding in the clear and authenticated', () => {
      const { tx, rx } = pair('AES_CM_128_HMAC_SHA1_80');
      const plain = buildRtpPacket({
        payloadType: 96, sequenceNumber: 7, timestamp: 1, ssrc: 9, csrcs: [1, 2, 3],
        extension: { profile: 0xbede, data: Buffer.from('10ff0000', 'hex') }, padding: 4, payload: Buffer.alloc(20, 0x77),
      });
      const srtp = tx.protectRtp(plain)!;
      const hl = 12 + 12 + 8;
      expect(srtp.subarray(0, hl).equals(plain.subarray(0, hl))).toBe(true);
      expect(srtp.subarray(hl, plain.length).equals(plain.subarray(hl))).toBe(false);
      const bad = Buffer.from(srtp);
      bad[hl - 2]! ^= 1; // inside the extension
      expect(rx.unprotectRtp(bad)).toBeNull();
      expect(rx.lastDrop).toBe('auth');
      expect(rx.unprotectRtp(srtp)!.equals(plain)).toBe(true);
    });

    it('handles several SSRCs in one session with independent rollover counters', () => {
      const { tx, rx } = pair();
      for (let seq = 65534; seq < 65534 + 4; seq++) {
        expect(rx.unprotectRtp(tx.protectRtp(g711(seq & 0xffff, 1))!)).not.toBeNull();
      }
      expect(rx.unprotectRtp(tx.protectRtp(g711(100, 2))!)!.equals(g711(100, 2))).toBe(true);
      expect(rx.rolloverCounter(1, 'unprotect')).toBe(1);
      expect(tx.rolloverCounter(1, 'protect')).toBe(1);
      expect(rx.rolloverCounter(2, 'unprotect')).toBe(0);
      expect(rx.rolloverCounter(3, 'unprotect')).toBeUndefined();
    });
  });

  describe('rollover counter (RFC 3711 §3.3.1, Appendix A)', () => {
    it('follows 65535 → 0 with reordering around the wrap, in both directions of the wrap', () => {
      const { tx, rx } = pair();
      const sent = new Map<number, Buffer>();
      for (let i = 0; i < 12; i++) {
        const seq = (65530 + i) & 0xffff;
        sent.set(i, tx.protectRtp(g711(seq))!);
      }
      // Delivery order: late packets from before the wrap arrive after ones from after it.
      const order = [0, 1, 3, 2, 6, 4, 7, 5, 9, 8, 11, 10];
      for (const i of order) {
        const out = rx.unprotectRtp(sent.get(i)!);
        expect(out?.equals(g711((65530 + i) & 0xffff)), `packet ${i}: ${rx.lastDrop}`).toBe(true);
      }
      expect(rx.rolloverCounter(0x11223344, 'unprotect')).toBe(1);
      expect(rx.stats.replayDrops + rx.stats.authFailures).toBe(0);
    });

    it('stays in step over several wraps with 20% loss and local reordering', () => {
      const { tx, rx } = pair('AES_CM_128_HMAC_SHA1_32');
      let rnd = 12345;
      const next = (): number => ((rnd = (Math.imul(rnd, 1103515245) + 12345) >>> 0) / 0x100000000);
      let held: Buffer | null = null;
      let delivered = 0;
      const template = g711(0);
      // From 65500, two wraps take 65572 packets.
      for (let n = 65500; n < 65500 + 66_000; n++) {
        template.writeUInt16BE(n & 0xffff, 2);
        const p = tx.protectRtp(template)!;
        if (next() < 0.2) continue;
        if (held === null && next() < 0.1) {
          held = p;
          continue;
        }
        if (rx.unprotectRtp(p) === null) throw new Error(`packet ${n} refused: ${rx.lastDrop}`);
        delivered++;
        if (held !== null) {
          if (rx.unprotectRtp(held) === null) throw new Error(`held packet before ${n} refused: ${rx.lastDrop}`);
          held = null;
          delivered++;
        }
      }
      expect(rx.rolloverCounter(0x11223344, 'unprotect')).toBe(2);
      expect(rx.stats.rtpUnprotected).toBe(delivered);
      expect(delivered).toBeGreaterThan(45_000);
    }, 60_000);

    it('treats a jump of more than 2^15 at ROC 0 as forward (there is no earlier cycle)', () => {
      const { tx, rx, masterKey, masterSalt } = pair();
      rx.unprotectRtp(tx.protectRtp(g711(10))!);
      // A sender that started at 40011 (ROC 0): more than 2^15 ahead of s_l = 10.
      const late = new SrtpSession({ suite: 'AES_CM_128_HMAC_SHA1_80', masterKey, masterSalt });
      expect(rx.unprotectRtp(late.protectRtp(g711(40011))!)?.equals(g711(40011))).toBe(true);
      expect(rx.rolloverCounter(0x11223344, 'unprotect')).toBe(0);
      // 11 is now read as the next cycle (ROC 1), which the old sender did not use.
      expect(rx.unprotectRtp(tx.protectRtp(g711(11))!)).toBeNull();
      expect(rx.lastDrop).toBe('auth');
      expect(rx.rolloverCounter(0x11223344, 'unprotect')).toBe(0);
    });
  });

  describe('replay protection', () => {
    it('drops duplicates and packets a window behind, accepts in-window reordering', () => {
      const { tx, rx } = pair('AES_CM_128_HMAC_SHA1_80');
      const p = Array.from({ length: 200 }, (_, i) => tx.protectRtp(g711(1000 + i))!);
      expect(rx.unprotectRtp(p[100]!)).not.toBeNull();
      expect(rx.unprotectRtp(p[100]!)).toBeNull();
      expect(rx.lastDrop).toBe('replay');
      expect(rx.unprotectRtp(p[37]!)).not.toBeNull(); // 63 behind: inside
      expect(rx.unprotectRtp(p[36]!)).toBeNull(); // 64 behind: outside
      expect(rx.lastDrop).toBe('replay');
      expect(rx.unprotectRtp(p[99]!)).not.toBeNull();
      expect(rx.unprotectRtp(p[99]!)).toBeNull();
      expect(rx.stats.replayDrops).toBe(3);
      expect(rx.stats.authFailures).toBe(0);
    });

    it('uses the configured window size', () => {
      const { tx, rx } = pair('AES_CM_128_HMAC_SHA1_80', { replayWindow: 256 });
      const p = Array.from({ length: 300 }, (_, i) => tx.protectRtp(g711(i))!);
      rx.unprotectRtp(p[299]!);
      expect(rx.unprotectRtp(p[44]!)).not.toBeNull(); // 255 behind
      expect(rx.unprotectRtp(p[43]!)).toBeNull();
    });

    it('drops replayed SRTCP by index', () => {
      const { tx, rx } = pair();
      const a = tx.protectRtcp(rtcp())!;
      const b = tx.protectRtcp(rtcp())!;
      expect(rx.unprotectRtcp(b)).not.toBeNull();
      expect(rx.unprotectRtcp(a)).not.toBeNull();
      expect(rx.unprotectRtcp(a)).toBeNull();
      expect(rx.lastDrop).toBe('replay');
    });
  });

  describe('authentication and MKI', () => {
    it('refuses any single flipped bit in header, payload or tag', () => {
      for (const suite of SUITES) {
        const { tx, rx } = pair(suite);
        const srtp = tx.protectRtp(g711(5))!;
        for (const at of [0, 1, 3, 8, 11, 12, 100, srtp.length - 5, srtp.length - 1]) {
          const bad = Buffer.from(srtp);
          bad[at]! ^= 0x10;
          expect(rx.unprotectRtp(bad), `${suite} byte ${at}`).toBeNull();
        }
        expect(rx.stats.authFailures).toBeGreaterThanOrEqual(7);
        expect(rx.unprotectRtp(srtp)!.equals(g711(5))).toBe(true);
      }
    });

    it('does not let a forged packet move the ROC or the replay window', () => {
      const { tx, rx } = pair();
      rx.unprotectRtp(tx.protectRtp(g711(65000))!);
      const forged = Buffer.from(tx.protectRtp(g711(65001))!);
      forged.writeUInt16BE(200, 2); // claims to be past the wrap
      expect(rx.unprotectRtp(forged)).toBeNull();
      expect(rx.rolloverCounter(0x11223344, 'unprotect')).toBe(0);
      for (let s = 65002; s < 65010; s++) expect(rx.unprotectRtp(tx.protectRtp(g711(s))!)).not.toBeNull();
    });

    it('refuses SRTCP with a flipped bit, including in the E flag / index word', () => {
      const { tx, rx } = pair('AES_CM_128_HMAC_SHA1_32');
      const p = tx.protectRtcp(rtcp())!;
      expect(p.length).toBe(24 + 4 + 10); // SRTCP keeps an 80-bit tag with the _32 suite
      for (const at of [1, 9, 23, 25, 27, p.length - 1]) {
        const bad = Buffer.from(p);
        bad[at]! ^= 1;
        expect(rx.unprotectRtcp(bad), `byte ${at}`).toBeNull();
      }
      expect(rx.unprotectRtcp(p)!.equals(rtcp())).toBe(true);
    });

    it('checks the MKI on SRTP and SRTCP', () => {
      const { tx, rx } = pair('AES_CM_128_HMAC_SHA1_80', { mki: Buffer.from([1]) });
      const srtp = tx.protectRtp(g711(1))!;
      const srtcp = tx.protectRtcp(rtcp())!;
      const other = Buffer.from(srtp);
      other[172] = 2;
      expect(rx.unprotectRtp(other)).toBeNull();
      expect(rx.lastDrop).toBe('mki');
      const otherRtcp = Buffer.from(srtcp);
      otherRtcp[24 + 4] = 2;
      expect(rx.unprotectRtcp(otherRtcp)).toBeNull();
      expect(rx.lastDrop).toBe('mki');
      expect(rx.stats.mkiMismatches).toBe(2);
      expect(rx.unprotectRtp(srtp)).not.toBeNull();
      expect(rx.unprotectRtcp(srtcp)).not.toBeNull();
    });
  });

  describe('SRTCP (RFC 3711 §3.4) and RFC 4568 session parameters', () => {
    it('sets the E flag and counts the SRTCP index up from 0', () => {
      const { tx, rx } = pair();
      for (let i = 0; i < 3; i++) {
        const p = tx.protectRtcp(rtcp())!;
        expect(p.readUInt32BE(24)).toBe(0x80000000 + i);
        expect(p.subarray(8, 24).equals(rtcp().subarray(8))).toBe(false);
        expect(rx.unprotectRtcp(p)!.equals(rtcp())).toBe(true);
      }
    });

    it('UNENCRYPTED_SRTCP: E flag clear, body in the clear, still authenticated', () => {
      const { tx, rx } = pair('AES_CM_128_HMAC_SHA1_80', { encryptRtcp: false });
      const p = tx.protectRtcp(rtcp())!;
      expect(p.readUInt32BE(24)).toBe(0);
      expect(p.subarray(0, 24).equals(rtcp())).toBe(true);
      const bad = Buffer.from(p);
      bad[20]! ^= 1;
      expect(rx.unprotectRtcp(bad)).toBeNull();
      expect(rx.lastDrop).toBe('auth');
      expect(rx.unprotectRtcp(p)!.equals(rtcp())).toBe(true);
    });

    it('refuses unencrypted SRTCP when encrypted SRTCP is required (EC-02), accepts encrypted when it is not', () => {
      const key = pair('AES_CM_128_HMAC_SHA1_80');
      const opts = { suite: 'AES_CM_128_HMAC_SHA1_80' as const, masterKey: key.masterKey, masterSalt: key.masterSalt };
      const plainSender = pair('AES_CM_128_HMAC_SHA1_80', { ...opts, encryptRtcp: false }).tx;
      expect(key.rx.unprotectRtcp(plainSender.protectRtcp(rtcp())!)).toBeNull();
      expect(key.rx.lastDrop).toBe('policy');
      expect(key.rx.stats.policyDrops).toBe(1);
      const lenient = pair('AES_CM_128_HMAC_SHA1_80', { ...opts, encryptRtcp: false }).rx;
      expect(lenient.unprotectRtcp(key.tx.protectRtcp(rtcp())!)!.equals(rtcp())).toBe(true);
    });

    it('UNENCRYPTED_SRTP leaves the payload readable but detects tampering', () => {
      const { tx, rx } = pair('AES_CM_128_HMAC_SHA1_80', { encryptRtp: false });
      const p = tx.protectRtp(g711(3))!;
      expect(p.subarray(0, 172).equals(g711(3))).toBe(true);
      const bad = Buffer.from(p);
      bad[50]! ^= 1;
      expect(rx.unprotectRtp(bad)).toBeNull();
    });

    it('UNAUTHENTICATED_SRTP sends no SRTP tag but SRTCP keeps its tag', () => {
      const { tx, rx } = pair('AES_CM_128_HMAC_SHA1_80', { authRtp: false });
      expect(tx.protectRtp(g711(3))!.length).toBe(172);
      expect(tx.protectRtcp(rtcp())!.length).toBe(24 + 4 + 10);
      expect(rx.unprotectRtp(tx.protectRtp(g711(4))!)!.equals(g711(4))).toBe(true);
    });
  });

  describe('malformed input and buffers', () => {
    it('never throws on arbitrary bytes, for all four operations', () => {
      const { tx, rx } = pair('AES_CM_128_HMAC_SHA1_80', { mki: Buffer.from([7]) });
      for (let i = 0; i < 3000; i++) {
        const junk = crypto.randomBytes(i % 80);
        if (i % 2 === 0 && junk.length > 0) junk[0] = 0x80 | (junk[0]! & 0x3f);
        tx.protectRtp(junk);
        tx.protectRtcp(junk);
        expect(rx.unprotectRtp(junk)).toBeNull();
        expect(rx.unprotectRtcp(junk)).toBeNull();
      }
      expect(rx.stats.rtpUnprotected + rx.stats.rtcpUnprotected).toBe(0);
      expect(rx.stats.malformed).toBeGreaterThan(0);
      expect(tx.protectRtp(Buffer.from('4000000100000000deadbeef', 'hex'))).toBeNull();
      expect(tx.lastDrop).toBe('malformed');
    });

    it('writes into a caller buffer, in place, and allocates when the buffer is too small', () => {
      const { tx, rx } = pair();
      const work = Buffer.alloc(1500);
      g711(9).copy(work);
      const srtp = tx.protectRtp(work.subarray(0, 172), work)!;
      expect(srtp.buffer).toBe(work.buffer);
      expect(srtp.length).toBe(182);
      const plain = rx.unprotectRtp(srtp, srtp)!;
      expect(plain.buffer).toBe(work.buffer);
      expect(plain.equals(g711(9))).toBe(true);
      const small = Buffer.alloc(10);
      const fresh = tx.protectRtp(g711(10), small)!;
      expect(fresh.buffer).not.toBe(small.buffer);
      expect(rx.unprotectRtp(fresh)!.equals(g711(10))).toBe(true);
      const input = tx.protectRtp(g711(11))!;
      const copy = Buffer.from(input);
      rx.unprotectRtp(input);
      expect(input.equals(copy)).toBe(true); // without `out` the input is left alone
    });

    it('refuses SSRCs beyond maxSsrcs without disturbing the known ones', () => {
      const { tx, masterKey, masterSalt } = pair('AES_CM_128_HMAC_SHA1_80', { maxSsrcs: 8 });
      const small = { suite: 'AES_CM_128_HMAC_SHA1_80' as const, masterKey, masterSalt, maxSsrcs: 2 };
      const limitedTx = new SrtpSession(small);
      expect(limitedTx.protectRtp(g711(1, 1))).not.toBeNull();
      expect(limitedTx.protectRtp(g711(1, 2))).not.toBeNull();
      expect(limitedTx.protectRtp(g711(1, 3))).toBeNull();
      expect(limitedTx.lastDrop).toBe('ssrc-limit');
      const rx = new SrtpSession(small);
      for (const ssrc of [1, 2, 3]) rx.unprotectRtp(tx.protectRtp(g711(1, ssrc))!);
      expect(rx.stats.ssrcLimitDrops).toBe(1);
      expect(rx.stats.rtpUnprotected).toBe(2);
      expect(rx.unprotectRtp(tx.protectRtp(g711(2, 1))!)).not.toBeNull();
    });
  });
});
