import { describe, expect, it } from 'vitest';
import { REPLAY_DUPLICATE, REPLAY_OK, REPLAY_TOO_OLD, ReplayWindow } from '../../../src/media/replay.ts';

/** Deterministic PRNG so a failure reproduces. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 0x100000000;
  };
}

describe('ReplayWindow', () => {
  it('accepts anything first, then drops duplicates and indices a full window behind', () => {
    const w = new ReplayWindow(64);
    expect(w.highest).toBe(-1);
    expect(w.check(1000)).toBe(REPLAY_OK);
    w.accept(1000);
    expect(w.check(1000)).toBe(REPLAY_DUPLICATE);
    expect(w.check(1001)).toBe(REPLAY_OK);
    expect(w.check(937)).toBe(REPLAY_OK); // 63 behind: inside
    expect(w.check(936)).toBe(REPLAY_TOO_OLD); // 64 behind: outside
    expect(w.highest).toBe(1000);
  });

  it('accepts reordered indices inside the window exactly once', () => {
    const w = new ReplayWindow(64);
    for (const i of [10, 12, 11, 9, 40, 13, 5]) {
      expect(w.check(i)).toBe(REPLAY_OK);
      w.accept(i);
      expect(w.check(i)).toBe(REPLAY_DUPLICATE);
    }
    expect(w.highest).toBe(40);
    for (const i of [10, 12, 11, 9, 40, 13, 5]) expect(w.check(i)).toBe(REPLAY_DUPLICATE);
    expect(w.check(6)).toBe(REPLAY_OK);
  });

  it('clears the slots it advances over, and everything on a long jump', () => {
    const w = new ReplayWindow(64);
    w.accept(5);
    w.accept(60);
    expect(w.check(5)).toBe(REPLAY_DUPLICATE);
    w.accept(68); // 68 mod 64 = 4: the slot index 4 used
    expect(w.check(4)).toBe(REPLAY_TOO_OLD);
    expect(w.check(6)).toBe(REPLAY_OK);
    w.accept(69); // reuses the slot of 5, which is now outside the window
    expect(w.check(69)).toBe(REPLAY_DUPLICATE);
    expect(w.check(5)).toBe(REPLAY_TOO_OLD);
    w.accept(10_000_000);
    expect(w.check(9_999_990)).toBe(REPLAY_OK);
    expect(w.check(69)).toBe(REPLAY_TOO_OLD);
  });

  it('handles 48-bit indices', () => {
    const w = new ReplayWindow(64);
    const top = 2 ** 48 - 1;
    w.accept(top - 3);
    w.accept(top);
    expect(w.check(top - 3)).toBe(REPLAY_DUPLICATE);
    expect(w.check(top - 1)).toBe(REPLAY_OK);
  });

  it('agrees with a naive model for window sizes that are not multiples of 32', () => {
    for (const size of [1, 64, 100, 128]) {
      const rnd = prng(size);
      const w = new ReplayWindow(size);
      const seen = new Set<number>();
      let top = -1;
      let base = 0;
      const mismatches: string[] = [];
      for (let n = 0; n < 20_000; n++) {
        base += Math.floor(rnd() * 3);
        const i = Math.max(0, base - Math.floor(rnd() * (size + 20)) + (rnd() < 0.01 ? 500 : 0));
        const expected = i > top ? REPLAY_OK : top - i >= size ? REPLAY_TOO_OLD : seen.has(i) ? REPLAY_DUPLICATE : REPLAY_OK;
        const got = w.check(i);
        if (got !== expected && mismatches.length < 5) mismatches.push(`size ${size} op ${n} index ${i}: ${got} != ${expected}`);
        if (expected === REPLAY_OK) {
          w.accept(i);
          seen.add(i);
          top = Math.max(top, i);
        }
      }
      expect(mismatches).toEqual([]);
      expect(top).toBeGreaterThan(10_000);
    }
  });

  it('copies another window, keeping only the highest index across sizes', () => {
    const a = new ReplayWindow(64);
    for (const i of [100, 98, 90]) a.accept(i);
    const b = new ReplayWindow(64);
    b.copyFrom(a);
    expect(b.check(98)).toBe(REPLAY_DUPLICATE);
    expect(b.check(99)).toBe(REPLAY_OK);
    const c = new ReplayWindow(128);
    c.copyFrom(a);
    expect(c.highest).toBe(100);
    expect(c.check(100)).toBe(REPLAY_DUPLICATE);
    c.reset();
    expect(c.highest).toBe(-1);
    expect(c.check(100)).toBe(REPLAY_OK);
  });

  it('names the field when the size is out of range', () => {
    expect(() => new ReplayWindow(0)).toThrow(/replayWindow/);
    expect(() => new ReplayWindow(40000)).toThrow(/replayWindow/);
    expect(() => new ReplayWindow(1.5)).toThrow(/replayWindow/);
  });
});
