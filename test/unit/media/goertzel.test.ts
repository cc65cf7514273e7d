import { describe, expect, it } from 'vitest';
import { InbandDtmfDetector, goertzelPower } from '../../../src/media/goertzel.ts';
import { concatPcm, dtmfFreqs, dtmfTone, silence, tone } from '../../../src/media/tones.ts';

/** Every digit the detector reports over `pcm`, fed in 20 ms frames like the endpoint does. */
function detect(pcm: Int16Array, det = new InbandDtmfDetector()): string {
  let out = '';
  for (let i = 0; i < pcm.length; i += 160) {
    const d = det.feed(pcm, i, Math.min(160, pcm.length - i));
    if (d !== undefined) out += d;
  }
  return out;
}

/** A digit's two tones with per-tone frequency factors and levels. */
function pair(digit: string, ms: number, rowFactor = 1, colFactor = 1, rowDb = -10, colDb = -10): Int16Array {
  const [r, c] = dtmfFreqs(digit)!;
  const a = tone({ freqs: [r * rowFactor], levelDb: rowDb }, ms);
  const b = tone({ freqs: [c * colFactor], levelDb: colDb }, ms);
  return a.map((v, i) => v + b[i]!);
}

let seed = 12345;
const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
/** Gaussian-ish white noise at `db` dBFS RMS. */
function noise(n: number, db: number): Int16Array {
  const rms = 32767 * 10 ** (db / 20);
  return Int16Array.from({ length: n }, () => Math.round(rms * (rnd() + rnd() + rnd() + rnd() - 2) * Math.sqrt(3)));
}
const mix = (a: Int16Array, b: Int16Array): Int16Array => a.map((v, i) => Math.max(-32768, Math.min(32767, v + (b[i] ?? 0))));

describe('goertzelPower', () => {
  it('an on-bin sine of amplitude A over N samples has power (N·A/2)²', () => {
    const s = tone({ freqs: [1000], levelDb: -6 }, 40).subarray(40, 200);
    const a = 32767 * 10 ** (-6 / 20);
    expect(Math.sqrt(goertzelPower(s, 1000)) / ((160 * a) / 2)).toBeCloseTo(1, 2);
    expect(goertzelPower(s, 1500)).toBeLessThan(goertzelPower(s, 1000) / 1e4);
  });
});

describe('InbandDtmfDetector', () => {
  it('detects each of the 16 digits once, in order', () => {
    const keys = '123A456B789C*0#D';
    const pcm = concatPcm([...keys].map((k) => dtmfTone(k, 60, 60)));
    expect(detect(pcm)).toBe(keys);
  });

  it('reports a long press once and two presses 40 ms apart twice', () => {
    expect(detect(concatPcm([silence(30), dtmfTone('5', 800), silence(100)]))).toBe('5');
    expect(detect(concatPcm([dtmfTone('7', 60), silence(40), dtmfTone('7', 60)]))).toBe('77');
  });

  it('accepts 40 ms tones at every alignment and rejects 20 ms ones', () => {
    for (let shift = 0; shift < 160; shift += 20) {
      expect(detect(concatPcm([silence(shift / 8), dtmfTone('9', 40), silence(60)])), `shift ${shift}`).toBe('9');
      expect(detect(concatPcm([silence(shift / 8), dtmfTone('9', 20), silence(60)])), `shift ${shift}`).toBe('');
    }
  });

  it('accepts ±1.5% frequency deviation and rejects ±3.5% (Q.24)', () => {
    for (const d of '1590*#AD') {
      for (const f of [0.985, 1.015]) {
        expect(detect(pair(d, 80, f, 1)), `${d} row ${f}`).toBe(d);
        expect(detect(pair(d, 80, 1, f)), `${d} col ${f}`).toBe(d);
        expect(detect(pair(d, 80, f, f)), `${d} both ${f}`).toBe(d);
      }
      for (const f of [0.965, 1.035]) {
        expect(detect(pair(d, 80, f, 1)), `${d} row ${f}`).toBe('');
        expect(detect(pair(d, 80, 1, f)), `${d} col ${f}`).toBe('');
      }
    }
  });

  it('accepts twist up to 6 dB either way and rejects 12 dB', () => {
    for (const d of '3#') {
      expect(detect(pair(d, 80, 1, 1, -16, -10))).toBe(d);
      expect(detect(pair(d, 80, 1, 1, -10, -16))).toBe(d);
      expect(detect(pair(d, 80, 1, 1, -22, -10))).toBe('');
      expect(detect(pair(d, 80, 1, 1, -10, -22))).toBe('');
    }
  });

  it('detects in moderate noise (15 dB below the tones) and ignores very quiet tones', () => {
    const pcm = concatPcm([dtmfTone('1', 60, 60), dtmfTone('4', 60, 60), dtmfTone('#', 60, 60)]);
    expect(detect(mix(pcm, noise(pcm.length, -25)))).toBe('14#');
    expect(detect(pair('8', 100, 1, 1, -50, -50))).toBe('');
  });

  it('reports nothing for one tone alone, a chirp, noise or a chord off the DTMF grid', () => {
    expect(detect(tone({ freqs: [697] }, 500))).toBe('');
    expect(detect(tone({ freqs: [1336] }, 500))).toBe('');
    const chirp = Int16Array.from({ length: 16000 }, (_, i) => {
      const t = i / 8000;
      return Math.round(10000 * Math.sin(2 * Math.PI * (300 * t + (3100 / 4) * t * t)));
    });
    expect(detect(chirp)).toBe('');
    expect(detect(noise(16000, -10))).toBe('');
    expect(detect(tone({ freqs: [659.3, 1318.5] }, 500))).toBe(''); // E5 + E6: a tone pair 5% / 1.3% off
  });

  it('gives roughly where the digit began', () => {
    const det = new InbandDtmfDetector();
    expect(detect(concatPcm([silence(500), dtmfTone('2', 100)]), det)).toBe('2');
    expect(Math.abs(det.lastDigitStart - 4000)).toBeLessThanOrEqual(160);
  });
});
