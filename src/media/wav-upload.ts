// The check an uploaded audio file (IVR greeting, music on hold, a mailbox
// greeting) passes before it is stored: a RIFF/WAVE file whose format the
// media endpoint can play, refused with the reason in an administrator's
// words (the header walk below); then decoded in full (wav.ts) and stored as
// the endpoint plays it, 8 kHz mono µ-law, so a bad file is refused at
// upload rather than at the first call, and takes a quarter of the room.
import { AUDIO_MAX_BYTES } from '../model/audio-file.ts';
import { WavError, readWavAt, writeWav } from './wav.ts';

/** WAVE format tags the endpoint plays: linear PCM, A-law, µ-law (G.711). */
const FORMATS: Record<number, string> = { 1: 'PCM', 6: 'A-law', 7: 'µ-law' };
/** A file with more chunks than this before its data is not a sound file we take. */
const MAX_CHUNKS = 64;

export interface WavInfo {
  format: 'PCM' | 'A-law' | 'µ-law';
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  durationMs: number;
}

export { WavError };

/**
 * Reads the header of a WAV file and returns its format and length.
 * @throws WavError when the bytes are no WAV file the endpoint can play.
 */
export function checkWavUpload(bytes: Uint8Array): WavInfo {
  if (bytes.length > AUDIO_MAX_BYTES) throw new WavError(`the file is larger than ${AUDIO_MAX_BYTES} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number) => String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!);
  if (bytes.length < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') throw new WavError('not a WAV file (no RIFF/WAVE header)');
  let fmt: Omit<WavInfo, 'durationMs'> & { byteRate: number; blockAlign: number } | undefined;
  let at = 12;
  for (let n = 0; n < MAX_CHUNKS && at + 8 <= bytes.length; n++) {
    const id = tag(at);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > bytes.length) throw new WavError('the "fmt " chunk is cut short');
      const code = view.getUint16(body, true);
      const format = FORMATS[code];
      if (!format) throw new WavError(`format ${code} is not PCM, A-law or µ-law`);
      fmt = {
        format: format as WavInfo['format'],
        channels: view.getUint16(body + 2, true),
        sampleRate: view.getUint32(body + 4, true),
        byteRate: view.getUint32(body + 8, true),
        blockAlign: view.getUint16(body + 12, true),
        bitsPerSample: view.getUint16(body + 14, true),
      };
      if (fmt.channels < 1 || fmt.channels > 2) throw new WavError(`${fmt.channels} channels: mono or stereo only`);
      if (fmt.sampleRate < 8000 || fmt.sampleRate > 48000) throw new WavError(`sample rate ${fmt.sampleRate} Hz: 8000-48000 only`);
      const bits = format === 'PCM' ? [8, 16] : [8];
      if (!bits.includes(fmt.bitsPerSample)) throw new WavError(`${fmt.bitsPerSample}-bit ${format} is not supported`);
      if (fmt.blockAlign !== fmt.channels * fmt.bitsPerSample / 8 || fmt.byteRate !== fmt.sampleRate * fmt.blockAlign) {
        throw new WavError('the "fmt " chunk contradicts itself (block align or byte rate)');
      }
    } else if (id === 'data') {
      if (!fmt) throw new WavError('the "data" chunk comes before "fmt "');
      // A writer that never went back to fill in the size (streaming) leaves 0 or 0xFFFFFFFF: the rest of the file.
      const length = size === 0 || size === 0xffff_ffff ? bytes.length - body : size;
      if (body + length > bytes.length) throw new WavError('the "data" chunk is cut short');
      if (length === 0) throw new WavError('the file holds no sound');
      const { byteRate, blockAlign: _b, ...info } = fmt;
      return { ...info, durationMs: Math.floor((length * 1000) / byteRate) };
    }
    at = body + size + (size & 1); // chunks are padded to an even length
  }
  throw new WavError(fmt ? 'no "data" chunk' : 'no "fmt " chunk');
}

/** Longest upload decoded: ten minutes at 48 kHz (a 5 MB file holds less). */
const MAX_FRAMES = 600 * 48000;

/**
 * An uploaded file, checked (checkWavUpload's reasons), decoded in full and
 * re-encoded as the endpoint plays it (8 kHz mono µ-law), with its length.
 * @throws WavError when it is no WAV the endpoint can play, or over `maxBytes`.
 */
export function prepareUpload(bytes: Uint8Array, maxBytes = AUDIO_MAX_BYTES): { wav: Buffer; durationMs: number } {
  if (bytes.length > maxBytes) throw new WavError(`the file is larger than ${maxBytes} bytes`);
  checkWavUpload(bytes);
  const pcm = readWavAt(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), 8000, { maxFrames: MAX_FRAMES });
  if (pcm.length === 0) throw new WavError('the file holds no sound');
  return { wav: writeWav(pcm), durationMs: Math.round(pcm.length / 8) };
}
