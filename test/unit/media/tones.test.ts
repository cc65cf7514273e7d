import { describe, expect, it } from 'vitest';
import { goertzelPower } from '../../../src/media/goertzel.ts';
import { BEEP, BUSY_EU, RINGBACK_US, concatPcm, dtmfFreqs, dtmfTone, silence, tone } from '../../../src/media/tones.ts';

const rms = (p: Int16Array): number => Math.sqrt(p.reduce((a, v) => a + v * v, 0) / Math.max(1, p.length));

describe('tones', () => {
  it('the beep is 250 ms of 1000 Hz at -13 dBFS', () => {
    const b = tone(BEEP, 250);
    expect(b.length).toBe(2000);
    const mid = b.subarray(800, 960);
    expect(goertzelPower(mid, 1000)).toBeGreaterThan(1000 * goertzelPower(mid, 800));
    expect(rms(mid) / 32767).toBeCloseTo(10 ** (-13 / 20) / Math.SQRT2, 2);
    expect(Math.abs(b[0]!)).toBeLessThan(50); // soft edge, no click
  });

  it('follows the cadence: busy is 500 ms on, 500 ms off', () => {
    const b = tone(BUSY_EU, 2000);
    expect(rms(b.subarray(400, 3600))).toBeGreaterThan(1000);
    expect(rms(b.subarray(4000, 8000))).toBe(0);
    expect(rms(b.subarray(8100, 11900))).toBeGreaterThan(1000);
    const r = tone(RINGBACK_US, 6000).subarray(4000, 4800);
    expect(goertzelPower(r, 440)).toBeGreaterThan(100 * goertzelPower(r, 620));
    expect(goertzelPower(r, 480)).toBeGreaterThan(100 * goertzelPower(r, 620));
  });

  it('DTMF digits carry their row and column frequencies', () => {
    expect(dtmfFreqs('5')).toEqual([770, 1336]);
    expect(dtmfFreqs('#')).toEqual([941, 1477]);
    expect(dtmfFreqs('x')).toBeUndefined();
    expect(() => dtmfTone('x')).toThrow(RangeError);
    const d = dtmfTone('0', 100, 50);
    expect(d.length).toBe(1200);
    const w = d.subarray(0, 800);
    expect(goertzelPower(w, 941)).toBeGreaterThan(100 * goertzelPower(w, 852));
    expect(goertzelPower(w, 1336)).toBeGreaterThan(100 * goertzelPower(w, 1209));
    expect(rms(d.subarray(800))).toBe(0);
  });

  it('concatenates and makes silence', () => {
    expect(concatPcm([Int16Array.of(1, 2), silence(0.25), Int16Array.of(3)])).toEqual(Int16Array.of(1, 2, 0, 0, 3));
  });
});
