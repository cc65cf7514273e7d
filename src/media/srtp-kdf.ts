// SRTP suites and key derivation (RFC 3711 §4.1.1, §4.3) on node:crypto.
// The per-packet crypto is srtp-engine.ts's.
//
// node:crypto cannot re-key or re-IV a cipher object, and creating an
// 'aes-*-ctr' cipher per call costs several microseconds (key schedule plus
// a native object). Instead one AES-ECB cipher per key is kept and fed
// counter blocks that we lay out ourselves: that is AES counter mode, with
// the key schedule done once.
import crypto, { type Cipheriv } from 'node:crypto';

export const AES_BLOCK = 16;
export const SALT_LENGTH = 14;
export const SHA1_LENGTH = 20;

// AES_192_CM (RFC 6188) is left out on purpose: libsrtp derived its keys
// wrongly until 2025 (cisco/libsrtp#763; Debian 12 ships 2.5), so it would not
// interoperate with most deployed peers.
export type SrtpSuiteName =
  | 'AES_CM_128_HMAC_SHA1_80'
  | 'AES_CM_128_HMAC_SHA1_32'
  | 'AES_256_CM_HMAC_SHA1_80'
  | 'AES_256_CM_HMAC_SHA1_32';

export interface SrtpSuite {
  readonly name: SrtpSuiteName;
  /** Master and session encryption key length, bytes. */
  readonly keyLength: number;
  readonly saltLength: number;
  readonly authKeyLength: number;
  readonly rtpTagLength: number;
  /** The _32 suites still use an 80-bit tag on SRTCP (RFC 4568 §6.2, RFC 6188 §3). */
  readonly rtcpTagLength: number;
  /** Largest lifetime (packets) the suite allows: 2^48. */
  readonly maxLifetime: number;
}

function suite(name: SrtpSuiteName, keyLength: number, rtpTagLength: number): SrtpSuite {
  return Object.freeze({ name, keyLength, saltLength: SALT_LENGTH, authKeyLength: 20, rtpTagLength, rtcpTagLength: 10, maxLifetime: 2 ** 48 });
}

export const SRTP_SUITES: Readonly<Record<SrtpSuiteName, SrtpSuite>> = Object.freeze({
  AES_CM_128_HMAC_SHA1_80: suite('AES_CM_128_HMAC_SHA1_80', 16, 10),
  AES_CM_128_HMAC_SHA1_32: suite('AES_CM_128_HMAC_SHA1_32', 16, 4),
  AES_256_CM_HMAC_SHA1_80: suite('AES_256_CM_HMAC_SHA1_80', 32, 10),
  AES_256_CM_HMAC_SHA1_32: suite('AES_256_CM_HMAC_SHA1_32', 32, 4),
});

export function isSrtpSuiteName(name: string): name is SrtpSuiteName {
  return Object.prototype.hasOwnProperty.call(SRTP_SUITES, name);
}

/** A fresh random master key and salt for `suite`. */
export function generateKeySalt(suite: SrtpSuiteName): { masterKey: Buffer; masterSalt: Buffer } {
  const s = SRTP_SUITES[suite];
  return { masterKey: crypto.randomBytes(s.keyLength), masterSalt: crypto.randomBytes(s.saltLength) };
}

/** RFC 3711 §4.3.1 / §4.3.2 key derivation labels. */
export const KDF_LABEL = Object.freeze({
  rtpEncryption: 0x00,
  rtpAuth: 0x01,
  rtpSalt: 0x02,
  rtcpEncryption: 0x03,
  rtcpAuth: 0x04,
  rtcpSalt: 0x05,
});

export function ecbCipherName(keyLength: number): string {
  if (keyLength === 16) return 'aes-128-ecb';
  if (keyLength === 24) return 'aes-192-ecb';
  if (keyLength === 32) return 'aes-256-ecb';
  throw new RangeError(`AES key must be 16, 24 or 32 bytes, got ${keyLength}`);
}

/**
 * AES in counter mode as RFC 3711 uses it: the 128-bit IV has its low 16 bits
 * zero and the block number is added there, so one call covers at most 2^16
 * blocks (1 MiB), far more than any UDP packet.
 */
export class AesCm {
  #ecb: Cipheriv;
  #blocks: Buffer;

  constructor(key: Buffer, initialCapacity = 2048) {
    this.#ecb = crypto.createCipheriv(ecbCipherName(key.length), key, null);
    this.#ecb.setAutoPadding(false);
    this.#blocks = Buffer.alloc(roundUpToBlock(initialCapacity));
  }

