import { describe, expect, it } from 'vitest';
import { goertzelPower } from '../../../src/media/goertzel.ts';
import { ManualMediaClock } from '../../../src/media/media-clock.ts';
import { ConferenceMixer, type MixerPort } from '../../../src/media/mixer.ts';
import { tone } from '../../../src/media/tones.ts';

/** A participant that speaks one sine and keeps what it hears. */
class SinePort implements MixerPort {
  readonly src: Int16Array;
  private pos = 0;
  readonly heard: number[] = [];
  constructor(freq: number, levelDb = -12) {
    this.src = tone({ freqs: [freq], levelDb }, 2000);
  }
  takeFrame(): Int16Array | undefined {
    const f = this.src.subarray(this.pos, this.pos + 160);
    this.pos += 160;
    return f.length === 160 ? f : undefined;
  }
  sendFrame(pcm: Int16Array): void {
    for (const v of pcm) this.heard.push(v);
  }
}

const level = (pcm: number[], f: number): number => Math.sqrt(goertzelPower(pcm.slice(800, 1600), f)) / 400;

describe('ConferenceMixer', () => {
  it('each of three parties hears the other two and not itself', () => {
    const clock = new ManualMediaClock();
    const mixer = new ConferenceMixer(clock);
    const freqs = [500, 1000, 1500];
    const ports = freqs.map((f) => new SinePort(f));
    for (const p of ports) mixer.add(p);
    clock.tick(20);
    const amp = 32767 * 10 ** (-12 / 20);
    ports.forEach((p, k) => {
      expect(p.heard.length).toBe(3200);
      for (let j = 0; j < 3; j++) {
        const a = level(p.heard, freqs[j]!);
        if (j === k) expect(a, `party ${k} hears itself`).toBeLessThan(amp * 0.001);
        else expect(a / amp, `party ${k} hears ${j}`).toBeCloseTo(1, 1);
      }
    });
  });

  it('saturates instead of wrapping, and a silent party still hears the rest', () => {
    const mixer = new ConferenceMixer();
    const loud = [new SinePort(400, 0), new SinePort(400, 0), new SinePort(400, 0)];
    const quiet: MixerPort & { heard: number[] } = { heard: [], takeFrame: () => undefined, sendFrame(p) { this.heard.push(...p); } };
    for (const p of [...loud, quiet]) mixer.add(p);
    for (let i = 0; i < 10; i++) mixer.mix();
    expect(Math.max(...quiet.heard)).toBe(32767);
    expect(Math.min(...quiet.heard)).toBe(-32768);
    // A wrapped sum would flip sign at the peaks: at the sine's crest the output stays at the top.
    const crest = quiet.heard.findIndex((v) => v === 32767);
    expect(quiet.heard[crest + 1]).toBeGreaterThan(30000);
  });

  it('leaves the clock when the last party goes; a removed party gets nothing more', () => {
    const clock = new ManualMediaClock();
    const mixer = new ConferenceMixer(clock);
    const a = new SinePort(300);
    const b = new SinePort(600);
    mixer.add(a);
    mixer.add(b);
    mixer.add(b);
    expect(mixer.size).toBe(2);
    clock.tick();
    mixer.remove(a);
    clock.tick();
    expect(a.heard.length).toBe(160);
    expect(b.heard.length).toBe(320);
    expect(b.heard.slice(160).every((v) => v === 0)).toBe(true); // alone: hears silence
    mixer.remove(b);
    clock.tick();
    expect(b.heard.length).toBe(320);
  });
});
