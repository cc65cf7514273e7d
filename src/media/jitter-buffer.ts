// Receive-side jitter buffer of one RTP stream: decoded samples are placed by
// RTP timestamp into a fixed ring and taken out one 20 ms frame per clock
// tick, so reordering and jitter up to the buffer's depth are absorbed. Late
// packets (behind the playout point) are dropped; a missing frame after audio
// is concealed by repeating the last one once, then silence. A stream that
// jumps (new SSRC, timestamp discontinuity, peer clock drift) re-anchors.
// Fixed memory; nothing allocated per packet or per frame.
import { FRAME_SAMPLES } from './media-clock.ts';

/** Ring size in samples (power of two): 512 ms. */
const RING = 4096;
const MASK = RING - 1;
/** Packets further ahead of playout than this (samples) re-anchor the stream. */
const MAX_AHEAD = RING - 2 * FRAME_SAMPLES;
/** This many late packets in a row (peer clock slower than ours, or a restart) re-anchor too. */
const LATE_RESYNC = 4;

export interface JitterStats {
  late: number;
  duplicates: number;
  resyncs: number;
  concealed: number;
}

export class JitterBuffer {
  private readonly ring = new Int16Array(RING);
  private readonly have = new Uint8Array(RING);
  private readonly last = new Int16Array(FRAME_SAMPLES);
  private started = false;
  private playTs = 0;
  private lateRun = 0;
  private missRun = 2;
  readonly stats: JitterStats = { late: 0, duplicates: 0, resyncs: 0, concealed: 0 };

  /** @param delayFrames playout delay: frames held before the first one plays (default 2 = 40 ms). */
  constructor(private readonly delayFrames = 2) {}

  /**
   * Stores `length` samples that start at RTP timestamp `ts`, decoded by
   * `decode(out, at, i0, n)` into the ring (called at most twice: the ring wraps).
   * Returns false when the packet was dropped as late or duplicate.
   */
  put(ts: number, length: number, decode: (ring: Int16Array, at: number, from: number, n: number) => void): boolean {
    if (length <= 0 || length > MAX_AHEAD / 2) return false;
    if (!this.started) this.anchor(ts);
    let ahead = (ts - this.playTs) | 0;
    if (ahead < 0) {
      this.stats.late++;
      if (++this.lateRun < LATE_RESYNC) return false;
      this.anchor(ts);
      ahead = (ts - this.playTs) | 0;
    } else if (ahead + length > MAX_AHEAD) {
      this.anchor(ts);
      ahead = (ts - this.playTs) | 0;
    }
    this.lateRun = 0;
    const at = (this.playTs + ahead) & MASK;
    if (this.have[at] === 1 && this.have[(at + length - 1) & MASK] === 1) {
      this.stats.duplicates++;
      return false;
    }
    const first = Math.min(length, RING - at);
    decode(this.ring, at, 0, first);
    if (first < length) decode(this.ring, 0, first, length - first);
    for (let i = 0; i < length; i++) this.have[(at + i) & MASK] = 1;
    return true;
  }

  /**
   * This tick's frame into `out` (FRAME_SAMPLES). Returns true when it holds
   * audio (received, or the one-frame concealment), false for silence.
   */
  take(out: Int16Array): boolean {
    if (!this.started) return false;
    let got = 0;
    const base = this.playTs & MASK;
    for (let i = 0; i < FRAME_SAMPLES; i++) {
      const j = (base + i) & MASK;
      if (this.have[j] === 1) {
        out[i] = this.ring[j]!;
        this.have[j] = 0;
        got++;
      } else out[i] = 0;
    }
    this.playTs = (this.playTs + FRAME_SAMPLES) >>> 0;
    if (got > 0) {
      this.missRun = 0;
      this.last.set(out);
      return true;
    }
    if (++this.missRun === 1) {
      out.set(this.last);
      this.stats.concealed++;
      return true;
    }
    return false;
  }

  /** Forgets the stream (new SSRC): the next packet anchors playout afresh. */
  reset(): void {
    this.started = false;
    this.have.fill(0);
    this.lateRun = 0;
  }

  private anchor(ts: number): void {
    if (this.started) this.stats.resyncs++;
    this.started = true;
    this.have.fill(0);
    this.lateRun = 0;
    this.playTs = (ts - this.delayFrames * FRAME_SAMPLES) >>> 0;
  }
}
