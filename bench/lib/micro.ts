// Helpers the benchmark scripts share: a calls-per-second loop for the
// micro-benchmarks and the integer option check of the load benchmarks.

/**
 * Calls `fn` in batches of 1,000 for `seconds` after a 20,000-call warm-up
 * (the JIT settles first), and returns calls per second. Batches keep the
 * clock reads out of the measured cost.
 */
export function callsPerSecond(seconds: number, fn: () => void): number {
  for (let i = 0; i < 20_000; i++) fn();
  let n = 0;
  const t0 = process.hrtime.bigint();
  const limit = BigInt(Math.round(seconds * 1e9));
  let elapsed = 0n;
  while (elapsed < limit) {
    for (let i = 0; i < 1000; i++) fn();
    n += 1000;
    elapsed = process.hrtime.bigint() - t0;
  }
  return n / (Number(elapsed) / 1e9);
}

/** The integer value of option --`name`, or a message naming the allowed range. */
export function intOption(name: string, v: string | undefined, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer in ${min}..${max}`);
  return n;
}
