// The greeting upload's WAV header check: hostile bytes are refused with a
// reason, never a throw, whatever their chunk sizes say.
import { describe, expect, it } from 'vitest';
import { wavProblem } from '../../../src/api/routes/voicemail.ts';

function wav(o: { format?: number; channels?: number; rate?: number; before?: Buffer } = {}): Buffer {
  const fmt = Buffer.alloc(24);
  fmt.write('fmt ', 0, 'latin1');
  fmt.writeUInt32LE(16, 4);
  fmt.writeUInt16LE(o.format ?? 1, 8);
  fmt.writeUInt16LE(o.channels ?? 1, 10);
  fmt.writeUInt32LE(o.rate ?? 8000, 12);
  fmt.writeUInt32LE((o.rate ?? 8000) * 2, 16);
  fmt.writeUInt16LE(2, 20);
  fmt.writeUInt16LE(16, 22);
  const data = Buffer.concat([Buffer.from('data'), Buffer.from([16, 0, 0, 0]), Buffer.alloc(16)]);
  const body = Buffer.concat([Buffer.from('WAVE'), o.before ?? Buffer.alloc(0), fmt, data]);
  const head = Buffer.alloc(8);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE(body.length, 4);
  return Buffer.concat([head, body]);
}

describe('greeting WAV check', () => {
  it('takes mono PCM, A-law and µ-law at 8-48 kHz, with other chunks before fmt', () => {
    for (const format of [1, 6, 7]) expect(wavProblem(wav({ format }))).toBeUndefined();
    expect(wavProblem(wav({ rate: 48000 }))).toBeUndefined();
    const list = Buffer.concat([Buffer.from('LIST'), Buffer.from([3, 0, 0, 0]), Buffer.from('abc'), Buffer.alloc(1)]);
    expect(wavProblem(wav({ before: list }))).toBeUndefined();
  });

  it('refuses other formats, stereo, odd rates, a missing fmt and other files, saying why', () => {
    expect(wavProblem(wav({ format: 85 }))).toMatch(/format 85/);
    expect(wavProblem(wav({ channels: 2 }))).toMatch(/mono/);
    expect(wavProblem(wav({ rate: 96000 }))).toMatch(/sample rate/);
    expect(wavProblem(Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('WAVE'), Buffer.from('data'), Buffer.alloc(40)]))).toMatch(/no fmt/);
    expect(wavProblem(Buffer.from('ID3\x03 an mp3 file with a tag header and more bytes than forty four'))).toMatch(/not a WAV/);
  });

  it('never throws on random or truncated bytes, chunk sizes included (bounded, seeded)', () => {
    let seed = 0x5eed;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) & 0xff;
    const good = wav({ format: 7 });
    for (let i = 0; i < 2000; i++) {
      const b = Buffer.from(good.subarray(0, 12 + (i % (good.length - 11))));
      // Random bytes after the RIFF/WAVE header: chunk ids and sizes anything at all.
      for (let j = 12; j < b.length; j++) if (rand() < 64) b[j] = rand();
      const r = wavProblem(Buffer.concat([b, Buffer.alloc(i % 50)]));
      expect(r === undefined || typeof r === 'string').toBe(true);
    }
  });
});
