// Call-progress and signalling tones as 8 kHz 16-bit PCM: sums of sines with
// an on/off cadence and short raised-cosine edges (no clicks, and no
// splatter that an in-band DTMF detector could mistake for a digit).
import { DTMF_COL_HZ, DTMF_KEYPAD, DTMF_ROW_HZ } from './dtmf.ts';

export const SAMPLE_RATE = 8000;

export interface ToneSpec {
  /** Frequencies summed, Hz. */
  freqs: readonly number[];
  /** Level of each frequency, dB relative to full scale. Default -13 (about -10 dBm0 in G.711). */
  levelDb?: number;
  /** On/off cadence in ms, repeated; absent = continuous. */
  onMs?: number;
  offMs?: number;
}

/** 1000 Hz, 250 ms: the "leave your message after the tone" beep. */
export const BEEP: ToneSpec = { freqs: [1000], onMs: 250, offMs: 0 };
/** Ringback and busy per ETSI (425 Hz) and North America (dual tones). */
export const RINGBACK_EU: ToneSpec = { freqs: [425], onMs: 1000, offMs: 4000 };
export const RINGBACK_US: ToneSpec = { freqs: [440, 480], onMs: 2000, offMs: 4000 };
export const BUSY_EU: ToneSpec = { freqs: [425], onMs: 500, offMs: 500 };
export const BUSY_US: ToneSpec = { freqs: [480, 620], onMs: 500, offMs: 500 };

const RAMP_MS = 4;

/** `durationMs` of the tone, cadence included (a BEEP of 250 ms is just the beep). */
export function tone(spec: ToneSpec, durationMs: number): Int16Array {
  const n = Math.max(0, Math.round((durationMs * SAMPLE_RATE) / 1000));
  const out = new Int16Array(n);
  const amp = 32767 * 10 ** ((spec.levelDb ?? -13) / 20);
  const on = spec.onMs !== undefined ? Math.round((spec.onMs * SAMPLE_RATE) / 1000) : n;
  const off = spec.offMs !== undefined ? Math.round((spec.offMs * SAMPLE_RATE) / 1000) : 0;
  const period = on + off;
  const ramp = Math.round((RAMP_MS * SAMPLE_RATE) / 1000);
  const w = spec.freqs.map((f) => (2 * Math.PI * f) / SAMPLE_RATE);
  for (let i = 0; i < n; i++) {
    const p = period > 0 ? i % period : i;
    if (p >= on) continue;
    const edge = Math.min(p, on - 1 - p);
    const env = edge >= ramp ? 1 : 0.5 - 0.5 * Math.cos((Math.PI * edge) / ramp);
    let v = 0;
    for (const wk of w) v += Math.sin(wk * i);
    const s = Math.round(amp * env * v);
    out[i] = s > 32767 ? 32767 : s < -32768 ? -32768 : s;
  }
  return out;
}

/** The frequency pair of a DTMF digit (0-9 * # A-D), or undefined. */
export function dtmfFreqs(digit: string): [number, number] | undefined {
  const d = digit.toUpperCase();
  for (let r = 0; r < 4; r++) {
    const c = DTMF_KEYPAD[r]!.indexOf(d);
    if (c >= 0) return [DTMF_ROW_HZ[r]!, DTMF_COL_HZ[c]!];
  }
  return undefined;
}

/** One in-band DTMF digit: `onMs` of tone then `offMs` of silence. RangeError for a non-digit. */
export function dtmfTone(digit: string, onMs = 100, offMs = 0, levelDb = -10): Int16Array {
  const f = dtmfFreqs(digit);
  if (f === undefined) throw new RangeError(`not a DTMF digit: ${digit}`);
  return tone({ freqs: f, levelDb, onMs, offMs: Math.max(0, offMs) }, onMs + offMs);
}

/** Concatenates PCM pieces (prompt sequences, digit strings). */
export function concatPcm(parts: readonly Int16Array[]): Int16Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Int16Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** `ms` of silence. */
export const silence = (ms: number): Int16Array => new Int16Array(Math.round((ms * SAMPLE_RATE) / 1000));
