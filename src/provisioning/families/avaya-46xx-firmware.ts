// What each 46xx firmware class accepts (SPEC C.1 floors, C-01) and the
// MEDIAENCRYPTION list that follows from the server's media settings (C-01,
// C-02). Version floors are those SPEC C.1 prints; a class without a floor
// for a setting does not take it.
import { ProvisioningRefusal, type ProvisioningSite } from '../types.ts';
import { MEDIAENCRYPTION_CODE, MEDIAENCRYPTION_NONE, suiteOfCode } from './avaya-media.ts';

export const FIRMWARE_CLASSES = ['j100', '96x1-sip', 'h1xx', '96x0-sip', '96x1-h323'] as const;
export type FirmwareClass = (typeof FIRMWARE_CLASSES)[number];
export type FirmwareVersion = readonly number[];

type Feature = 'SDPCAPNEG' | 'ENFORCE_SIPS_URI' | 'MEDIAENCRYPTION' | 'ENCRYPT_SRTCP' | 'AES256';

/** SPEC C.1 and C-01: the first firmware of each class that takes the setting (AES256 = codes 10/11). */
const FLOORS: Readonly<Record<Exclude<FirmwareClass, '96x1-h323'>, Partial<Record<Feature, FirmwareVersion>>>> = {
  'j100': { SDPCAPNEG: [1], ENFORCE_SIPS_URI: [1], MEDIAENCRYPTION: [1], ENCRYPT_SRTCP: [1], AES256: [1] },
  '96x1-sip': { SDPCAPNEG: [6], ENFORCE_SIPS_URI: [6], MEDIAENCRYPTION: [6], ENCRYPT_SRTCP: [7, 1], AES256: [7] },
  'h1xx': { SDPCAPNEG: [1], ENFORCE_SIPS_URI: [1], MEDIAENCRYPTION: [1], AES256: [1, 0, 1] },
  '96x0-sip': { SDPCAPNEG: [2, 6], ENFORCE_SIPS_URI: [2, 6], MEDIAENCRYPTION: [1] },
};

/**
 * C-01: "2 or 3" codes. Every class here uses at most two: 96x0 SIP from
 * R2.6.14.5 accepts three but uses only the first two it supports, so a third
 * (often the 9 that allows plain RTP) would be silently ignored.
 */
export const MAX_MEDIAENCRYPTION_CODES = 2;

/** "R7.1.0.0", "7.0.1", "2.6.14.5" -> [7,1,0,0]...; undefined if not a version. */
export function parseFirmwareVersion(text: string): FirmwareVersion | undefined {
  const m = /^[Rr]?(\d{1,4}(?:\.\d{1,4}){0,5})$/.exec(text.trim());
  return m ? m[1]!.split('.').map(Number) : undefined;
}

function atLeast(v: FirmwareVersion, floor: FirmwareVersion): boolean {
  for (let i = 0; i < Math.max(v.length, floor.length); i++) {
    const a = v[i] ?? 0;
    const b = floor[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}

/** Whether the firmware takes the setting; no version = current firmware, which meets every floor its class has. */
export function meets(firmware: FirmwareClass, version: FirmwareVersion | undefined, feature: Feature): boolean {
  if (firmware === '96x1-h323') return false;
  const floor = FLOORS[firmware][feature];
  return floor !== undefined && (version === undefined || atLeast(version, floor));
}

type Media = ProvisioningSite['media'];

/**
 * C-01/C-02: the server's suites in its order of preference, without the
 * AES-256 codes the firmware lacks, then 9 unless media security is
 * enforced; just 9 when it is disabled.
 */
export function deriveMediaEncryption(media: Media, firmware: FirmwareClass, version: FirmwareVersion | undefined): number[] {
  if (media.security === 'disabled') return [MEDIAENCRYPTION_NONE];
  const aes256 = meets(firmware, version, 'AES256');
  const enforced = media.security === 'enforced';
  const codes = media.suites.map((s) => MEDIAENCRYPTION_CODE[s]).filter((c) => aes256 || c < 10)
    .slice(0, enforced ? MAX_MEDIAENCRYPTION_CODES : MAX_MEDIAENCRYPTION_CODES - 1);
  if (codes.length === 0) {
    if (enforced) throw new ProvisioningRefusal(`media security is enforced but none of the server's SRTP suites (${media.suites.join(', ') || 'none'}) is one this firmware takes: enable AES_CM_128_HMAC_SHA1_80 or _32`);
    return [MEDIAENCRYPTION_NONE];
  }
  return enforced ? codes : [...codes, MEDIAENCRYPTION_NONE];
}

/** C-02: an administrator's own MEDIAENCRYPTION list, checked against the server's media settings and the firmware. */
export function explicitMediaEncryption(text: string, media: Media, firmware: FirmwareClass, version: FirmwareVersion | undefined): number[] {
  const fail = (why: string): never => {
    throw new ProvisioningRefusal(`MEDIAENCRYPTION "${text}": ${why}`);
  };
  const parts = text.split(',').map((p) => p.trim());
  if (parts.some((p) => !/^\d{1,2}$/.test(p))) fail('must be a comma list of codes 1 to 11');
  const codes = parts.map(Number);
  if (new Set(codes).size !== codes.length) fail('repeats a code');
  if (codes.length > MAX_MEDIAENCRYPTION_CODES) fail(`this firmware uses at most ${MAX_MEDIAENCRYPTION_CODES} codes`);
  for (const code of codes) {
    if (code === MEDIAENCRYPTION_NONE) {
      if (media.security === 'enforced') fail('9 (no SRTP) but the server enforces media security');
      continue;
    }
    const suite = suiteOfCode(code);
    if (suite === undefined) fail(`code ${code} is ${code >= 3 && code <= 8 ? 'unauthenticated or unencrypted SRTP, which the server never enables' : 'not a MEDIAENCRYPTION code'}`);
    if (media.security === 'disabled') fail(`code ${code} asks for SRTP but the server's media security is disabled`);
    if (!media.suites.includes(suite!)) fail(`code ${code} is ${suite}, which the server's media settings do not enable (enabled: ${media.suites.join(', ') || 'none'})`);
    if (code >= 10 && !meets(firmware, version, 'AES256')) fail(`code ${code} (AES-256) is not supported by this firmware`);
  }
  return codes;
}
