import { describe, expect, it } from 'vitest';
import { A20_TABLE, MEDIAENCRYPTION_CODE, suiteOfCode } from '../../../src/provisioning/families/avaya-media.ts';

describe('Avaya media security mapping (A-20, C.1 MEDIAENCRYPTION)', () => {
  it('is the SPEC A-20 table row by row', () => {
    expect(A20_TABLE).toEqual({
      'disabled': { srtpMode11xx: 'BE-CAP-NEG', b179: 'SRTP Optional', e129P183: 0 },
      'best-effort': { srtpMode11xx: 'BE-CAP-NEG', b179: 'SRTP Optional', e129P183: 2 },
      'enforced': { srtpMode11xx: 'BE-CAP-NEG', b179: 'SRTP Optional', e129P183: 2 },
    });
  });

  it('codes each suite as SPEC C.1 does and reads the codes back', () => {
    expect(MEDIAENCRYPTION_CODE).toEqual({
      AES_CM_128_HMAC_SHA1_80: 1, AES_CM_128_HMAC_SHA1_32: 2, AES_256_CM_HMAC_SHA1_80: 10, AES_256_CM_HMAC_SHA1_32: 11,
    });
    for (const [suite, code] of Object.entries(MEDIAENCRYPTION_CODE)) expect(suiteOfCode(code)).toBe(suite);
    for (const code of [3, 4, 5, 6, 7, 8, 9, 12]) expect(suiteOfCode(code)).toBeUndefined();
  });
});
