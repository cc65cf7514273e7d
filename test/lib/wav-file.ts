// WAV files for the audio upload tests, written byte by byte (RIFF header, "fmt ", "data").
/** A minimal WAV file around samples: 8 kHz mono µ-law unless told (src/media/wav.ts's writer may replace it once merged). */
export function wavFile(samples: Uint8Array, opts: { format?: 1 | 6 | 7; sampleRate?: number; bitsPerSample?: number; channels?: number } = {}): Uint8Array {
  const format = opts.format ?? 7;
  const rate = opts.sampleRate ?? 8000;
  const bits = opts.bitsPerSample ?? 8;
  const channels = opts.channels ?? 1;
  const out = new Uint8Array(44 + samples.length + (samples.length & 1));
  const v = new DataView(out.buffer);
  const put = (at: number, s: string) => { for (let i = 0; i < 4; i++) out[at + i] = s.charCodeAt(i); };
  put(0, 'RIFF');
  v.setUint32(4, out.length - 8, true);
  put(8, 'WAVE');
  put(12, 'fmt ');
  v.setUint32(16, 16, true);
  v.setUint16(20, format, true);
  v.setUint16(22, channels, true);
  v.setUint32(24, rate, true);
  v.setUint32(28, rate * channels * bits / 8, true);
  v.setUint16(32, channels * bits / 8, true);
  v.setUint16(34, bits, true);
  put(36, 'data');
  v.setUint32(40, samples.length, true);
  out.set(samples, 44);
  return out;
}
