// Packet index bookkeeping for SRTP: the sliding replay window (RFC 3711
// §3.3.2), which remembers which of the last `size` packet indices have been
// accepted, and the rollover counter estimate of Appendix A. Indices are
// non-negative safe integers (SRTP uses 48 bits, SRTCP 31).
//
// The bitmap is a ring indexed by `index mod capacity`, so advancing the
// window clears only the slots the advance passes over instead of shifting
// the whole bitmap.

export const REPLAY_OK = 0;
export const REPLAY_DUPLICATE = 1;
export const REPLAY_TOO_OLD = 2;
export type ReplayVerdict = typeof REPLAY_OK | typeof REPLAY_DUPLICATE | typeof REPLAY_TOO_OLD;

export const DEFAULT_REPLAY_WINDOW = 64;
export const MAX_REPLAY_WINDOW = 32768;

export class ReplayWindow {
  readonly size: number;
  #bits: Uint32Array;
  #capacity: number;
  #top = -1;

  constructor(size: number = DEFAULT_REPLAY_WINDOW) {
    if (!Number.isInteger(size) || size < 1 || size > MAX_REPLAY_WINDOW) {
      throw new RangeError(`replayWindow must be an integer in 1..${MAX_REPLAY_WINDOW}, got ${size}`);
    }
    this.size = size;
    const words = Math.ceil(size / 32);
    this.#bits = new Uint32Array(words);
    this.#capacity = words * 32;
  }

  /** Highest accepted index, or -1 before the first. */
  get highest(): number {
    return this.#top;
  }

  /** Would `index` be accepted? Does not change the window. */
  check(index: number): ReplayVerdict {
    const top = this.#top;
    if (index > top) return REPLAY_OK;
    if (top - index >= this.size) return REPLAY_TOO_OLD;
    const slot = index % this.#capacity;
    return (this.#bits[slot >>> 5]! & (1 << (slot & 31))) !== 0 ? REPLAY_DUPLICATE : REPLAY_OK;
  }

  /** Records `index` as received; call only after the packet authenticated. */
  accept(index: number): void {
    const top = this.#top;
    if (index > top) {
      const advance = index - top;
      if (top < 0 || advance >= this.#capacity) {
        this.#bits.fill(0);
      } else {
        // Bounded by the capacity: clears the slots of indices top+1 .. index.
        for (let i = top + 1; i <= index; i++) this.#clear(i % this.#capacity);
      }
      this.#top = index;
    } else if (top - index >= this.size) {
      return;
    }
    const slot = index % this.#capacity;
    this.#bits[slot >>> 5]! |= 1 << (slot & 31);
  }

  /**
   * Takes over another window's state (re-key with the same SSRC keeps the
   * stream's history). A window of another size keeps only the highest index.
   */
  copyFrom(other: ReplayWindow): void {
    if (other.size === this.size) {
      this.#bits.set(other.#bits);
      this.#top = other.#top;
    } else {
      this.reset();
      if (other.#top >= 0) this.accept(other.#top);
    }
  }

  reset(): void {
    this.#bits.fill(0);
    this.#top = -1;
  }

  #clear(slot: number): void {
    this.#bits[slot >>> 5]! &= ~(1 << (slot & 31));
  }
}

/**
 * One SSRC's crypto context state in one direction. SRTP uses roc and seq
 * (s_l, §3.3.1), a sending SRTCP context `next` (the next SRTCP index); the
 * receiving ones have a replay window.
 */
export interface Stream {
  roc: number;
  seq: number;
  next: number;
  window: ReplayWindow | null;
}

/** Appendix A: the ROC value v that makes SEQ closest to s_l. */
export function guessRoc(roc: number, sl: number, seq: number): number {
  if (sl < 32768) {
    // With ROC 0 there is no earlier cycle: a big jump is forward.
    return seq - sl > 32768 && roc > 0 ? roc - 1 : roc;
  }
  return sl - 32768 > seq ? roc + 1 : roc;
}

/** Appendix A update of ROC and s_l, once the packet is accepted. */
export function advance(st: Stream, v: number, seq: number): void {
  if (v > st.roc) {
    st.roc = v;
    st.seq = seq;
  } else if (v === st.roc && seq > st.seq) {
    st.seq = seq;
  }
}
