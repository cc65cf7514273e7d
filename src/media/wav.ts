// WAV (RIFF WAVE) reading and writing for prompts, greetings, messages and
// music on hold. Reads PCM 16-bit (format 1), A-law (6), µ-law (7) and
// WAVE_FORMAT_EXTENSIBLE wrapping one of those, any channel count (averaged
// to mono) and any rate; writes mono µ-law, A-law or PCM16.
//
// An uploaded file is network input: every size field is checked against the
// bytes actually present, chunk walking is bounded, and a data chunk whose
// size runs past the end (streamed WAVs write 0 or 0xFFFFFFFF) is read as far
// as the file goes.
import { ALAW_DECODE, ULAW_DECODE, encodeG711 } from './g711.ts';
import { resample } from './resample.ts';

export class WavError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WavError';
  }
}

export type WavEncoding = 'pcm16' | 'ulaw' | 'alaw';

export interface WavAudio {
  sampleRate: number;
  /** Mono, 16-bit linear. */
  pcm: Int16Array;
  /** What the file held. */
  encoding: WavEncoding;
  channels: number;
}

export interface ReadWavOptions {
  /** Refuse files with more sample frames than this (default one hour at 48 kHz). */
  maxFrames?: number;
}

const FORMAT_PCM = 1;
const FORMAT_ALAW = 6;
const FORMAT_ULAW = 7;
const FORMAT_EXTENSIBLE = 0xfffe;
const MAX_CHUNKS = 1000;
const MAX_CHANNELS = 8;
const DEFAULT_MAX_FRAMES = 3600 * 48000;

function fourcc(b: Buffer, at: number): string {
  return b.toString('latin1', at, at + 4);
}

export function readWav(file: Buffer, opts: ReadWavOptions = {}): WavAudio {
  if (file.length < 12 || fourcc(file, 0) !== 'RIFF' || fourcc(file, 8) !== 'WAVE') {
    throw new WavError('not a WAV file (no RIFF/WAVE header)');
  }
  let fmt: { format: number; channels: number; rate: number; bits: number; align: number } | null = null;
  let data: { start: number; length: number } | null = null;
  let off = 12;
  for (let n = 0; off + 8 <= file.length && n < MAX_CHUNKS; n++) {
    const id = fourcc(file, off);
    const declared = file.readUInt32LE(off + 4);
    const start = off + 8;
    const available = file.length - start;
    if (id === 'fmt ') {
      if (declared < 16 || available < 16) throw new WavError('WAV fmt chunk is truncated');
      let format = file.readUInt16LE(start);
      if (format === FORMAT_EXTENSIBLE) {
        // cbSize(2) validBits(2) channelMask(4) then the sub-format GUID, whose first two bytes are the format code.
        if (declared < 40 || available < 40) throw new WavError('WAV extensible fmt chunk is truncated');
        format = file.readUInt16LE(start + 24);
      }
      fmt = {
        format,
        channels: file.readUInt16LE(start + 2),
        rate: file.readUInt32LE(start + 4),
        align: file.readUInt16LE(start + 12),
        bits: file.readUInt16LE(start + 14),
      };
    } else if (id === 'data') {
      data = { start, length: Math.min(declared, available) };
      if (fmt !== null) break; // everything needed; trailing chunks (LIST...) do not matter
    }
    if (declared > available) break; // the rest of the file is this chunk
    off = start + declared + (declared & 1); // chunks are padded to even length
  }
  if (fmt === null) throw new WavError('WAV file has no fmt chunk');
  if (data === null) throw new WavError('WAV file has no data chunk');
  const { format, channels, rate } = fmt;
  let encoding: WavEncoding;
  if (format === FORMAT_PCM && fmt.bits === 16) encoding = 'pcm16';
  else if (format === FORMAT_ULAW && fmt.bits === 8) encoding = 'ulaw';
  else if (format === FORMAT_ALAW && fmt.bits === 8) encoding = 'alaw';
  else throw new WavError(`unsupported WAV encoding (format ${format}, ${fmt.bits} bits): use 16-bit PCM, µ-law or A-law`);
  if (channels < 1 || channels > MAX_CHANNELS) throw new WavError(`unsupported WAV channel count ${channels}`);
  if (rate < 4000 || rate > 192000) throw new WavError(`unsupported WAV sample rate ${rate}`);
  const bytesPerSample = encoding === 'pcm16' ? 2 : 1;
  const frameBytes = bytesPerSample * channels;
  const frames = Math.floor(data.length / frameBytes);
  if (frames > (opts.maxFrames ?? DEFAULT_MAX_FRAMES)) throw new WavError(`WAV file too long (${frames} frames)`);
  const pcm = new Int16Array(frames);
  const table = encoding === 'ulaw' ? ULAW_DECODE : ALAW_DECODE;
  let p = data.start;
  for (let i = 0; i < frames; i++) {
    let sum = 0;
    for (let c = 0; c < channels; c++, p += bytesPerSample) {
      sum += bytesPerSample === 2 ? file.readInt16LE(p) : table[file[p]!]!;
    }
    pcm[i] = channels === 1 ? sum : Math.round(sum / channels);
  }
  return { sampleRate: rate, pcm, encoding, channels };
}

