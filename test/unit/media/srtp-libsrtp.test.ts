import { describe, expect, it } from 'vitest';
import { SrtpSession } from '../../../src/media/srtp.ts';
import { LIBSRTP_CASES, type LibsrtpCase } from './libsrtp-vectors.ts';
import { forEachEngine } from './srtp-helpers.ts';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');

function session(c: LibsrtpCase): SrtpSession {
  return new SrtpSession({
    suite: c.suite, masterKey: hex(c.key), masterSalt: hex(c.salt),
    mki: c.mki === undefined ? undefined : hex(c.mki), encryptRtcp: c.encryptRtcp ?? true,
  });
}

forEachEngine(() => {
  describe('interop with libsrtp-protected packets', () => {
    it("reproduces libsrtp's own AES_CM_128_HMAC_SHA1_80 self-test packet, both ways", () => {
      // The packet libsrtp's own srtp_driver uses for its AES-CM-128 self test.
      const s = new SrtpSession({
        suite: 'AES_CM_128_HMAC_SHA1_80', masterKey: hex('e1f97a0d3e018be0d64fa32c06de4139'), masterSalt: hex('0ec675ad498afeebb6960b3aabe6'),
      });
      const plain = hex('800f1234decafbadcafebabe' + 'ab'.repeat(16));
      const srtp = hex('800f1234decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402b78d6acc99ea179b8dbb');
      expect(s.protectRtp(plain)!.toString('hex')).toBe(srtp.toString('hex'));
      const rx = new SrtpSession({
        suite: 'AES_CM_128_HMAC_SHA1_80', masterKey: hex('e1f97a0d3e018be0d64fa32c06de4139'), masterSalt: hex('0ec675ad498afeebb6960b3aabe6'),
      });
      expect(rx.unprotectRtp(srtp)!.toString('hex')).toBe(plain.toString('hex'));
    });

    for (const c of LIBSRTP_CASES) {
      const label = `${c.suite}${c.mki ? ` mki ${c.mki}` : ''}${c.encryptRtcp === false ? ' UNENCRYPTED_SRTCP' : ''}`;

      it(`${label}: our protect is byte-identical to libsrtp's, including across ROC rollover`, () => {
        const tx = session(c);
        c.rtp.forEach((p, i) => expect(tx.protectRtp(hex(p))!.toString('hex'), `packet ${i}`).toBe(c.srtp[i]));
      });

      it(`${label}: we unprotect libsrtp's SRTP and SRTCP`, () => {
        const rx = session(c);
        c.srtp.forEach((p, i) => expect(rx.unprotectRtp(hex(p))?.toString('hex'), `srtp ${i}: ${rx.lastDrop}`).toBe(c.rtp[i]));
        c.srtcp.forEach((p, i) => expect(rx.unprotectRtcp(hex(p))?.toString('hex'), `srtcp ${i}: ${rx.lastDrop}`).toBe(c.rtcp[i]));
        expect(rx.stats.authFailures).toBe(0);
      });

      it(`${label}: our SRTCP with libsrtp's index is byte-identical`, () => {
        const tx = session(c);
        tx.protectRtcp(hex(c.rtcp[0]!)); // index 0; libsrtp starts at 1
        c.rtcp.forEach((p, i) => expect(tx.protectRtcp(hex(p))!.toString('hex'), `srtcp ${i}`).toBe(c.srtcp[i]));
      });
    }
  });
});
