import { describe, expect, it } from 'vitest';
import { goertzelPower } from '../../../src/media/goertzel.ts';
import { resample } from '../../../src/media/resample.ts';
import { WavError, readWav, readWavAt, writeWav } from '../../../src/media/wav.ts';

const sine = (freq: number, rate: number, n: number, amp = 10000): Int16Array =>
  Int16Array.from({ length: n }, (_, i) => Math.round(amp * Math.sin((2 * Math.PI * freq * i) / rate)));

/** Hand-built RIFF file from chunks (id, body), each padded to even length. */
function riff(chunks: Array<[string, Buffer]>, riffSize?: number): Buffer {
  const parts = chunks.map(([id, body]) => {
    const head = Buffer.alloc(8);
    head.write(id, 0, 'latin1');
    head.writeUInt32LE(body.length, 4);
    return Buffer.concat([head, body, Buffer.alloc(body.length & 1)]);
  });
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(12);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE(riffSize ?? body.length + 4, 4);
  head.write('WAVE', 8, 'latin1');
  return Buffer.concat([head, body]);
}

function fmt(format: number, channels: number, rate: number, bits: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt16LE(format, 0);
  b.writeUInt16LE(channels, 2);
  b.writeUInt32LE(rate, 4);
  b.writeUInt32LE((rate * channels * bits) / 8, 8);
  b.writeUInt16LE((channels * bits) / 8, 12);
  b.writeUInt16LE(bits, 14);
  return b;
}

describe('WAV write/read round trip', () => {
  it('PCM16 round trips exactly', () => {
    const pcm = sine(440, 16000, 1601);
    const wav = readWav(writeWav(pcm, { encoding: 'pcm16', sampleRate: 16000 }));
    expect(wav).toMatchObject({ sampleRate: 16000, encoding: 'pcm16', channels: 1 });
    expect(Array.from(wav.pcm)).toEqual(Array.from(pcm));
  });

  it('µ-law and A-law round trip within G.711 quantisation; odd data is padded', () => {
    const pcm = sine(1000, 8000, 801);
    for (const encoding of ['ulaw', 'alaw'] as const) {
      const file = writeWav(pcm, { encoding });
      expect(file.length % 2).toBe(0);
      expect(file.readUInt32LE(4)).toBe(file.length - 8);
      const wav = readWav(file);
      expect(wav.encoding).toBe(encoding);
      expect(wav.pcm.length).toBe(801);
      for (let i = 0; i < pcm.length; i++) expect(Math.abs(wav.pcm[i]! - pcm[i]!)).toBeLessThanOrEqual(320);
    }
  });

  it('default output is 8 kHz mono µ-law with a fact chunk', () => {
    const file = writeWav(new Int16Array(10));
    expect(file.readUInt16LE(20)).toBe(7);
    expect(file.readUInt32LE(24)).toBe(8000);
    expect(file.toString('latin1', 38, 42)).toBe('fact');
  });
});