  /**
   * dst[dstStart + k] = src[srcStart + k] ^ keystream[k] for k < length.
   * dst may be src at the same offsets (in-place).
   */
  xor(iv: Buffer, src: Buffer, srcStart: number, length: number, dst: Buffer, dstStart: number): void {
    if (length <= 0) return;
    const ks = this.#keystreamBlocks(iv, length);
    for (let k = 0; k < length; k++) dst[dstStart + k] = src[srcStart + k]! ^ ks[k]!;
  }

  /** A fresh Buffer holding `length` keystream bytes (key derivation, tests). */
  keystream(iv: Buffer, length: number): Buffer {
    return Buffer.from(this.#keystreamBlocks(iv, length).subarray(0, length));
  }

  #keystreamBlocks(iv: Buffer, length: number): Buffer {
    const n = Math.ceil(length / AES_BLOCK);
    if (n > 0x10000) throw new RangeError('AES-CM segment longer than 2^16 blocks');
    const size = n * AES_BLOCK;
    if (this.#blocks.length < size) this.#blocks = Buffer.alloc(roundUpToBlock(size * 2));
    const b = this.#blocks;
    const base = (iv[14]! << 8) | iv[15]!;
    for (let i = 0; i < n; i++) {
      const o = i * AES_BLOCK;
      for (let j = 0; j < 14; j++) b[o + j] = iv[j]!;
      const c = (base + i) & 0xffff;
      b[o + 14] = c >>> 8;
      b[o + 15] = c & 0xff;
    }
    return this.#ecb.update(b.subarray(0, size));
  }
}

function roundUpToBlock(n: number): number {
  return Math.ceil(n / AES_BLOCK) * AES_BLOCK;
}

/**
 * RFC 3711 §4.3.1: one session key, salt or auth key from the master key.
 * `masterCipher` is an AesCm keyed with the master key; `r` is
 * index DIV key_derivation_rate (0 when the rate is 0).
 *
 * r is always laid out as 48 bits, for SRTCP too. NIST's SRTP-KDF test data
 * (SP 800-135) lays an SRTCP r out as 32 bits, which moves the label; with
 * the usual rate 0 that would break interop with libsrtp and the RFC 3711
 * B.3 layout, so only a non-zero rate on SRTCP is affected by the choice.
 */
export function deriveKey(masterCipher: AesCm, masterSalt: Buffer, label: number, r: number, length: number): Buffer {
  if (masterSalt.length !== SALT_LENGTH) throw new RangeError(`master salt must be ${SALT_LENGTH} bytes`);
  const iv = Buffer.alloc(AES_BLOCK);
  masterSalt.copy(iv, 0);
  // key_id = label || r (48 bits), right-aligned against the 112-bit salt.
  iv[7]! ^= label;
  const hi = Math.floor(r / 0x100000000);
  const lo = r >>> 0;
  iv[8]! ^= (hi >>> 8) & 0xff;
  iv[9]! ^= hi & 0xff;
  iv.writeUInt32BE((iv.readUInt32BE(10) ^ lo) >>> 0, 10);
  return masterCipher.keystream(iv, length);
}

/**
 * Writes the RFC 3711 §4.1.1 AES-CM IV for (ssrc, 48-bit index) into `iv`:
 * (k_s * 2^16) XOR (SSRC * 2^64) XOR (index * 2^16). `indexHigh` is the top
 * 32 bits of the 48-bit index (the ROC for SRTP, index >>> 16 for SRTCP),
 * `indexLow` the low 16 bits.
 */
export function writeIv(iv: Buffer, salt: Buffer, ssrc: number, indexHigh: number, indexLow: number): void {
  iv[0] = salt[0]!;
  iv[1] = salt[1]!;
  iv[2] = salt[2]!;
  iv[3] = salt[3]!;
  iv[4] = salt[4]! ^ (ssrc >>> 24);
  iv[5] = salt[5]! ^ ((ssrc >>> 16) & 0xff);
  iv[6] = salt[6]! ^ ((ssrc >>> 8) & 0xff);
  iv[7] = salt[7]! ^ (ssrc & 0xff);
  iv[8] = salt[8]! ^ (indexHigh >>> 24);
  iv[9] = salt[9]! ^ ((indexHigh >>> 16) & 0xff);
  iv[10] = salt[10]! ^ ((indexHigh >>> 8) & 0xff);
  iv[11] = salt[11]! ^ (indexHigh & 0xff);
  iv[12] = salt[12]! ^ ((indexLow >>> 8) & 0xff);
  iv[13] = salt[13]! ^ (indexLow & 0xff);
  iv[14] = 0;
  iv[15] = 0;
}
