import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { AesCm, KDF_LABEL, deriveKey } from '../../../src/media/srtp-kdf.ts';
import {
  DEFAULT_SRTP_LIFETIME, SRTP_SUITES, SrtpSession, generateKeySalt, isSrtpSuiteName, type SrtpSessionOptions,
} from '../../../src/media/srtp.ts';
import { SUITES, forEachEngine, g711, pair, rtcp } from './srtp-helpers.ts';

forEachEngine(() => {
  describe('suite table and key generation', () => {
    it('lists the RFC 4568 / RFC 6188 parameters', () => {
      expect(SRTP_SUITES.AES_CM_128_HMAC_SHA1_80).toMatchObject({ keyLength: 16, saltLength: 14, rtpTagLength: 10, rtcpTagLength: 10 });
      expect(SRTP_SUITES.AES_CM_128_HMAC_SHA1_32).toMatchObject({ keyLength: 16, rtpTagLength: 4, rtcpTagLength: 10 });
      expect(SRTP_SUITES.AES_256_CM_HMAC_SHA1_80).toMatchObject({ keyLength: 32, rtpTagLength: 10 });
      expect(SRTP_SUITES.AES_256_CM_HMAC_SHA1_32).toMatchObject({ keyLength: 32, rtpTagLength: 4, rtcpTagLength: 10 });
      expect(isSrtpSuiteName('AES_CM_128_HMAC_SHA1_80')).toBe(true);
      expect(isSrtpSuiteName('AES_192_CM_HMAC_SHA1_80')).toBe(false);
      expect(isSrtpSuiteName('toString')).toBe(false);
    });

    it('generates random keys and salts of the suite lengths', () => {
      for (const suite of SUITES) {
        const a = generateKeySalt(suite);
        const b = generateKeySalt(suite);
        expect(a.masterKey.length).toBe(SRTP_SUITES[suite].keyLength);
        expect(a.masterSalt.length).toBe(14);
        expect(a.masterKey.equals(b.masterKey)).toBe(false);
      }
    });
  });

  describe('option validation', () => {
    const { masterKey, masterSalt } = generateKeySalt('AES_CM_128_HMAC_SHA1_80');
    const base: SrtpSessionOptions = { suite: 'AES_CM_128_HMAC_SHA1_80', masterKey, masterSalt };
    const cases: [Partial<SrtpSessionOptions> | Record<string, unknown>, RegExp][] = [
      [{ suite: 'AES_CM_128_HMAC_SHA1_81' }, /suite/],
      [{ masterKey: Buffer.alloc(32) }, /masterKey must be 16 bytes/],
      [{ masterKey: 'x'.repeat(16) }, /masterKey must be a Buffer/],
      [{ masterSalt: Buffer.alloc(12) }, /masterSalt must be 14 bytes/],
      [{ mki: Buffer.alloc(5) }, /mki must be 0–4 bytes/],
      [{ replayWindow: 16 }, /replayWindow/],
      [{ lifetime: 0 }, /lifetime/],
      [{ lifetime: 2 ** 49 }, /lifetime/],
      [{ keyDerivationRate: 3 }, /keyDerivationRate must be 0 or a power of two/],
      [{ keyDerivationRate: 2 ** 25 }, /keyDerivationRate/],
      [{ maxSsrcs: 0 }, /maxSsrcs/],
    ];
    for (const [patch, msg] of cases) {
      it(`rejects ${JSON.stringify(patch, (_k, v: unknown) => (typeof v === 'object' && v !== null && 'length' in v && !Array.isArray(v) ? `<${(v as Buffer).length} bytes>` : v))}`, () => {
        expect(() => new SrtpSession({ ...base, ...(patch as Partial<SrtpSessionOptions>) })).toThrow(msg);
      });
    }

    it('does not keep a reference to the caller key buffers', () => {
      const key = Buffer.from(masterKey);
      const salt = Buffer.from(masterSalt);
      const s = new SrtpSession({ ...base, masterKey: key, masterSalt: salt });
      const rx = new SrtpSession(base);
      key.fill(0);
      salt.fill(0);
      expect(rx.unprotectRtp(s.protectRtp(g711(1))!)).not.toBeNull();
    });
  });

  describe('master key lifetime', () => {
    it('defaults to 2^31 packets', () => {
      expect(DEFAULT_SRTP_LIFETIME).toBe(2 ** 31);
      expect(pair().tx.keyUsage).toMatchObject({ srtpLimit: 2 ** 31, srtcpLimit: 2 ** 31, nearExhaustion: false, exhausted: false });
    });

    it('signals ½ lifetime, then refuses the key once the lifetime is used (SRTP)', () => {
      const events: string[] = [];
      const { tx, rx } = pair('AES_CM_128_HMAC_SHA1_80', { lifetime: 5, onKeyLimit: (l, p) => events.push(`${l}:${p}`) });
      const sent: Buffer[] = [];
      for (let i = 0; i < 5; i++) {
        sent.push(tx.protectRtp(g711(i))!);
        expect(tx.keyUsage.nearExhaustion).toBe(i >= 2);
      }
      expect(events).toEqual(['soft:srtp', 'hard:srtp']);
      expect(tx.keyUsage).toMatchObject({ srtpPackets: 5, exhausted: true });
      expect(tx.protectRtp(g711(5))).toBeNull();
      expect(tx.lastDrop).toBe('lifetime');
      expect(tx.stats.lifetimeDrops).toBe(1);
      for (const p of sent) expect(rx.unprotectRtp(p)).not.toBeNull();
      expect(rx.unprotectRtp(sent[0]!)).toBeNull(); // receiver's own count is used up too
      expect(rx.lastDrop).toBe('lifetime');
    });

    it('counts SRTCP separately and never beyond the 2^31 index space', () => {
      const events: string[] = [];
      const { tx } = pair('AES_CM_128_HMAC_SHA1_80', { lifetime: 4, onKeyLimit: (l, p) => events.push(`${l}:${p}`) });
      for (let i = 0; i < 4; i++) expect(tx.protectRtcp(rtcp())).not.toBeNull();
      expect(tx.protectRtcp(rtcp())).toBeNull();
      expect(tx.protectRtp(g711(1))).not.toBeNull();
      expect(events).toEqual(['soft:srtcp', 'hard:srtcp']);
      expect(pair('AES_CM_128_HMAC_SHA1_80', { lifetime: 2 ** 40 }).tx.keyUsage.srtcpLimit).toBe(2 ** 31);
    });

    it('survives a listener that throws', () => {
      const { tx } = pair('AES_CM_128_HMAC_SHA1_80', { lifetime: 2, onKeyLimit: () => { throw new Error('boom'); } });
      expect(tx.protectRtp(g711(1))).not.toBeNull();
      expect(tx.protectRtp(g711(2))).not.toBeNull();
    });
  });

  describe('re-key with continueFrom', () => {
    it('keeps the packet index running across a new master key after a rollover', () => {
      const { tx, rx } = pair();
      for (let s = 65530; s < 65540; s++) rx.unprotectRtp(tx.protectRtp(g711(s & 0xffff))!);
      expect(rx.rolloverCounter(0x11223344, 'unprotect')).toBe(1);
      const rtcpBefore = tx.protectRtcp(rtcp())!;
      rx.unprotectRtcp(rtcpBefore);

      const next = pair();
      next.tx.continueFrom(tx);
      next.rx.continueFrom(rx);
      expect(next.rx.unprotectRtp(next.tx.protectRtp(g711(4))!)?.equals(g711(4))).toBe(true);
      expect(next.tx.rolloverCounter(0x11223344, 'protect')).toBe(1);
      expect(next.tx.protectRtcp(rtcp())!.readUInt32BE(24)).toBe(0x80000001);

      // Without the hand-over the new receiver assumes ROC 0 and the packet fails auth.
      const fresh = new SrtpSession({ suite: 'AES_CM_128_HMAC_SHA1_80', masterKey: next.masterKey, masterSalt: next.masterSalt });
      expect(fresh.unprotectRtp(next.tx.protectRtp(g711(5))!)).toBeNull();
      expect(fresh.lastDrop).toBe('auth');
    });
  });

  describe('key derivation rate', () => {
    it('re-derives session keys every kdr packets and still round-trips with reordering', () => {
      const { tx, rx, masterKey, masterSalt } = pair('AES_CM_128_HMAC_SHA1_80', { keyDerivationRate: 16 });
      const order = [0, 1, 2, 15, 17, 16, 14, 31, 33, 32, 30, 40];
      const sent = new Map<number, Buffer>();
      for (let s = 0; s < 41; s++) sent.set(s, tx.protectRtp(g711(s))!);
      for (const s of order) expect(rx.unprotectRtp(sent.get(s)!)?.equals(g711(s)), `seq ${s}: ${rx.lastDrop}`).toBe(true);
      for (let i = 0; i < 3; i++) expect(rx.unprotectRtcp(tx.protectRtcp(rtcp())!)).not.toBeNull();

      // Packets below kdr use r = 0, i.e. the same keys as key_derivation_rate 0; above it they differ.
      const plain = new SrtpSession({ suite: 'AES_CM_128_HMAC_SHA1_80', masterKey, masterSalt });
      expect(plain.protectRtp(g711(3))!.equals(sent.get(3)!)).toBe(true);
      expect(plain.protectRtp(g711(20))!.equals(sent.get(20)!)).toBe(false);
    });
  });

  describe('secrecy of keys', () => {
    it('never shows master or session keys through inspect, String or JSON, and wipes them on destroy', () => {
      const { tx, masterKey, masterSalt } = pair('AES_CM_128_HMAC_SHA1_80', { mki: Buffer.from([1]) });
      tx.protectRtp(g711(1));
      const cm = new AesCm(masterKey);
      const secrets = [
        masterKey, masterSalt,
        deriveKey(cm, masterSalt, KDF_LABEL.rtpEncryption, 0, 16),
        deriveKey(cm, masterSalt, KDF_LABEL.rtpAuth, 0, 20),
        deriveKey(cm, masterSalt, KDF_LABEL.rtcpAuth, 0, 20),
        deriveKey(cm, masterSalt, KDF_LABEL.rtpSalt, 0, 14),
      ];
      const shown = [
        inspect(tx, { showHidden: true, depth: null }), inspect(tx, { customInspect: false, showHidden: true, depth: null }), String(tx), `${tx}`, JSON.stringify(tx), JSON.stringify({ tx }),
      ].join('\n').toLowerCase();
      expect(shown).toContain('aes_cm_128_hmac_sha1_80');
      for (const s of secrets) {
        expect(shown).not.toContain(s.toString('hex'));
        expect(shown).not.toContain(s.subarray(0, 6).toString('hex').replace(/(..)/g, '$1 ').trim());
        expect(shown).not.toContain(s.toString('base64').slice(0, 12).toLowerCase());
      }
      tx.destroy();
      expect(tx.destroyed).toBe(true);
      expect(tx.protectRtp(g711(2))).toBeNull();
      expect(tx.lastDrop).toBe('destroyed');
      expect(String(tx)).toContain('destroyed');
    });
  });
});