/** readWav, then mono at `rate` (8000 by default): what the media endpoint plays. */
export function readWavAt(file: Buffer, rate = 8000, opts: ReadWavOptions = {}): Int16Array {
  const wav = readWav(file, opts);
  return wav.sampleRate === rate ? wav.pcm : resample(wav.pcm, wav.sampleRate, rate);
}

export interface WriteWavOptions {
  /** Default 'ulaw'. */
  encoding?: WavEncoding;
  /** Default 8000. */
  sampleRate?: number;
}

export function writeWav(pcm: Int16Array, opts: WriteWavOptions = {}): Buffer {
  const encoding = opts.encoding ?? 'ulaw';
  const rate = opts.sampleRate ?? 8000;
  const pcm16 = encoding === 'pcm16';
  const dataBytes = pcm16 ? pcm.length * 2 : pcm.length;
  // Non-PCM formats carry cbSize (fmt of 18 bytes) and a fact chunk with the sample count.
  const fmtBytes = pcm16 ? 16 : 18;
  const factBytes = pcm16 ? 0 : 12;
  const pad = dataBytes & 1;
  const total = 12 + 8 + fmtBytes + factBytes + 8 + dataBytes + pad;
  const out = Buffer.alloc(total);
  out.write('RIFF', 0, 'latin1');
  out.writeUInt32LE(total - 8, 4);
  out.write('WAVE', 8, 'latin1');
  let o = 12;
  out.write('fmt ', o, 'latin1');
  out.writeUInt32LE(fmtBytes, o + 4);
  out.writeUInt16LE(pcm16 ? FORMAT_PCM : encoding === 'ulaw' ? FORMAT_ULAW : FORMAT_ALAW, o + 8);
  out.writeUInt16LE(1, o + 10);
  out.writeUInt32LE(rate, o + 12);
  out.writeUInt32LE(rate * (pcm16 ? 2 : 1), o + 16);
  out.writeUInt16LE(pcm16 ? 2 : 1, o + 20);
  out.writeUInt16LE(pcm16 ? 16 : 8, o + 22);
  o += 8 + fmtBytes; // cbSize (when present) stays 0
  if (!pcm16) {
    out.write('fact', o, 'latin1');
    out.writeUInt32LE(4, o + 4);
    out.writeUInt32LE(pcm.length, o + 8);
    o += 12;
  }
  out.write('data', o, 'latin1');
  out.writeUInt32LE(dataBytes, o + 4);
  o += 8;
  if (pcm16) for (let i = 0; i < pcm.length; i++) out.writeInt16LE(pcm[i]!, o + 2 * i);
  else encodeG711(encoding, pcm, out, o);
  return out;
}
