// a=crypto (RFC 4568): real-world line shapes round-trip exactly, every
// validation error names its cause, and key material never reaches logs.
// Keys here are random bytes made up for these tests.
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  KeyMaterial,
  SRTP_SUITES,
  formatCrypto,
  generateKeySalt,
  makeCrypto,
  makeCryptoAttribute,
  masterKeys,
  parseCrypto,
  redactCrypto,
  redactSdp,
} from '../../../src/sdp/index.ts';
import type { SdesCrypto } from '../../../src/sdp/index.ts';

const K1 = 'mIJj73XlBiVp5A8QCuo6X55kQ2OgdPsRARv88pAF';
const K2 = 'rstpbyf9cap16tBx+mt59ZcuMQVfKtkoW5sqCSE8';
const K3 = 'UWHlywCTxyVGImdHypv74WXGZ3c9iYQaRHEaH2vm';
const K256 = 'dbslHSlZLcmuBoNO7XqGuDSMHjNrkTdx9crGtGHJXRWf/cYoFT3nZAIUVKK6zA==';
const GCM = 'u3icU5Ll1R19H6GQLhddLqKqL86zIWE27akRAamHoBaDapQN13O/2K3jQ58=';

function ok(value: string): SdesCrypto {
  const r = parseCrypto(value);
  if (!r.ok) throw new Error(`expected ${value} to parse: ${r.reason}`);
  return r.crypto;
}

function reason(value: string): string {
  const r = parseCrypto(value);
  if (r.ok) throw new Error(`expected ${value} to be refused`);
  return r.reason;
}

// Each in the shape the named endpoint writes it.
const REAL_WORLD: Record<string, string> = {
  'baresip srtp-mand 32': `1 AES_CM_128_HMAC_SHA1_32 inline:${K1}`,
  'baresip srtp-mand 80': `2 AES_CM_128_HMAC_SHA1_80 inline:${K2}`,
  'baresip AES-256': `3 AES_256_CM_HMAC_SHA1_80 inline:${K256}`,
  'baresip GCM (unknown suite)': `4 AEAD_AES_256_GCM inline:${GCM}`,
  'linphone 80': `1 AES_CM_128_HMAC_SHA1_80 inline:${K3}`,
  'linphone 256 unpadded': `3 AES_256_CM_HMAC_SHA1_32 inline:${K256.replace(/=+$/, '')}`,
  'Lync MKI and lifetime': `2 AES_CM_128_HMAC_SHA1_80 inline:${K1}|2^31|1:1`,
  'Lync lifetime only': `3 AES_CM_128_HMAC_SHA1_80 inline:${K2}|2^31`,
  'Asterisk 80': `1 AES_CM_128_HMAC_SHA1_80 inline:${K3}`,
  'Asterisk with session params': `1 AES_CM_128_HMAC_SHA1_32 inline:${K2} UNENCRYPTED_SRTCP`,
  'two keys with MKI': `1 AES_CM_128_HMAC_SHA1_80 inline:${K1}|2^20|1:4;inline:${K2}|2^20|2:4 FEC_ORDER=FEC_SRTP`,
  'every session param': `9 AES_CM_128_HMAC_SHA1_80 inline:${K1}|1048576 KDR=0 UNENCRYPTED_SRTP UNAUTHENTICATED_SRTP WSH=128 FEC_KEY=inline:${K2}|2^20 -X_VENDOR=1 Y_OTHER`,
  'F8 (known, unsupported)': `5 F8_128_HMAC_SHA1_80 inline:${K3}|2^31|7:2`,
  'MKI without lifetime': `6 AES_CM_128_HMAC_SHA1_80 inline:${K3}|4294967295:4`,
  'lower-case method and flag': `7 AES_CM_128_HMAC_SHA1_80 INLINE:${K3} unencrypted_srtcp`,
};

