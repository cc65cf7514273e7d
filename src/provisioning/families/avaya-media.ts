// What the system media security (SPEC A-20) becomes in each Avaya family's
// file, and the 46xx MEDIAENCRYPTION codes of the SRTP suites (SPEC C.1, C-01,
// C-02). One table per rule so the generators and their tests read the same.
import type { ProvisioningSite, SrtpSuite } from '../types.ts';

type MediaSecurity = ProvisioningSite['media']['security'];

/**
 * SPEC A-20: per system media security, what each family is told. The 11xx
 * value is the file token of the mode SPEC calls "BE-Cap Neg" (best effort
 * with RFC 5939 capability negotiation).
 */
export const A20_TABLE: Readonly<Record<MediaSecurity, { srtpMode11xx: 'BE-CAP-NEG'; b179: 'SRTP Optional'; e129P183: 0 | 2 }>> = {
  'disabled': { srtpMode11xx: 'BE-CAP-NEG', b179: 'SRTP Optional', e129P183: 0 },
  'best-effort': { srtpMode11xx: 'BE-CAP-NEG', b179: 'SRTP Optional', e129P183: 2 },
  'enforced': { srtpMode11xx: 'BE-CAP-NEG', b179: 'SRTP Optional', e129P183: 2 },
};

/** SPEC C.1 MEDIAENCRYPTION: the authenticated, encrypted code of each suite. */
export const MEDIAENCRYPTION_CODE: Readonly<Record<SrtpSuite, number>> = {
  AES_CM_128_HMAC_SHA1_80: 1,
  AES_CM_128_HMAC_SHA1_32: 2,
  AES_256_CM_HMAC_SHA1_80: 10,
  AES_256_CM_HMAC_SHA1_32: 11,
};

/** Code 9: no SRTP. */
export const MEDIAENCRYPTION_NONE = 9;

/** The suite a code means, or undefined for 9 and codes Switchboard never enables (3..8: unauthenticated or unencrypted SRTP). */
export function suiteOfCode(code: number): SrtpSuite | undefined {
  for (const [suite, c] of Object.entries(MEDIAENCRYPTION_CODE)) if (c === code) return suite as SrtpSuite;
  return undefined;
}
