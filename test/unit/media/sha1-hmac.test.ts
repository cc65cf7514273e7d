import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Sha1Hmac } from '../../../src/media/sha1-hmac.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('Sha1Hmac (HMAC-SHA1 in JS)', () => {
  it('reproduces the RFC 2202 §3 test cases 1, 2 and 6', () => {
    expect(hex(new Sha1Hmac(Buffer.alloc(20, 0x0b)).mac(Buffer.from('Hi There'), 8, 0, false)))
      .toBe('b617318655057264e28bc0b6fb378c8ef146be00');
    const data = Buffer.from('what do ya want for nothing?');
    expect(hex(new Sha1Hmac(Buffer.from('Jefe')).mac(data, data.length, 0, false))).toBe('effcdf6ae5eb2fa2d27416d5f184df9c259a7c79');
    // Case 6's key is 80 bytes, longer than a block: refused (SRTP keys are 20).
    expect(() => new Sha1Hmac(Buffer.alloc(80, 0xaa))).toThrow(/64 bytes/);
    const c3 = new Sha1Hmac(Buffer.alloc(20, 0xaa)).mac(Buffer.alloc(50, 0xdd), 50, 0, false);
    expect(hex(c3)).toBe('125d7342b9ac11cd91a39af48aa17b4f63f175d3');
  });

  it('equals node:crypto for every length around the padding boundaries, with and without the trailer', () => {
    const key = crypto.randomBytes(20);
    const h = new Sha1Hmac(key);
    const data = crypto.randomBytes(300);
    const trailer = Buffer.from('fedcba98', 'hex');
    for (let len = 0; len <= 300; len++) {
      const plain = crypto.createHmac('sha1', key).update(data.subarray(0, len)).digest('hex');
      expect(hex(h.mac(data, len, 0, false)), `len ${len}`).toBe(plain);
      const withRoc = crypto.createHmac('sha1', key).update(data.subarray(0, len)).update(trailer).digest('hex');
      expect(hex(h.mac(data, len, 0xfedcba98, true)), `len ${len} + trailer`).toBe(withRoc);
    }
  });

  it('takes keys up to the 64-byte block and forgets them on wipe', () => {
    const key = crypto.randomBytes(64);
    const h = new Sha1Hmac(key);
    const msg = Buffer.from('abc');
    expect(hex(h.mac(msg, 3, 0, false))).toBe(crypto.createHmac('sha1', key).update(msg).digest('hex'));
    h.wipe();
    expect(hex(h.mac(msg, 3, 0, false))).not.toBe(crypto.createHmac('sha1', key).update(msg).digest('hex'));
  });
});
