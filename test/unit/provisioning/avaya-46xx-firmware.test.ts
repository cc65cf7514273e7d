import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  deriveMediaEncryption, explicitMediaEncryption, FIRMWARE_CLASSES, MAX_MEDIAENCRYPTION_CODES, meets,
} from '../../../src/provisioning/families/avaya-46xx-firmware.ts';
import { MEDIAENCRYPTION_CODE, suiteOfCode } from '../../../src/provisioning/families/avaya-media.ts';
import { ProvisioningRefusal, type SrtpSuite } from '../../../src/provisioning/types.ts';

const SUITES = Object.keys(MEDIAENCRYPTION_CODE) as SrtpSuite[];
const media = fc.record({
  security: fc.constantFrom('disabled', 'best-effort', 'enforced') as fc.Arbitrary<'disabled' | 'best-effort' | 'enforced'>,
  srtcp: fc.constantFrom('encrypted', 'unencrypted') as fc.Arbitrary<'encrypted' | 'unencrypted'>,
  suites: fc.uniqueArray(fc.constantFrom(...SUITES), { maxLength: 4 }),
  capneg: fc.boolean(),
});
const firmware = fc.constantFrom(...FIRMWARE_CLASSES.filter((f) => f !== '96x1-h323'));
const version = fc.option(fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 1, maxLength: 4 }), { nil: undefined });

describe('46xx MEDIAENCRYPTION derivation (C-01, C-02), for any media settings and firmware', () => {
  it('is a list the C-02 check accepts, within the firmware limits, 9 exactly when SRTP is not enforced', () => {
    fc.assert(fc.property(media, firmware, version, (m, fw, v) => {
      let codes: number[];
      try {
        codes = deriveMediaEncryption(m, fw, v);
      } catch (e) {
        // Only enforced security with no suite this firmware takes may be refused.
        expect(e).toBeInstanceOf(ProvisioningRefusal);
        expect(m.security).toBe('enforced');
        expect(m.suites.some((s) => MEDIAENCRYPTION_CODE[s] < 10 || meets(fw, v, 'AES256'))).toBe(false);
        return;
      }
      expect(codes.length).toBeGreaterThan(0);
      expect(codes.length).toBeLessThanOrEqual(MAX_MEDIAENCRYPTION_CODES);
      expect(codes.includes(9)).toBe(m.security !== 'enforced');
      for (const c of codes.filter((x) => x !== 9)) {
        expect(m.suites).toContain(suiteOfCode(c));
        if (c >= 10) expect(meets(fw, v, 'AES256')).toBe(true);
      }
      // Preference order is the server's.
      const order = codes.filter((x) => x !== 9).map((c) => m.suites.indexOf(suiteOfCode(c)!));
      expect(order).toEqual([...order].sort((a, b) => a - b));
      expect(explicitMediaEncryption(codes.join(','), m, fw, v)).toEqual(codes);
    }), { numRuns: 500 });
  });
});
