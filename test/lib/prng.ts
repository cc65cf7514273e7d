// The one seeded PRNG of the test suites (fuzzer, randomized unit tests,
// floods): mulberry32. Tiny and fast, good enough to spread inputs, and the
// seed makes a failing run repeat exactly. Not for anything secret.

export type Rng = () => number;

/** A generator of floats in [0, 1), fully determined by `seed` (taken as an unsigned 32-bit integer). */
export function makeRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
