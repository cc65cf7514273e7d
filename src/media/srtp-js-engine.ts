// SRTP packet crypto in JS over node:crypto (RFC 3711 §4.1.1 AES-CM, §4.2
// HMAC-SHA1): the fallback when the native addon is not built.
//
// AES-CM's keystream depends only on the session salt, the SSRC and the packet
// index, never on the packet, so one AES-ECB cipher per key encrypts the
// counter blocks of the next RUN_PACKETS packets of a stream in one call and
// later packets of that run just XOR their slice: one trip into native code
// per run instead of one per packet. The HMAC is sha1-hmac.ts (no native
// calls, no allocations). A run of G.711 packets holds 16 × 176 bytes of
// keystream, so a relayed SRTP call keeps about 6 KB of it (one run per
// direction), wiped with the keys.
import crypto, { type Cipheriv } from 'node:crypto';
import { SRTP_ENCRYPT, SRTP_TRAILER, type PacketCrypto } from './srtp-packet-crypto.ts';
import { Sha1Hmac } from './sha1-hmac.ts';
import { AES_BLOCK, SALT_LENGTH, ecbCipherName, writeIv } from './srtp-kdf.ts';

/** Packets whose keystream one ECB call makes. */
const RUN_PACKETS = 16;
/** Keystream bytes one run may hold. */
const RUN_BYTES = 16384;
/** Streams (SSRCs) whose runs are kept per key; more are rare (one SSRC per direction is usual). */
const MAX_RUNS = 8;
/** An index past 2^48 does not exist; runs stop short of it. */
const INDEX_SPACE = 2 ** 48;

/** Keystream for packets base … base + count - 1 of one SSRC, `stride` bytes each. */
interface Run {
  base: number;
  count: number;
  stride: number;
  keystream: Buffer;
}

export class JsPacketCrypto implements PacketCrypto {
  readonly #ecb: Cipheriv;
  readonly #salt: Buffer;
  readonly #hmac: Sha1Hmac;
  readonly #runs = new Map<number, Run>();
  readonly #iv = Buffer.alloc(AES_BLOCK);
  #counters = Buffer.alloc(0);

  constructor(encKey: Buffer, authKey: Buffer, salt: Buffer) {
    if (salt.length !== SALT_LENGTH) throw new RangeError(`session salt must be ${SALT_LENGTH} bytes`);
    this.#ecb = crypto.createCipheriv(ecbCipherName(encKey.length), encKey, null);
    this.#ecb.setAutoPadding(false);
    this.#salt = Buffer.from(salt);
    this.#hmac = new Sha1Hmac(authKey);
  }

  seal(src: Buffer, dst: Buffer, from: number, to: number, ssrc: number, indexHigh: number, indexLow: number,
    authEnd: number, trailer: number, tagAt: number, tagLen: number, flags: number): void {
    this.#transform(src, dst, from, to, ssrc, indexHigh, indexLow, flags);
    if (tagLen === 0) return;
    const tag = this.#hmac.mac(dst, authEnd, trailer, (flags & SRTP_TRAILER) !== 0);
    for (let i = 0; i < tagLen; i++) dst[tagAt + i] = tag[i]!;
  }

  open(src: Buffer, dst: Buffer, from: number, to: number, ssrc: number, indexHigh: number, indexLow: number,
    authEnd: number, trailer: number, tagAt: number, tagLen: number, flags: number): boolean {
    if (tagLen > 0) {
      const tag = this.#hmac.mac(src, authEnd, trailer, (flags & SRTP_TRAILER) !== 0);
      // Constant time: every byte is compared whatever the first difference.
      let diff = 0;
      for (let i = 0; i < tagLen; i++) diff |= tag[i]! ^ src[tagAt + i]!;
      if (diff !== 0) return false;
    }
    this.#transform(src, dst, from, to, ssrc, indexHigh, indexLow, flags);
    return true;
  }

  wipe(): void {
    this.#hmac.wipe();
    this.#salt.fill(0);
    for (const run of this.#runs.values()) run.keystream.fill(0);
    this.#runs.clear();
  }

  #transform(src: Buffer, dst: Buffer, from: number, to: number, ssrc: number, indexHigh: number, indexLow: number,
    flags: number): void {
    const length = to - from;
    if ((flags & SRTP_ENCRYPT) === 0 || length <= 0) {
      if (src !== dst && length > 0) src.copy(dst, from, from, to);
      return;
    }
    const index = indexHigh * 0x10000 + indexLow;
    let run = this.#runs.get(ssrc);
    if (run === undefined || index < run.base || index >= run.base + run.count || length > run.stride) {
      run = this.#fill(run, ssrc, index, length);
    }
    const ks = run.keystream;
    const at = (index - run.base) * run.stride - from;
    for (let i = from; i < to; i++) dst[i] = src[i]! ^ ks[at + i]!;
  }

  /** Keystream for packets index, index + 1, … of `ssrc`, at least `length` bytes each. */
  #fill(previous: Run | undefined, ssrc: number, index: number, length: number): Run {
    const stride = Math.ceil(Math.max(length, previous?.stride ?? 0) / AES_BLOCK) * AES_BLOCK;
    if (stride > 0x10000 * AES_BLOCK) throw new RangeError('AES-CM segment longer than 2^16 blocks');
    const count = Math.max(1, Math.min(RUN_PACKETS, Math.floor(RUN_BYTES / stride), INDEX_SPACE - index));
    const size = count * stride;
    if (this.#counters.length < size) this.#counters = Buffer.alloc(size);
    const ctr = this.#counters, iv = this.#iv, blocks = stride / AES_BLOCK;
    for (let p = 0; p < count; p++) {
      const i = index + p;
      writeIv(iv, this.#salt, ssrc, Math.floor(i / 0x10000), i & 0xffff);
      for (let b = 0, o = p * stride; b < blocks; b++, o += AES_BLOCK) {
        for (let j = 0; j < 14; j++) ctr[o + j] = iv[j]!;
        ctr[o + 14] = b >>> 8;
        ctr[o + 15] = b & 0xff;
      }
    }
    const keystream = this.#ecb.update(ctr.subarray(0, size));
    if (previous !== undefined) {
      previous.keystream.fill(0);
      previous.base = index;
      previous.count = count;
      previous.stride = stride;
      previous.keystream = keystream;
      return previous;
    }
    if (this.#runs.size >= MAX_RUNS) this.#evictOne();
    const run: Run = { base: index, count, stride, keystream };
    this.#runs.set(ssrc, run);
    return run;
  }

  #evictOne(): void {
    for (const [ssrc, run] of this.#runs) {
      run.keystream.fill(0);
      this.#runs.delete(ssrc);
      return;
    }
  }
}