describe('parseCrypto / formatCrypto', () => {
  for (const [name, line] of Object.entries(REAL_WORLD)) {
    it(`round-trips exactly: ${name}`, () => {
      expect(formatCrypto(ok(line))).toBe(line);
      expect(formatCrypto(ok(`a=crypto:${line}`))).toBe(line);
    });
  }

  it('reads the Lync line: suite, lifetime 2^31 and a 1-byte MKI of value 1', () => {
    const c = ok(REAL_WORLD['Lync MKI and lifetime'] as string);
    expect(c.tag).toBe(2);
    expect(c.suiteInfo?.name).toBe('AES_CM_128_HMAC_SHA1_80');
    expect(c.keys).toHaveLength(1);
    expect(c.keys[0]?.lifetime).toEqual({ text: '2^31', packets: 2 ** 31 });
    expect(c.keys[0]?.mki).toEqual({ text: '1:1', value: 1, length: 1 });
    expect(c.keys[0]?.key.reveal()).toBe(K1);
  });

  it('reads session parameters into flags and typed entries, keeping unknown ones verbatim', () => {
    const c = ok(REAL_WORLD['every session param'] as string);
    expect(c.unencryptedSrtp).toBe(true);
    expect(c.unauthenticatedSrtp).toBe(true);
    expect(c.unencryptedSrtcp).toBe(false);
    expect(c.kdr).toBe(0);
    expect(c.sessionParams.map((p) => p.kind)).toEqual(['KDR', 'UNENCRYPTED_SRTP', 'UNAUTHENTICATED_SRTP', 'WSH', 'FEC_KEY', 'unknown', 'unknown']);
    const wsh = c.sessionParams[3];
    expect(wsh?.kind === 'WSH' && wsh.size).toBe(128);
    expect(c.keys[0]?.lifetime?.packets).toBe(1048576);
    // "Y_OTHER" has no leading "-": we would have to understand it.
    expect(c.hasMandatoryUnknown).toBe(true);
    expect(ok(`1 AES_CM_128_HMAC_SHA1_80 inline:${K1} -X_VENDOR=1`).hasMandatoryUnknown).toBe(false);
  });

  it('reads several keys with their MKIs', () => {
    const c = ok(REAL_WORLD['two keys with MKI'] as string);
    expect(c.keys.map((k) => k.mki?.value)).toEqual([1, 2]);
    expect(c.keys.map((k) => k.mki?.length)).toEqual([4, 4]);
  });

  it('marks F8 as known but unsupported, and an unknown suite as unknown', () => {
    expect(ok(REAL_WORLD['F8 (known, unsupported)'] as string).suiteInfo?.supported).toBe(false);
    expect(ok(REAL_WORLD['baresip GCM (unknown suite)'] as string).suiteInfo).toBeNull();
    expect(ok(REAL_WORLD['baresip AES-256'] as string).suiteInfo).toMatchObject({ keyLength: 32, saltLength: 14, supported: true });
  });

  it('treats blank runs as one separator', () => {
    expect(formatCrypto(ok(`1  AES_CM_128_HMAC_SHA1_80\tinline:${K1}   UNENCRYPTED_SRTCP`))).toBe(
      `1 AES_CM_128_HMAC_SHA1_80 inline:${K1} UNENCRYPTED_SRTCP`,
    );
  });

  it('keeps an unknown key method for an unknown suite', () => {
    const line = '1 FUTURE_SUITE mikey:opaquedata';
    expect(formatCrypto(ok(line))).toBe(line);
  });
});

