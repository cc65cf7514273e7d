// In-band DTMF detection (ITU-T Q.23 frequencies, Q.24-style acceptance) over
// 8 kHz PCM, for phones that send neither RFC 4733 events nor SIP INFO.
//
// Goertzel filters on the eight DTMF frequencies over 160-sample (20 ms)
// windows advanced by 80 samples. A window holds a digit when: both tones
// are loud enough; the twist between them is within limits; each is clearly
// the strongest of its group; together they carry most of the window's
// energy (speech and music spread theirs); both halves of the window hold
// about the same energy (a tone fills the window); and each beats two guard filters
// 4% either side of it, which puts the frequency acceptance edge near ±2%
// (Q.24: accept ±1.5%, reject ±3.5%). A digit is reported once per press,
// after two consecutive windows agree (a tone of 40 ms always gives two;
// 20 ms never does), and a new press needs two windows without it.
import { DTMF_COL_HZ, DTMF_KEYPAD, DTMF_ROW_HZ } from './dtmf.ts';

export const GOERTZEL_WINDOW = 160;
const HOP = 80;
const GUARD = 0.04;

/** |X(f)|² of `block` at `freq` by Goertzel's recurrence (the DFT bin need not be an integer). */
export function goertzelPower(block: ArrayLike<number>, freq: number, rate = 8000, from = 0, length = block.length - from): number {
  return goertzelWith(block, 2 * Math.cos((2 * Math.PI * freq) / rate), from, length);
}

