// The header check of uploaded WAV files: formats the endpoint plays are
// taken with their length; anything else is refused with a reason, never a throw of another kind.
import { describe, expect, it } from 'vitest';
import { WavError, checkWavUpload } from '../../../src/media/wav-upload.ts';
import { makeRng } from '../../lib/prng.ts';
import { wavFile } from '../../lib/wav-file.ts';

const reason = (bytes: Uint8Array) => {
  try {
    checkWavUpload(bytes);
    return 'accepted';
  } catch (err) {
    expect(err).toBeInstanceOf(WavError);
    return (err as Error).message;
  }
};

describe('checkWavUpload', () => {
  it('takes G.711 and PCM files and measures them', () => {
    expect(checkWavUpload(wavFile(new Uint8Array(8000)))).toEqual({ format: 'µ-law', channels: 1, sampleRate: 8000, bitsPerSample: 8, durationMs: 1000 });
    expect(checkWavUpload(wavFile(new Uint8Array(4000), { format: 6 })).durationMs).toBe(500);
    expect(checkWavUpload(wavFile(new Uint8Array(44100 * 4), { format: 1, sampleRate: 44100, bitsPerSample: 16, channels: 2 })))
      .toEqual({ format: 'PCM', channels: 2, sampleRate: 44100, bitsPerSample: 16, durationMs: 1000 });
  });

  it('skips other chunks (LIST, odd sizes padded) and takes a streamed data size of 0', () => {
    const plain = wavFile(new Uint8Array(800));
    const list = Buffer.concat([Buffer.from('LIST'), Buffer.from([3, 0, 0, 0, 1, 2, 3, 0])]); // odd size, one pad byte
    const withList = Buffer.concat([plain.subarray(0, 36), list, plain.subarray(36)]);
    expect(checkWavUpload(withList).durationMs).toBe(100);
    const streamed = Buffer.from(plain);
    streamed.writeUInt32LE(0, 40);
    expect(checkWavUpload(streamed).durationMs).toBe(100);
  });

  it('refuses what the endpoint cannot play, saying why', () => {
    const good = () => Buffer.from(wavFile(new Uint8Array(80)));
    const at = (offset: number, value: number, size: 2 | 4 = 2) => {
      const b = good();
      if (size === 2) b.writeUInt16LE(value, offset);
      else b.writeUInt32LE(value, offset);
      return b;
    };
    expect(reason(Buffer.from('ID3 not a wav file'))).toBe('not a WAV file (no RIFF/WAVE header)');
    expect(reason(at(20, 85))).toBe('format 85 is not PCM, A-law or µ-law');
    expect(reason(at(22, 6))).toBe('6 channels: mono or stereo only');
    expect(reason(at(24, 96000, 4))).toBe('sample rate 96000 Hz: 8000-48000 only');
    expect(reason(at(34, 16))).toBe('16-bit µ-law is not supported');
    expect(reason(at(28, 1, 4))).toBe('the "fmt " chunk contradicts itself (block align or byte rate)');
    expect(reason(at(40, 81, 4))).toBe('the "data" chunk is cut short');
    expect(reason(good().subarray(0, 30))).toBe('the "fmt " chunk is cut short');
    expect(reason(good().subarray(0, 16))).toBe('no "fmt " chunk');
    expect(reason(good().subarray(0, 36))).toBe('no "data" chunk');
    expect(reason(wavFile(new Uint8Array(0)))).toBe('the file holds no sound');
    const dataFirst = good();
    dataFirst.write('data', 12);
    expect(reason(dataFirst)).toBe('the "data" chunk comes before "fmt "');
  });

  it('never throws anything but a WavError on random or mutated bytes', () => {
    const base = wavFile(new Uint8Array(64));
    const rng = makeRng(0x5741_5645);
    const byte = () => Math.floor(rng() * 256);
    for (let run = 0; run < 2000; run++) {
      reason(Uint8Array.from({ length: Math.floor(rng() * 200) }, byte));
      const m = Uint8Array.from(base);
      for (let k = 1 + Math.floor(rng() * 8); k > 0; k--) m[Math.floor(rng() * m.length)] = byte();
      reason(m);
    }
  });
});
