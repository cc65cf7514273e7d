// Which tones a stretch of received or recorded audio holds, and when: runs
// of 20 ms frames whose energy sits mostly at one frequency (Goertzel, via
// toneShare). Thresholds, not exact sample counts: the audio went through
// real clocks, jitter buffers and G.711 on a loaded machine.
import { decodeG711 } from '../../../src/media/g711.ts';
import { toneShare } from '../../integration/lib/rtp-peer.ts';

const FRAME = 160;

export interface ToneRun {
  startMs: number;
  ms: number;
}

/** Runs of consecutive frames where `freq` carries more than minShare of the energy (a gap of one frame is bridged). */
export function toneRuns(pcm: Int16Array, freq: number, minShare = 0.6): ToneRun[] {
  const runs: ToneRun[] = [];
  let start = -1;
  let last = -2;
  for (let f = 0; (f + 1) * FRAME <= pcm.length; f++) {
    if (toneShare(pcm.subarray(f * FRAME, (f + 1) * FRAME), freq) <= minShare) continue;
    if (f - last > 2) {
      if (start >= 0) runs.push({ startMs: start * 20, ms: (last - start + 1) * 20 });
      start = f;
    }
    last = f;
  }
  if (start >= 0) runs.push({ startMs: start * 20, ms: (last - start + 1) * 20 });
  return runs;
}

/** The longest run of freq, or undefined. */
export function longestRun(pcm: Int16Array, freq: number): ToneRun | undefined {
  return toneRuns(pcm, freq).reduce<ToneRun | undefined>((a, r) => (a === undefined || r.ms > a.ms ? r : a), undefined);
}

/** "600 Hz: 1000 ms at 12340 ms; ..." for failure messages. */
export function describeTones(pcm: Int16Array, freqs: readonly number[]): string {
  return `${Math.round(pcm.length / 8)} ms of audio; ${freqs
    .map((f) => `${f} Hz: ${toneRuns(pcm, f).map((r) => `${r.ms} ms at ${r.startMs} ms`).join(', ') || 'none'}`)
    .join('; ')}`;
}

/** The PCMU (payload type 0) payloads of RTP packets decoded in order to 8 kHz PCM. */
export function decodePcmu(packets: readonly Buffer[]): Int16Array {
  const payloads = packets.filter((p) => p.length > 12 && (p[0]! & 0xc0) === 0x80 && (p[1]! & 0x7f) === 0).map((p) => p.subarray(12 + 4 * (p[0]! & 0x0f)));
  const pcm = new Int16Array(payloads.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of payloads) {
    decodeG711('ulaw', p, 0, p.length, pcm, at);
    at += p.length;
  }
  return pcm;
}
