import { describe, expect, it } from 'vitest';
import { ALAW_DECODE, ULAW_DECODE, alawEncodeSample, decodeG711, encodeG711, ulawEncodeSample } from '../../../src/media/g711.ts';

// ITU-T G.711 Tables 1a/2a structure: the decoder output values of each
// segment, in the standard's own units (µ-law 14-bit, A-law 13-bit).
// µ-law segment s (0..7): outputs start at (33 << s) - 33 ... step 2 << s; Table 2a lists 0,2..30 | 33,37..93 | 99,107..219 | ... | 4191..8031.
const ULAW_SEGMENTS: Array<[first: number, step: number]> = [
  [0, 2], [33, 4], [99, 8], [231, 16], [495, 32], [1023, 64], [2079, 128], [4191, 256],
];
// A-law Table 1a: 1,3..31 | 33,35..63 | 66,70..126 | 132..252 | 264..504 | 528..1008 | 1056..2016 | 2112..4032.
const ALAW_SEGMENTS: Array<[first: number, step: number]> = [
  [1, 2], [33, 2], [66, 4], [132, 8], [264, 16], [528, 32], [1056, 64], [2112, 128],
];

describe('G.711 µ-law', () => {
  it('decodes the known code words', () => {
    expect(ULAW_DECODE[0xff]).toBe(0);
    expect(ULAW_DECODE[0x7f]).toBe(0); // negative zero
    expect(ULAW_DECODE[0x80]! / 4).toBe(8031);
    expect(ULAW_DECODE[0x00]! / 4).toBe(-8031);
    expect(ULAW_DECODE[0xfe]! / 4).toBe(2);
    expect(ULAW_DECODE[0xef]! / 4).toBe(33);
  });

  it('decodes every positive and negative code word to the ITU table value', () => {
    for (let seg = 0; seg < 8; seg++) {
      const [first, step] = ULAW_SEGMENTS[seg]!;
      for (let m = 0; m < 16; m++) {
        const pos = 0xff - ((seg << 4) | m); // bits inverted on the line
        expect(ULAW_DECODE[pos]! / 4, `code ${pos.toString(16)}`).toBe(first + step * m);
        expect(-ULAW_DECODE[pos & 0x7f]! / 4 + 0, `code ${(pos & 0x7f).toString(16)}`).toBe(first + step * m);
      }
    }
    expect(ULAW_SEGMENTS[7]![0] + 15 * ULAW_SEGMENTS[7]![1]).toBe(8031);
  });

  it('all 256 code words decode then encode to themselves (negative zero to 0x7f or 0xff)', () => {
    for (let c = 0; c < 256; c++) {
      const back = ulawEncodeSample(ULAW_DECODE[c]!);
      if (c === 0x7f) expect([0x7f, 0xff]).toContain(back);
      else expect(back, `code ${c.toString(16)}`).toBe(c);
    }
  });

  it('quantisation error stays within half a step of the segment', () => {
    for (let s = -32768; s < 32768; s += 7) {
      const d = ULAW_DECODE[ulawEncodeSample(s)]!;
      const target = Math.max(-32124, Math.min(32124, s));
      expect(Math.abs(d - target), `sample ${s} -> ${d}`).toBeLessThanOrEqual(halfStep(ULAW_SEGMENTS, Math.abs(d) / 4) * 4 + 3);
    }
    expect(ULAW_DECODE[ulawEncodeSample(32767)]).toBe(32124); // clipped at the top
    expect(ULAW_DECODE[ulawEncodeSample(-32768)]).toBe(-32124);
  });
});

/** Half the quantisation step of the segment holding decoder value `v` (ITU units). */
function halfStep(segments: Array<[number, number]>, v: number): number {
  let seg = 0;
  while (seg < 7 && v >= segments[seg + 1]![0]) seg++;
  return segments[seg]![1] / 2;
}

describe('G.711 A-law', () => {
  it('decodes the known code words', () => {
    expect(ALAW_DECODE[0xd5]! / 8).toBe(1);
    expect(ALAW_DECODE[0x55]! / 8).toBe(-1);
    expect(ALAW_DECODE[0xaa]! / 8).toBe(4032);
    expect(ALAW_DECODE[0x2a]! / 8).toBe(-4032);
  });

  it('decodes every code word to the ITU table value (even bits inverted on the line)', () => {
    for (let seg = 0; seg < 8; seg++) {
      const [first, step] = ALAW_SEGMENTS[seg]!;
      for (let m = 0; m < 16; m++) {
        const line = ((seg << 4) | m) ^ 0x55;
        expect(ALAW_DECODE[line | 0x80]! / 8, `code ${(line | 0x80).toString(16)}`).toBe(first + step * m);
        expect(ALAW_DECODE[line & 0x7f]! / 8, `code ${(line & 0x7f).toString(16)}`).toBe(-(first + step * m));
      }
    }
  });

  it('all 256 code words decode then encode to themselves', () => {
    for (let c = 0; c < 256; c++) expect(alawEncodeSample(ALAW_DECODE[c]!), `code ${c.toString(16)}`).toBe(c);
  });

  it('quantisation error stays within half a step (clipping at 4032 units)', () => {
    for (let s = -32768; s < 32768; s += 5) {
      const d = ALAW_DECODE[alawEncodeSample(s)]!;
      const target = Math.max(-4032 * 8, Math.min(4032 * 8, s));
      expect(Math.abs(d - target), `sample ${s} -> ${d}`).toBeLessThanOrEqual(halfStep(ALAW_SEGMENTS, Math.abs(d) / 8) * 8 + 7);
    }
  });
});

describe('buffer coding', () => {
  it('encodes into a buffer at an offset and decodes back', () => {
    const pcm = Int16Array.from({ length: 160 }, (_, i) => Math.round(12000 * Math.sin((2 * Math.PI * 1000 * i) / 8000)));
    for (const law of ['ulaw', 'alaw'] as const) {
      const buf = new Uint8Array(172);
      encodeG711(law, pcm, buf, 12);
      const back = new Int16Array(160);
      decodeG711(law, buf, 12, 160, back);
      let err = 0;
      for (let i = 0; i < 160; i++) err = Math.max(err, Math.abs(back[i]! - pcm[i]!));
      expect(err).toBeLessThan(600); // the top segments' step at 12000 is 512 (µ) / 512 (A)
      expect(err).toBeGreaterThan(0);
    }
  });
});