describe('parseCrypto validation', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['too few fields', `1 AES_CM_128_HMAC_SHA1_80`, /needs a tag, a crypto suite and key parameters/],
    ['tag 0', `0 AES_CM_128_HMAC_SHA1_80 inline:${K1}`, /tag "0" is not 1-999999999/],
    ['tag of 10 digits', `1000000000 AES_CM_128_HMAC_SHA1_80 inline:${K1}`, /tag .* is not 1-999999999/],
    ['tag not a number', `x AES_CM_128_HMAC_SHA1_80 inline:${K1}`, /tag "x" is not 1-999999999/],
    ['suite with odd characters', `1 AES-CM inline:${K1}`, /suite "AES-CM" is not a suite name/],
    ['bad base64', `1 AES_CM_128_HMAC_SHA1_80 inline:${K1.slice(0, 30)}!!${K1.slice(32)}`, /key is not valid base64/],
    ['base64 of impossible length', `1 AES_CM_128_HMAC_SHA1_80 inline:${K1}A`, /key is not valid base64/],
    ['padding in the middle', `1 AES_CM_128_HMAC_SHA1_80 inline:AB==${K1}`, /key is not valid base64/],
    ['short key', `1 AES_CM_128_HMAC_SHA1_80 inline:${K1.slice(0, 36)}`, /key\|\|salt is 27 bytes, AES_CM_128_HMAC_SHA1_80 needs 30/],
    ['128-bit key for AES-256', `1 AES_256_CM_HMAC_SHA1_80 inline:${K1}`, /is 30 bytes, AES_256_CM_HMAC_SHA1_80 needs 46/],
    ['not inline for SRTP', `1 AES_CM_128_HMAC_SHA1_80 uri:${K1}`, /key method "uri" is not inline/],
    ['no method', `1 AES_CM_128_HMAC_SHA1_80 ${K1}`, /key parameter is not <method>:<info>/],
    ['MKI length 0', `1 AES_CM_128_HMAC_SHA1_80 inline:${K1}|1:0`, /MKI length 0 is not 1-4/],
    ['MKI length 5', `1 AES_CM_128_HMAC_SHA1_80 inline:${K1}|2^31|1:5`, /MKI length 5 is not 1-4/],
    ['MKI value too big for its length', `1 AES_CM_128_HMAC_SHA1_80 inline:${K1}|256:1`, /MKI value 256 does not fit in 1 byte/],
    ['MKI not numbers', `1 AES_CM_128_HMAC_SHA1_80 inline:${K1}|a:1`, /MKI "a:1" is not <value>:<length>/],
    ['lifetime 0', `1 AES_CM_128_HMAC_SHA1_80 inline:${K1}|0`, /lifetime "0" is not 1 to 2\^48/],
    ['lifetime 2^49', `1 AES_CM_128_HMAC_SHA1_80 inline:${K1}|2^49`, /lifetime "2\^49" is not 1 to 2\^48/],
    ['lifetime garbage', `1 AES_CM_128_HMAC_SHA1_80 inline:${K1}|2^x`, /lifetime "2\^x" is neither/],
    ['MKI before lifetime', `1 AES_CM_128_HMAC_SHA1_80 inline:${K1}|1:1|2^31`, /lifetime must come once, before the MKI/],
    ['two lifetimes', `1 AES_CM_128_HMAC_SHA1_80 inline:${K1}|2^31|2^20`, /lifetime must come once/],
    ['too many fields', `1 AES_CM_128_HMAC_SHA1_80 inline:${K1}|2^31|1:1|x`, /too many "\|" fields/],
    ['two keys without MKI', `1 AES_CM_128_HMAC_SHA1_80 inline:${K1};inline:${K2}`, /every key needs an MKI of the same length/],
    ['two keys, MKI lengths differ', `1 AES_CM_128_HMAC_SHA1_80 inline:${K1}|1:1;inline:${K2}|2:2`, /same length/],
    ['two keys, same MKI', `1 AES_CM_128_HMAC_SHA1_80 inline:${K1}|1:1;inline:${K2}|1:1`, /share an MKI value/],
    ['KDR 25', `1 AES_CM_128_HMAC_SHA1_80 inline:${K1} KDR=25`, /KDR is not 0-24/],
    ['WSH below 64', `1 AES_CM_128_HMAC_SHA1_80 inline:${K1} WSH=32`, /WSH is not a number >= 64/],
    ['FEC_ORDER unknown', `1 AES_CM_128_HMAC_SHA1_80 inline:${K1} FEC_ORDER=XOR`, /FEC_ORDER is not FEC_SRTP or SRTP_FEC/],
    ['FEC_KEY bad base64', `1 AES_CM_128_HMAC_SHA1_80 inline:${K1} FEC_KEY=inline:%%%`, /FEC_KEY: key is not valid base64/],
  ];
  for (const [name, line, want] of cases) {
    it(`refuses ${name}`, () => {
      const why = reason(line);
      expect(why).toMatch(want);
      // A reason names the problem, never the key.
      expect(why).not.toContain(K1.slice(0, 12));
    });
  }

  it('accepts the boundaries: tag 999999999, MKI length 4, lifetime 2^48', () => {
    expect(ok(`999999999 AES_CM_128_HMAC_SHA1_80 inline:${K1}|2^48|4294967295:4`).tag).toBe(999_999_999);
  });
});

