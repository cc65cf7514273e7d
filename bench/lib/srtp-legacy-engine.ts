// The SRTP packet path as it was before the engines (src/media/srtp-engine.ts),
// kept only so bench/srtp.ts and bench/relay.ts can measure the change in one
// run: one AES-ECB `update` per packet over counter blocks laid out in JS, the
// keystream XORed byte by byte, and the HMAC as two one-shot crypto.hash()
// calls over buffers holding the padded key. Each call returns a new Buffer.
import crypto from 'node:crypto';
import { AES_BLOCK, AesCm, SHA1_LENGTH, writeIv } from '../../src/media/srtp-kdf.ts';
import { SRTP_ENCRYPT, SRTP_TRAILER, type PacketCrypto, type SrtpEngine } from '../../src/media/srtp-packet-crypto.ts';

const SHA1_BLOCK = 64;
const sha1 = (data: Buffer): Buffer => crypto.hash('sha1', data, 'buffer');

class HmacSha1 {
  #inner: Buffer;
  #outer: Buffer;

  constructor(key: Buffer, initialCapacity = 2048) {
    if (key.length > SHA1_BLOCK) throw new RangeError('HMAC-SHA1 key longer than 64 bytes');
    this.#inner = Buffer.alloc(SHA1_BLOCK + initialCapacity, 0x36);
    this.#outer = Buffer.alloc(SHA1_BLOCK + SHA1_LENGTH, 0x5c);
    for (let i = 0; i < key.length; i++) {
      this.#inner[i] = 0x36 ^ key[i]!;
      this.#outer[i] = 0x5c ^ key[i]!;
    }
  }

  /**
   * HMAC over data[start, end), followed by the 32-bit big-endian `trailer`
   * when `withTrailer` (SRTP appends the ROC that way, §4.2).
   */
  digest(data: Buffer, start: number, end: number, trailer: number, withTrailer: boolean): Buffer {
    const len = end - start;
    const total = SHA1_BLOCK + len + (withTrailer ? 4 : 0);
    if (this.#inner.length < total) {
      const grown = Buffer.alloc(total * 2);
      this.#inner.copy(grown, 0, 0, SHA1_BLOCK);
      this.#inner = grown;
    }
    const inner = this.#inner;
    data.copy(inner, SHA1_BLOCK, start, end);
    if (withTrailer) inner.writeUInt32BE(trailer >>> 0, SHA1_BLOCK + len);
    const ih = sha1(inner.subarray(0, total));
    ih.copy(this.#outer, SHA1_BLOCK);
    return sha1(this.#outer);
  }

  /** Overwrites the key material; the object is unusable afterwards. */
  wipe(): void {
    this.#inner.fill(0);
    this.#outer.fill(0);
  }
}

class LegacyPacketCrypto implements PacketCrypto {
  readonly #cipher: AesCm;
  readonly #auth: HmacSha1;
  readonly #salt: Buffer;
  readonly #iv = Buffer.alloc(AES_BLOCK);

  constructor(encKey: Buffer, authKey: Buffer, salt: Buffer) {
    this.#cipher = new AesCm(encKey);
    this.#auth = new HmacSha1(authKey);
    this.#salt = Buffer.from(salt);
  }

  seal(src: Buffer, dst: Buffer, from: number, to: number, ssrc: number, indexHigh: number, indexLow: number,
    authEnd: number, trailer: number, tagAt: number, tagLen: number, flags: number): void {
    this.#transform(src, dst, from, to, ssrc, indexHigh, indexLow, flags);
    if (tagLen > 0) this.#auth.digest(dst, 0, authEnd, trailer, (flags & SRTP_TRAILER) !== 0).copy(dst, tagAt, 0, tagLen);
  }

  open(src: Buffer, dst: Buffer, from: number, to: number, ssrc: number, indexHigh: number, indexLow: number,
    authEnd: number, trailer: number, tagAt: number, tagLen: number, flags: number): boolean {
    if (tagLen > 0) {
      const digest = this.#auth.digest(src, 0, authEnd, trailer, (flags & SRTP_TRAILER) !== 0);
      let diff = 0;
      for (let i = 0; i < tagLen; i++) diff |= digest[i]! ^ src[tagAt + i]!;
      if (diff !== 0) return false;
    }
    this.#transform(src, dst, from, to, ssrc, indexHigh, indexLow, flags);
    return true;
  }

  wipe(): void {
    this.#auth.wipe();
    this.#salt.fill(0);
  }

  #transform(src: Buffer, dst: Buffer, from: number, to: number, ssrc: number, indexHigh: number, indexLow: number,
    flags: number): void {
    if ((flags & SRTP_ENCRYPT) === 0) {
      if (src !== dst) src.copy(dst, from, from, to);
      return;
    }
    writeIv(this.#iv, this.#salt, ssrc, indexHigh, indexLow);
    this.#cipher.xor(this.#iv, src, from, to - from, dst, from);
  }
}

export const legacyEngine: SrtpEngine = Object.freeze({
  name: 'legacy',
  create: (encKey: Buffer, authKey: Buffer, salt: Buffer): PacketCrypto => new LegacyPacketCrypto(encKey, authKey, salt),
});