function goertzelWith(block: ArrayLike<number>, coeff: number, from: number, length: number): number {
  let s1 = 0;
  let s2 = 0;
  for (let i = from, end = from + length; i < end; i++) {
    const s = block[i]! + coeff * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  return s1 * s1 + s2 * s2 - coeff * s1 * s2;
}

export interface InbandDtmfOptions {
  /** Minimum amplitude of each tone (16-bit scale). Default 500 (about -33 dBm0). */
  minAmplitude?: number;
  /** Allowed twist in dB, high group stronger ("normal") and weaker ("reverse"). Default 8 and 8. */
  normalTwistDb?: number;
  reverseTwistDb?: number;
}

const coeffs = (freqs: readonly number[], scale: number): Float64Array =>
  Float64Array.from(freqs, (f) => 2 * Math.cos((2 * Math.PI * f * scale) / 8000));

const ROW = coeffs(DTMF_ROW_HZ, 1);
const COL = coeffs(DTMF_COL_HZ, 1);
const ROW_LO = coeffs(DTMF_ROW_HZ, 1 - GUARD);
const ROW_HI = coeffs(DTMF_ROW_HZ, 1 + GUARD);
const COL_LO = coeffs(DTMF_COL_HZ, 1 - GUARD);
const COL_HI = coeffs(DTMF_COL_HZ, 1 + GUARD);

/** Fraction of the window's energy the two tones must carry. */
const MIN_TONE_SHARE = 0.5;
/** Energy of either half of a window relative to the other: a steady tone fills both. */
const MIN_HALF_RATIO = 0.6;
/** Every other filter of a group must be this far (power ratio, 10 dB) below the strongest. */
const GROUP_MARGIN = 10;

/**
 * One stream's in-band detector. feed() takes the PCM as it plays out (any
 * length) and returns a digit when one is recognised in it; allocation-free.
 */
export class InbandDtmfDetector {
  private readonly win = new Float64Array(GOERTZEL_WINDOW);
  private fill = 0;
  /** Samples fed so far (position of the next sample). */
  private pos = 0;

  get samplesFed(): number {
    return this.pos;
  }
  private candidate = '';
  private candidateSince = 0;
  private hits = 0;
  private reported = '';
  private misses = 0;
  private readonly minPower: number;
  private readonly maxNormal: number;
  private readonly maxReverse: number;
  /** Sample position (of the feed() stream) where the last reported digit's tone began, roughly. */
  lastDigitStart = 0;

  constructor(opts: InbandDtmfOptions = {}) {
    const a = opts.minAmplitude ?? 500;
    this.minPower = ((GOERTZEL_WINDOW * a) / 2) ** 2;
    this.maxNormal = 10 ** ((opts.normalTwistDb ?? 8) / 10);
    this.maxReverse = 10 ** ((opts.reverseTwistDb ?? 8) / 10);
  }

  feed(pcm: ArrayLike<number>, from = 0, length = pcm.length - from): string | undefined {
    let found: string | undefined;
    for (let i = from, end = from + length; i < end; i++) {
      this.win[this.fill++] = pcm[i]!;
      this.pos++;
      if (this.fill === GOERTZEL_WINDOW) {
        const d = this.step(this.window());
        if (d !== undefined) found = d;
        this.win.copyWithin(0, HOP);
        this.fill = GOERTZEL_WINDOW - HOP;
      }
    }
    return found;
  }

  /** Forgets a press in progress (after a gap in the stream). */
  reset(): void {
    this.fill = 0;
    this.candidate = '';
    this.hits = 0;
    this.reported = '';
    this.misses = 0;
  }

  private step(digit: string): string | undefined {
    if (digit === '') {
      if (++this.misses >= 2) {
        this.reported = '';
        this.candidate = '';
        this.hits = 0;
      }
      return undefined;
    }
    this.misses = 0;
    if (digit !== this.candidate) {
      this.candidate = digit;
      this.candidateSince = this.pos - GOERTZEL_WINDOW;
      this.hits = 1;
      return undefined;
    }
    this.hits++;
    if (this.hits >= 2 && this.reported !== digit) {
      this.reported = digit;
      this.lastDigitStart = this.candidateSince;
      return digit;
    }
    return undefined;
  }

  /** The digit the current window holds, or ''. */
  private window(): string {
    const w = this.win;
    let first = 0;
    let energy = 0;
    for (let i = 0; i < GOERTZEL_WINDOW; i++) {
      energy += w[i]! * w[i]!;
      if (i === GOERTZEL_WINDOW / 2 - 1) first = energy;
    }
    // A tone that fills only part of the window (its start or end) is left to the next window.
    const second = energy - first;
    if (first < second * MIN_HALF_RATIO || second < first * MIN_HALF_RATIO) return '';
    // Each tone needs minPower; a window below twice that cannot hold two.
    if (energy * (GOERTZEL_WINDOW / 2) < 2 * this.minPower) return '';
    const r = best(w, ROW);
    const c = best(w, COL);
    if (r < 0 || c < 0) return '';
    const pr = goertzelWith(w, ROW[r]!, 0, GOERTZEL_WINDOW);
    const pc = goertzelWith(w, COL[c]!, 0, GOERTZEL_WINDOW);
    if (pr < this.minPower || pc < this.minPower) return '';
    if (pc > pr * this.maxNormal || pr > pc * this.maxReverse) return '';
    // An on-bin tone of amplitude A has power (N·A/2)² and energy N·A²/2: share = 2·P/(N·E).
    if ((2 * (pr + pc)) / (GOERTZEL_WINDOW * energy) < MIN_TONE_SHARE) return '';
    if (goertzelWith(w, ROW_LO[r]!, 0, GOERTZEL_WINDOW) >= pr || goertzelWith(w, ROW_HI[r]!, 0, GOERTZEL_WINDOW) >= pr) return '';
    if (goertzelWith(w, COL_LO[c]!, 0, GOERTZEL_WINDOW) >= pc || goertzelWith(w, COL_HI[c]!, 0, GOERTZEL_WINDOW) >= pc) return '';
    return DTMF_KEYPAD[r]![c]!;
  }
}

/** Index of the group's strongest filter, or -1 when another is within GROUP_MARGIN of it. */
function best(w: Float64Array, group: Float64Array): number {
  let bi = -1;
  let bp = -1;
  let second = 0;
  for (let i = 0; i < group.length; i++) {
    const p = goertzelWith(w, group[i]!, 0, GOERTZEL_WINDOW);
    if (p > bp) {
      second = bp;
      bp = p;
      bi = i;
    } else if (p > second) second = p;
  }
  return second * GROUP_MARGIN > bp ? -1 : bi;
}
