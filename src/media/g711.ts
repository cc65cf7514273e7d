// ITU-T G.711 µ-law and A-law companding between 16-bit linear PCM and 8-bit
// code words. Decoding is one 256-entry table lookup; encoding is one lookup
// in a table indexed by the sample's top 14 (µ-law) or 13 (A-law) bits, the
// precision G.711's encoders work in, built once by the segment search below.

/** µ-law: the 14-bit magnitude is biased by 33 so every segment starts at a power of two. */
const ULAW_BIAS = 33;
/** Largest magnitude below the top decision value (8159) so the biased value stays in segment 7. */
const ULAW_CLIP = 8158;

function ulawEncode14(v: number): number {
  // v: signed 14-bit sample (-8192..8191).
  let mask = 0xff;
  if (v < 0) {
    v = -v; // sign and magnitude
    mask = 0x7f;
  }
  if (v > ULAW_CLIP) v = ULAW_CLIP;
  v += ULAW_BIAS;
  let seg = 0;
  while (seg < 7 && v >= 0x40 << seg) seg++;
  const mant = (v >> (seg + 1)) & 0x0f;
  return ((seg << 4) | mant) ^ mask;
}

function ulawDecode16(code: number): number {
  const u = ~code & 0xff;
  const seg = (u >> 4) & 7;
  // 16-bit scale (4x the 14-bit ITU values): the interval's mid-point, bias removed.
  const mag = ((((u & 0x0f) << 3) + (ULAW_BIAS << 2)) << seg) - (ULAW_BIAS << 2);
  return u & 0x80 ? -mag : mag;
}

function alawEncode13(v: number): number {
  // v: signed 13-bit sample (-4096..4095).
  let mask = 0xd5;
  if (v < 0) {
    v = -v - 1;
    mask = 0x55;
  }
  let seg = 0;
  while (seg < 8 && v >= 0x20 << seg) seg++;
  if (seg >= 8) return 0x7f ^ mask;
  const mant = seg < 2 ? (v >> 1) & 0x0f : (v >> seg) & 0x0f;
  return ((seg << 4) | mant) ^ mask;
}

function alawDecode16(code: number): number {
  const a = code ^ 0x55;
  const seg = (a >> 4) & 7;
  const mant = a & 0x0f;
  // 16-bit scale (8x the 13-bit ITU values): segment 0 is 1,3..31, segment s>0 is 33<<(s-1) + mant*(2<<(s-1)).
  const t = seg === 0 ? (mant << 4) + 8 : ((mant << 4) + 0x108) << (seg - 1);
  return a & 0x80 ? t : -t;
}

/** Code word → 16-bit linear sample. */
export const ULAW_DECODE: Int16Array = new Int16Array(256);
export const ALAW_DECODE: Int16Array = new Int16Array(256);
/** Indexed by (sample >> 2) + 8192. */
const ULAW_ENCODE = new Uint8Array(16384);
/** Indexed by (sample >> 3) + 4096. */
const ALAW_ENCODE = new Uint8Array(8192);

for (let c = 0; c < 256; c++) {
  ULAW_DECODE[c] = ulawDecode16(c);
  ALAW_DECODE[c] = alawDecode16(c);
}
for (let i = 0; i < 16384; i++) ULAW_ENCODE[i] = ulawEncode14(i - 8192);
for (let i = 0; i < 8192; i++) ALAW_ENCODE[i] = alawEncode13(i - 4096);

export type G711Law = 'ulaw' | 'alaw';

export function ulawEncodeSample(s: number): number {
  return ULAW_ENCODE[(s >> 2) + 8192]!;
}

export function alawEncodeSample(s: number): number {
  return ALAW_ENCODE[(s >> 3) + 4096]!;
}

/**
 * Encodes `pcm` (int16) into `out` (at least pcm.length bytes, from offset
 * `at`). No allocation: the endpoint encodes straight into its RTP buffer.
 */
export function encodeG711(law: G711Law, pcm: Int16Array, out: Uint8Array, at = 0, length = pcm.length): void {
  const table = law === 'ulaw' ? ULAW_ENCODE : ALAW_ENCODE;
  const shift = law === 'ulaw' ? 2 : 3;
  const offset = law === 'ulaw' ? 8192 : 4096;
  for (let i = 0; i < length; i++) out[at + i] = table[(pcm[i]! >> shift) + offset]!;
}

/** Decodes `length` code words of `src` from `from` into `out` (int16). No allocation. */
export function decodeG711(law: G711Law, src: Uint8Array, from: number, length: number, out: Int16Array, at = 0): void {
  const table = law === 'ulaw' ? ULAW_DECODE : ALAW_DECODE;
  for (let i = 0; i < length; i++) out[at + i] = table[src[from + i]!]!;
}
