import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AesCm, KDF_LABEL, deriveKey, writeIv } from '../../../src/media/srtp-kdf.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('AES-CM keystream (RFC 3711 B.2)', () => {
  it('reproduces the Appendix B.2 keystream at both ends of the 65282-block segment', () => {
    const cm = new AesCm(hex('2B7E151628AED2A6ABF7158809CF4F3C'));
    const ks = cm.keystream(hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000'), 1044512);
    expect(ks.length).toBe(1044512);
    const block = (n: number): string => ks.subarray(n * 16, n * 16 + 16).toString('hex').toUpperCase();
    expect(block(0)).toBe('E03EAD0935C95E80E166B16DD92B4EB4');
    expect(block(1)).toBe('D23513162B02D0F72A43A2FE4A5F97AB');
    expect(block(2)).toBe('41E95B3BB0A2E8DD477901E4FCA894C0');
    expect(block(0xfeff)).toBe('EC8CDF7398607CB0F2D21675EA9EA1E4');
    expect(block(0xff00)).toBe('362B7C3C6773516318A077D7FC5073AE');
    expect(block(0xff01)).toBe('6A2CC3787889374FBEB4C81B17BA6C44');
  });

  it('matches OpenSSL aes-ctr for every key size, odd lengths and in-place use', () => {
    for (const keyLen of [16, 24, 32]) {
      const key = crypto.randomBytes(keyLen);
      const cm = new AesCm(key, 16);
      for (const len of [1, 15, 16, 17, 160, 1500, 5000]) {
        const iv = Buffer.concat([crypto.randomBytes(14), Buffer.alloc(2)]);
        const data = crypto.randomBytes(len);
        const ref = crypto.createCipheriv(`aes-${keyLen * 8}-ctr`, key, iv).update(data);
        const out = Buffer.alloc(len + 3, 0xee);
        cm.xor(iv, data, 0, len, out, 3);
        expect(out.subarray(3).toString('hex')).toBe(ref.toString('hex'));
        expect(out.subarray(0, 3).toString('hex')).toBe('eeeeee');
        const inPlace = Buffer.from(data);
        cm.xor(iv, inPlace, 0, len, inPlace, 0);
        expect(inPlace.equals(ref)).toBe(true);
      }
    }
  });

  it('refuses a key of the wrong size', () => {
    expect(() => new AesCm(Buffer.alloc(20))).toThrow(/16, 24 or 32 bytes/);
  });
});

describe('key derivation (RFC 3711 B.3, RFC 6188 §7)', () => {
  it('derives the Appendix B.3 cipher key, salt and full 94-byte auth key', () => {
    const master = new AesCm(hex('E1F97A0D3E018BE0D64FA32C06DE4139'));
    const salt = hex('0EC675AD498AFEEBB6960B3AABE6');
    expect(deriveKey(master, salt, KDF_LABEL.rtpEncryption, 0, 16)).toEqual(hex('C61E7A93744F39EE10734AFE3FF7A087'));
    expect(deriveKey(master, salt, KDF_LABEL.rtpSalt, 0, 14)).toEqual(hex('30CBBC08863D8C85D49DB34A9AE1'));
    expect(deriveKey(master, salt, KDF_LABEL.rtpAuth, 0, 94)).toEqual(
      hex(`CEBE321F6FF7716B6FD4AB49AF256A15 6D38BAA48F0A0ACF3C34E2359E6CDBCE
           E049646C43D9327AD175578EF7227098 6371C10C9A369AC2F94A8C5FBCDDDC25
           6D6E919A48B610EF17C2041E47403576 6B68642C59BBFC2F34DB60DBDFB2`),
    );
  });

  it('derives the RFC 6188 §7.2 AES_256_CM_PRF vectors', () => {
    const master = new AesCm(hex('f0f04914b513f2763a1b1fa130f10e2998f6f6e43e4309d1e622a0e332b9f1b6'));
    const salt = hex('3b04803de51ee7c96423ab5b78d2');
    expect(deriveKey(master, salt, 0, 0, 32)).toEqual(hex('5ba1064e30ec51613cad926c5a28ef731ec7fb397f70a960653caf06554cd8c4'));
    expect(deriveKey(master, salt, 2, 0, 14)).toEqual(hex('fa31791685ca444a9e07c6c64e93'));
    expect(deriveKey(master, salt, 1, 0, 20)).toEqual(hex('fd9c32d39ed5fbb5a9dc96b30818454d1313dc05'));
  });

  it('derives the RFC 6188 §7.4 AES_192_CM_PRF vectors (primitive only; the suite is not offered)', () => {
    const master = new AesCm(hex('73edc66c4fa15776fb57f9505c17136550ffda71f3e8e5f1'));
    const salt = hex('c8522f3acd4ce86d5add78edbb11');
    expect(deriveKey(master, salt, 0, 0, 24)).toEqual(hex('31874736a8f1143870c26e4857d8a5b2c4a354407faadabb'));
    expect(deriveKey(master, salt, 2, 0, 14)).toEqual(hex('2372b82d639b6d8503a47adc0a6c'));
    expect(deriveKey(master, salt, 1, 0, 20)).toEqual(hex('355b10973cd95b9eacf4061c7e1a7151e7cfbfcb'));
  });

  it('places r = index DIV kdr as NIST SP 800-135 SRTP-KDF vectors expect (SRTP labels)', () => {
    // NIST CAVS SRTP KDF case with kdr = 1, so r is the 48-bit index itself.
    const master = new AesCm(hex('8C307F105F79D5D2C26B1A933AE22CD5'));
    const salt = hex('563B4C15458D977B68080242CEE1');
    const r = 0x08284b49f520;
    expect(deriveKey(master, salt, 0, r, 16)).toEqual(hex('A920DF50EAA111D03FBE9B203121C07D'));
    expect(deriveKey(master, salt, 1, r, 20)).toEqual(hex('A337DC070C0DAFA942F1E3A27ACD3C9917CE4B4D'));
    expect(deriveKey(master, salt, 2, r, 14)).toEqual(hex('9E2BC99C86037F2AD98D72927428'));
  });

  it('refuses a master salt that is not 14 bytes', () => {
    expect(() => deriveKey(new AesCm(Buffer.alloc(16)), Buffer.alloc(12), 0, 0, 16)).toThrow(/14 bytes/);
  });
});

describe('writeIv (RFC 3711 §4.1.1)', () => {
  it('is (k_s * 2^16) XOR (SSRC * 2^64) XOR (index * 2^16), computed independently with BigInt', () => {
    const big = (b: Buffer): bigint => BigInt('0x' + b.toString('hex'));
    for (let i = 0; i < 200; i++) {
      const salt = crypto.randomBytes(14);
      const ssrc = crypto.randomBytes(4).readUInt32BE(0);
      const roc = i === 0 ? 0xffffffff : crypto.randomBytes(4).readUInt32BE(0);
      const seq = i === 0 ? 0xffff : crypto.randomBytes(2).readUInt16BE(0);
      const index = (BigInt(roc) << 16n) | BigInt(seq);
      const expected = (big(salt) << 16n) ^ (BigInt(ssrc) << 64n) ^ (index << 16n);
      const iv = Buffer.alloc(16, 0xaa);
      writeIv(iv, salt, ssrc, roc, seq);
      expect(big(iv)).toBe(expected);
    }
  });
});