describe('WAV reading of other files', () => {
  it('downmixes stereo, skips unknown and odd-sized chunks, and follows the extensible format', () => {
    const frames = Buffer.alloc(8);
    frames.writeInt16LE(1000, 0); frames.writeInt16LE(3000, 2); frames.writeInt16LE(-100, 4); frames.writeInt16LE(-300, 6);
    const wav = readWav(riff([['LIST', Buffer.from('odd')], ['fmt ', fmt(1, 2, 8000, 16)], ['data', frames]]));
    expect(Array.from(wav.pcm)).toEqual([2000, -200]);
    const ext = Buffer.alloc(40);
    fmt(1, 1, 8000, 16).copy(ext);
    ext.writeUInt16LE(0xfffe, 0);
    ext.writeUInt16LE(22, 16);
    ext.writeUInt16LE(7, 24); // sub-format GUID: µ-law
    ext.writeUInt16LE(8, 14);
    expect(readWav(riff([['fmt ', ext], ['data', Buffer.from([0xff, 0x80])]])).pcm).toEqual(Int16Array.from([0, 32124]));
  });

  it('reads a data chunk whose size runs past the end as far as the file goes', () => {
    const file = riff([['fmt ', fmt(1, 1, 8000, 16)], ['data', Buffer.alloc(6, 1)]]);
    file.writeUInt32LE(0xffffffff, 12 + 8 + 16 + 4);
    expect(readWav(file).pcm.length).toBe(3);
    expect(readWav(file.subarray(0, file.length - 1)).pcm.length).toBe(2); // half a sample at the end is dropped
  });

  it('rejects hostile and unsupported files with a WavError', () => {
    const bad: Buffer[] = [
      Buffer.alloc(0),
      Buffer.from('RIFF\0\0\0\0WAVX'),
      riff([['data', Buffer.alloc(4)]]), // no fmt
      riff([['fmt ', fmt(1, 1, 8000, 16)]]), // no data
      riff([['fmt ', fmt(1, 1, 8000, 16).subarray(0, 10)], ['data', Buffer.alloc(4)]]), // short fmt
      riff([['fmt ', fmt(1, 1, 8000, 8)], ['data', Buffer.alloc(4)]]), // 8-bit PCM
      riff([['fmt ', fmt(3, 1, 8000, 32)], ['data', Buffer.alloc(4)]]), // float
      riff([['fmt ', fmt(1, 0, 8000, 16)], ['data', Buffer.alloc(4)]]), // no channels
      riff([['fmt ', fmt(1, 1, 0, 16)], ['data', Buffer.alloc(4)]]), // no rate
    ];
    for (const b of bad) expect(() => readWav(b)).toThrow(WavError);
    const huge = riff([['fmt ', fmt(1, 1, 8000, 16)], ['data', Buffer.alloc(200)]]);
    expect(() => readWav(huge, { maxFrames: 50 })).toThrow(/too long/);
    // A chunk size of 4 GB in the middle ends the walk instead of jumping past the buffer.
    const loop = riff([['junk', Buffer.alloc(4)], ['fmt ', fmt(1, 1, 8000, 16)], ['data', Buffer.alloc(4)]]);
    loop.writeUInt32LE(0xfffffff0, 16);
    expect(() => readWav(loop)).toThrow(/no fmt/);
  });

  it('survives random corruption of a valid file without anything but WavError', () => {
    const good = writeWav(sine(500, 8000, 400));
    let seed = 7;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (let n = 0; n < 2000; n++) {
      const b = Buffer.from(good.subarray(0, Math.floor(rnd() * good.length)));
      for (let k = 0; k < 4 && b.length > 0; k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      try {
        readWav(b);
      } catch (err) {
        expect(err).toBeInstanceOf(WavError);
      }
    }
  });
});

describe('resampling to 8 kHz', () => {
  it('keeps an in-band tone and removes what would alias (22050 Hz source)', () => {
    const src = new Int16Array(22050);
    const a = sine(1000, 22050, 22050, 8000);
    const b = sine(5500, 22050, 22050, 8000); // above 4 kHz: would fold to 2500 Hz
    for (let i = 0; i < src.length; i++) src[i] = a[i]! + b[i]!;
    const out = resample(src, 22050, 8000);
    expect(out.length).toBe(8000);
    const block = out.subarray(1000, 1000 + 800);
    const p1000 = goertzelPower(block, 1000, 8000);
    const p2500 = goertzelPower(block, 2500, 8000);
    expect(10 * Math.log10(p1000 / p2500)).toBeGreaterThan(50);
    // 1 kHz keeps its level: power of an 800-sample on-bin sine of amplitude 8000 is (800*8000/2)^2.
    expect(Math.sqrt(p1000) / (400 * 8000)).toBeGreaterThan(0.97);
    expect(Math.sqrt(p1000) / (400 * 8000)).toBeLessThan(1.03);
  });

  it('upsamples 8 kHz µ-law to 16 kHz and back within quantisation noise', () => {
    const pcm = readWavAt(writeWav(sine(700, 8000, 2000), { encoding: 'pcm16' }), 16000);
    expect(pcm.length).toBe(4000);
    const back = resample(pcm, 16000, 8000);
    const orig = sine(700, 8000, 2000);
    for (let i = 100; i < 1900; i++) expect(Math.abs(back[i]! - orig[i]!)).toBeLessThan(60);
  });
});