describe('makeCrypto', () => {
  const key = Buffer.alloc(16, 0x11);
  const salt = Buffer.alloc(14, 0x22);
  const b64 = Buffer.concat([key, salt]).toString('base64');

  it('builds the D-09 line: lifetime 2^31, MKI 1 of 1 byte', () => {
    const a = makeCryptoAttribute({ tag: 1, suite: 'AES_CM_128_HMAC_SHA1_80', key, salt, lifetime: 2 ** 31, mkiLength: 1 });
    expect(a).toEqual({ name: 'crypto', value: `1 AES_CM_128_HMAC_SHA1_80 inline:${b64}|2^31|1:1` });
  });

  it('writes UNENCRYPTED_SRTCP, decimal lifetimes, explicit MKIs and text lifetimes', () => {
    expect(formatCrypto(makeCrypto({ tag: 2, suite: 'AES_CM_128_HMAC_SHA1_32', key, salt, unencryptedSrtcp: true }))).toBe(
      `2 AES_CM_128_HMAC_SHA1_32 inline:${b64} UNENCRYPTED_SRTCP`,
    );
    expect(formatCrypto(makeCrypto({ tag: 3, suite: 'AES_CM_128_HMAC_SHA1_80', key, salt, lifetime: 5000, mki: 7, mkiLength: 2 }))).toBe(
      `3 AES_CM_128_HMAC_SHA1_80 inline:${b64}|5000|7:2`,
    );
    expect(formatCrypto(makeCrypto({ tag: 3, suite: 'AES_CM_128_HMAC_SHA1_80', key, salt, lifetime: '2^20' }))).toBe(
      `3 AES_CM_128_HMAC_SHA1_80 inline:${b64}|2^20`,
    );
  });

  it('treats lifetime 0 as unset and accepts small powers of two', () => {
    expect(formatCrypto(makeCrypto({ tag: 1, suite: 'AES_CM_128_HMAC_SHA1_80', key, salt, lifetime: 0 }))).toBe(`1 AES_CM_128_HMAC_SHA1_80 inline:${b64}`);
    expect(formatCrypto(makeCrypto({ tag: 1, suite: 'AES_CM_128_HMAC_SHA1_80', key, salt, lifetime: 512 }))).toContain('|2^9');
  });

  it('refuses what SPEC §3.5 and RFC 4568 forbid', () => {
    const base = { tag: 1, suite: 'AES_CM_128_HMAC_SHA1_80', key, salt };
    expect(() => makeCrypto({ ...base, tag: 0 })).toThrow(/tag 0 is not 1-999999999/);
    expect(() => makeCrypto({ ...base, suite: 'F8_128_HMAC_SHA1_80' })).toThrow(/not supported/);
    expect(() => makeCrypto({ ...base, suite: 'NOPE' })).toThrow(/not supported/);
    expect(() => makeCrypto({ ...base, key: Buffer.alloc(32) })).toThrow(/needs a 16-byte key, got 32/);
    expect(() => makeCrypto({ ...base, salt: Buffer.alloc(12) })).toThrow(/needs a 14-byte salt, got 12/);
    expect(() => makeCrypto({ ...base, lifetime: 1000 })).toThrow(/>= 1024 or a power of two/);
    expect(() => makeCrypto({ ...base, lifetime: 2 ** 49 })).toThrow(RangeError);
    expect(() => makeCrypto({ ...base, lifetime: 1.5 })).toThrow(RangeError);
    expect(() => makeCrypto({ ...base, mkiLength: 5 })).toThrow(/MKI length 5 is not 1-4/);
    expect(() => makeCrypto({ ...base, mki: 300, mkiLength: 1 })).toThrow(/does not fit/);
    expect(() => makeCrypto({ ...base, extraParams: ['A B'] })).toThrow(/blank/);
  });

  it('builds AES-256 lines whose masterKeys() split back into key, salt and MKI', () => {
    const k = Buffer.alloc(32, 0xab);
    const s = Buffer.alloc(14, 0xcd);
    const c = makeCrypto({ tag: 4, suite: 'AES_256_CM_HMAC_SHA1_32', key: k, salt: s, mki: 258, mkiLength: 2, lifetime: 2 ** 31 });
    const [mk] = masterKeys(c);
    expect(mk?.masterKey.equals(k)).toBe(true);
    expect(mk?.masterSalt.equals(s)).toBe(true);
    expect(mk?.mki?.toString('hex')).toBe('0102');
    expect(mk?.lifetime).toBe(2 ** 31);
    expect(masterKeys(ok(REAL_WORLD['baresip GCM (unknown suite)'] as string))).toEqual([]);
  });

  it('generates keys of the suite sizes, different each time', () => {
    for (const s of SRTP_SUITES.values()) {
      const a = generateKeySalt(s.name);
      expect([a.key.length, a.salt.length]).toEqual([s.keyLength, s.saltLength]);
    }
    expect(generateKeySalt('AES_CM_128_HMAC_SHA1_80').key.equals(generateKeySalt('AES_CM_128_HMAC_SHA1_80').key)).toBe(false);
    expect(() => generateKeySalt('NOPE')).toThrow(RangeError);
    expect(() => generateKeySalt('AES_CM_128_HMAC_SHA1_80', () => Buffer.alloc(3))).toThrow(/wrong length/);
  });
});

