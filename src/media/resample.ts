// Sample-rate conversion for prompts and uploaded WAV files (offline, not per
// packet): band-limited interpolation with a Blackman-windowed sinc whose
// cut-off sits below the lower of the two Nyquist frequencies, so
// downsampling to 8 kHz low-passes before it decimates (no aliasing of
// 4-11 kHz speech energy into the telephone band). The kernel is tabulated
// finely and linearly interpolated, so a minute of audio takes well under a
// second.

/** Zero crossings of the sinc on each side of the output point (at the lower rate). */
const HALF_ZEROS = 16;
/** Cut-off as a fraction of the lower Nyquist frequency: leaves the window's transition band below it. */
const CUTOFF = 0.92;
/** Kernel table points per input sample. */
const TABLE_STEPS = 256;

export function resample(input: Int16Array, fromRate: number, toRate: number): Int16Array {
  if (!(fromRate > 0) || !(toRate > 0)) throw new RangeError('sample rates must be positive');
  if (fromRate === toRate) return input.slice();
  const ratio = toRate / fromRate;
  const outLength = Math.floor(input.length * ratio);
  const out = new Int16Array(outLength);
  // Filter cut-off in cycles per input sample, and the kernel's half width in input samples.
  const fc = (CUTOFF * Math.min(1, ratio)) / 2;
  const half = Math.ceil(HALF_ZEROS / (2 * fc));
  const table = new Float64Array(half * TABLE_STEPS + 2);
  for (let i = 0; i < table.length; i++) table[i] = kernel(i / TABLE_STEPS, fc, half);
  for (let n = 0; n < outLength; n++) {
    const t = n / ratio; // position in input samples
    const centre = Math.floor(t);
    let acc = 0;
    let gain = 0;
    for (let k = centre - half + 1; k <= centre + half; k++) {
      const pos = Math.abs(k - t) * TABLE_STEPS;
      const i = Math.floor(pos);
      if (i + 1 >= table.length) continue;
      const h = table[i]! + (table[i + 1]! - table[i]!) * (pos - i);
      gain += h;
      if (k >= 0 && k < input.length) acc += input[k]! * h;
    }
    // Normalise by the kernel's DC gain so a constant stays constant at every phase.
    const v = gain !== 0 ? acc / gain : 0;
    out[n] = v > 32767 ? 32767 : v < -32768 ? -32768 : Math.round(v);
  }
  return out;
}

/** The windowed sinc at distance x (input samples) from the output point. */
function kernel(x: number, fc: number, half: number): number {
  const u = x / half;
  if (u >= 1) return 0;
  const p = Math.PI * (u + 1); // Blackman window over [-1, 1]
  const w = 0.42 - 0.5 * Math.cos(p) + 0.08 * Math.cos(2 * p);
  const arg = 2 * fc * x;
  const s = arg === 0 ? 1 : Math.sin(Math.PI * arg) / (Math.PI * arg);
  return 2 * fc * s * w;
}
