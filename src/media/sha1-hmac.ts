// HMAC-SHA1 (RFC 2104 §2) over SHA-1 (RFC 3174 §6.1) in plain JS, for the
// SRTP packet path when the native addon is not available.
//
// node:crypto computes SHA-1 natively, but every call crosses into C++ and
// returns a new Buffer (~1–2 µs each, two per packet for an HMAC). Here the
// two padded-key blocks are hashed once per key, and each packet costs only
// its own compressions, with every buffer allocated up front.

const SHA1_BLOCK = 64;
export const SHA1_LENGTH = 20;
const IV = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0];

export class Sha1Hmac {
  /** H state after K ^ ipad, and after K ^ opad. */
  #inner = new Int32Array(5);
  #outer = new Int32Array(5);
  #h = new Int32Array(5);
  #w = new Int32Array(80);
  /** The message's last block(s) with padding and length. */
  #tail = new Uint8Array(2 * SHA1_BLOCK);
  /** The HMAC of the last mac() call, big-endian bytes. */
  readonly digest = new Uint8Array(SHA1_LENGTH);

  constructor(key: Uint8Array) {
    if (key.length > SHA1_BLOCK) throw new RangeError('HMAC-SHA1 key longer than 64 bytes');
    const pad = new Uint8Array(SHA1_BLOCK);
    for (const [fill, state] of [[0x36, this.#inner], [0x5c, this.#outer]] as const) {
      pad.fill(fill);
      for (let i = 0; i < key.length; i++) pad[i]! ^= key[i]!;
      this.#h.set(IV);
      this.#compress(pad, 0);
      state.set(this.#h);
    }
    pad.fill(0);
  }

  /**
   * HMAC of data[0, end), followed by the 32-bit big-endian `trailer` when
   * `withTrailer` (SRTP appends the ROC so, RFC 3711 §4.2), into `digest`.
   */
  mac(data: Uint8Array, end: number, trailer: number, withTrailer: boolean): Uint8Array {
    const h = this.#h;
    h.set(this.#inner);
    const full = end - (end % SHA1_BLOCK);
    for (let o = 0; o < full; o += SHA1_BLOCK) this.#compress(data, o);
    const tail = this.#tail;
    let n = 0;
    for (let i = full; i < end; i++) tail[n++] = data[i]!;
    if (withTrailer) {
      tail[n++] = trailer >>> 24;
      tail[n++] = (trailer >>> 16) & 0xff;
      tail[n++] = (trailer >>> 8) & 0xff;
      tail[n++] = trailer & 0xff;
    }
    this.#finish(SHA1_BLOCK + end + (withTrailer ? 4 : 0), n);
    // Outer hash: one block holding the inner digest.
    const d = this.digest;
    writeState(h, d);
    h.set(this.#outer);
    tail.set(d, 0);
    this.#finish(SHA1_BLOCK + SHA1_LENGTH, SHA1_LENGTH);
    writeState(h, d);
    return d;
  }

  /** Overwrites the key-dependent state; the object is unusable afterwards. */
  wipe(): void {
    this.#inner.fill(0);
    this.#outer.fill(0);
    this.#h.fill(0);
    this.#w.fill(0);
    this.#tail.fill(0);
    this.digest.fill(0);
  }

  /** Pads the n message bytes in #tail (RFC 3174 §4) for a message of `total` bytes and hashes them. */
  #finish(total: number, n: number): void {
    const tail = this.#tail;
    tail[n++] = 0x80;
    const blocks = n + 8 <= SHA1_BLOCK ? 1 : 2;
    const last = blocks * SHA1_BLOCK;
    tail.fill(0, n, last - 4);
    // Bit length; messages here are far below 2^32 bits, so the high word stays 0.
    const bits = total * 8;
    tail[last - 4] = bits >>> 24;
    tail[last - 3] = (bits >>> 16) & 0xff;
    tail[last - 2] = (bits >>> 8) & 0xff;
    tail[last - 1] = bits & 0xff;
    this.#compress(tail, 0);
    if (blocks === 2) this.#compress(tail, SHA1_BLOCK);
  }

  /** RFC 3174 §6.1: one 512-bit block at b[o] into #h. */
  #compress(b: Uint8Array, o: number): void {
    const w = this.#w;
    for (let t = 0; t < 16; t++, o += 4) w[t] = (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
    for (let t = 16; t < 80; t++) {
      const x = w[t - 3]! ^ w[t - 8]! ^ w[t - 14]! ^ w[t - 16]!;
      w[t] = (x << 1) | (x >>> 31);
    }
    const h = this.#h;
    let a = h[0]!, bb = h[1]!, c = h[2]!, d = h[3]!, e = h[4]!;
    for (let t = 0; t < 80; t++) {
      let f: number, k: number;
      if (t < 20) {
        f = (bb & c) | (~bb & d);
        k = 0x5a827999;
      } else if (t < 40) {
        f = bb ^ c ^ d;
        k = 0x6ed9eba1;
      } else if (t < 60) {
        f = (bb & c) | (bb & d) | (c & d);
        k = 0x8f1bbcdc;
      } else {
        f = bb ^ c ^ d;
        k = 0xca62c1d6;
      }
      const temp = (((a << 5) | (a >>> 27)) + f + e + k + w[t]!) | 0;
      e = d;
      d = c;
      c = (bb << 30) | (bb >>> 2);
      bb = a;
      a = temp;
    }
    h[0] = (h[0]! + a) | 0;
    h[1] = (h[1]! + bb) | 0;
    h[2] = (h[2]! + c) | 0;
    h[3] = (h[3]! + d) | 0;
    h[4] = (h[4]! + e) | 0;
  }
}

function writeState(h: Int32Array, out: Uint8Array): void {
  for (let i = 0; i < 5; i++) {
    const v = h[i]!;
    out[4 * i] = v >>> 24;
    out[4 * i + 1] = (v >>> 16) & 0xff;
    out[4 * i + 2] = (v >>> 8) & 0xff;
    out[4 * i + 3] = v & 0xff;
  }
}