describe('never printing keys', () => {
  const line = REAL_WORLD['every session param'] as string;

  it('KeyMaterial hides itself from String, JSON and util.inspect', () => {
    const c = ok(line);
    const shown = [String(c.keys[0]?.key), JSON.stringify(c), inspect(c, { depth: 10 }), `${c.keys[0]?.key}`];
    for (const s of shown) {
      expect(s).not.toContain(K1.slice(0, 16));
      expect(s).not.toContain(K2.slice(0, 16));
    }
    expect(JSON.stringify(c)).toContain('[redacted]');
    expect(inspect(new KeyMaterial(K1))).toBe('KeyMaterial [redacted]');
  });

  it('redactCrypto keeps everything but the keys', () => {
    expect(redactCrypto(`a=crypto:${line}`)).toBe(
      'a=crypto:9 AES_CM_128_HMAC_SHA1_80 inline:[redacted]|1048576 KDR=0 UNENCRYPTED_SRTP UNAUTHENTICATED_SRTP WSH=128 FEC_KEY=inline:[redacted]|2^20 -X_VENDOR=1 Y_OTHER',
    );
    expect(redactCrypto(REAL_WORLD['two keys with MKI'] as string)).toBe(
      '1 AES_CM_128_HMAC_SHA1_80 inline:[redacted]|2^20|1:4;inline:[redacted]|2^20|2:4 FEC_ORDER=FEC_SRTP',
    );
    expect(redactCrypto(`a=acap:3 crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${K1}|2^31`)).toBe(
      'a=acap:3 crypto:1 AES_CM_128_HMAC_SHA1_80 inline:[redacted]|2^31',
    );
    // Fields out of place, or a line we cannot parse at all: the key still goes.
    expect(redactCrypto(`a=crypto:1 inline:${K1} UNENCRYPTED_SRTCP`)).not.toContain(K1);
    expect(redactCrypto(`a=crypto:1 X inline:${K1}\r\na=crypto:2 Y inline:${K2}`)).not.toMatch(new RegExp(`${K1}|${K2}`.replace(/\+/g, '\\+')));
    // Even a line we cannot parse loses its key.
    expect(redactCrypto(`a=crypto:inline:${K1}`)).not.toContain(K1);
  });

  it('redactSdp cleans a whole body and leaves other lines alone', () => {
    const body = [
      'v=0',
      'm=audio 4000 RTP/AVP 0',
      `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${K1}|2^31|1:1`,
      `a=acap:1 crypto:2 AES_CM_128_HMAC_SHA1_32 inline:${K2}`,
      `a=x-odd:inline:${K3}`,
      'a=rtpmap:0 PCMU/8000',
      '',
    ].join('\r\n');
    const out = redactSdp(body);
    for (const k of [K1, K2, K3]) expect(out).not.toContain(k);
    expect(out).toContain('a=rtpmap:0 PCMU/8000\r\n');
    expect(out).toContain('inline:[redacted]|2^31|1:1\r\n');
    expect(out.split('\r\n')).toHaveLength(body.split('\r\n').length);
  });
});
