// Regenerates the shipped audio: every prompt of src/media/prompts.ts spoken
// by Debian's espeak-ng, and the default music on hold (synthesised here), as
// 8 kHz mono µ-law WAV files in assets/. The output is committed, so neither
// tests nor installs need espeak-ng; run this after changing a prompt text:
//
//   node --import tsx scripts/make-prompts.ts [--only name,name] [--voice en-us] [--speed 150]
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_MOH_FILE, PROMPTS_DIR, PROMPT_TEXTS } from '../src/media/prompts.ts';
import { readWav, writeWav } from '../src/media/wav.ts';
import { resample } from '../src/media/resample.ts';

const { values: v } = parseArgs({
  options: { only: { type: 'string' }, voice: { type: 'string', default: 'en-us' }, speed: { type: 'string', default: '150' }, 'no-moh': { type: 'boolean', default: false } },
});

/** Speech RMS target (dBFS) and peak ceiling: prompts come out at one loudness, well clear of clipping. */
const TARGET_RMS_DB = -18;
const PEAK_MAX = 0.89 * 32767;
const EDGE_MS = 60;

function speak(text: string): Int16Array {
  const wav = readWav(execFileSync('espeak-ng', ['--stdout', '-v', v.voice!, '-s', v.speed!, text], { maxBuffer: 64 << 20 }));
  return resample(wav.pcm, wav.sampleRate, 8000);
}

/** Cuts leading and trailing near-silence, keeping EDGE_MS of it on each side. */
function trim(pcm: Int16Array): Int16Array {
  const loud = (s: number): boolean => Math.abs(s) > 300;
  let a = pcm.findIndex(loud);
  let b = pcm.length - 1;
  while (b > 0 && !loud(pcm[b]!)) b--;
  if (a < 0) return pcm;
  const edge = (EDGE_MS * 8000) / 1000;
  a = Math.max(0, a - edge);
  b = Math.min(pcm.length, b + edge);
  return pcm.slice(a, b);
}

function normalise(pcm: Int16Array): Int16Array {
  let sum = 0;
  let n = 0;
  let peak = 1;
  for (const s of pcm) {
    peak = Math.max(peak, Math.abs(s));
    if (Math.abs(s) > 300) {
      sum += s * s;
      n++;
    }
  }
  const rms = Math.sqrt(sum / Math.max(1, n));
  const gain = Math.min((32767 * 10 ** (TARGET_RMS_DB / 20)) / Math.max(1, rms), PEAK_MAX / peak);
  return pcm.map((s) => Math.round(s * gain));
}

/**
 * Default music on hold: an original, calm 24 s loop at 80 bpm over the chords
 * C–Am–F–G (twice), a melody of sine notes from the C major pentatonic with
 * soft attack and decay, and a bass line. Every partial stays below 600 Hz,
 * so nothing in it resembles a DTMF pair.
 */
function musicOnHold(): Int16Array {
  const rate = 8000;
  const beat = 0.75;
  const hz = (semitonesFromA4: number): number => 440 * 2 ** (semitonesFromA4 / 12);
  // Bass roots (C3, A2, F2, G2) and melody (semitones from A4), one note per beat, 4 beats per chord.
  const bass = [-21, -24, -28, -26, -21, -24, -28, -26].map(hz);
  const melody = [
    -9, -5, -2, -5, /* C */ -12, -9, -5, -9, /* Am */ -7, -5, -9, -12, /* F */ -10, -7, -5, -2,
    /* G */ -9, -2, 0, -2, /* C */ -5, -9, -12, -9, /* Am */ -7, -9, -5, -7, /* F */ -10, -14, -10, -12,
  ].map(hz);
  const total = Math.round(melody.length * beat * rate);
  const out = new Float64Array(total);
  const note = (f: number, start: number, dur: number, amp: number, harmonic: number): void => {
    const s0 = Math.round(start * rate);
    const n = Math.round(dur * rate);
    for (let i = 0; i < n && s0 + i < total; i++) {
      const t = i / rate;
      const env = Math.min(1, t / 0.06) * Math.exp(-t / (dur * 0.45)) * Math.min(1, (n - i) / (0.05 * rate));
      out[s0 + i]! += amp * env * (Math.sin(2 * Math.PI * f * t) + harmonic * Math.sin(4 * Math.PI * f * t));
    }
  };
  melody.forEach((f, k) => note(f, k * beat, beat * 1.6, 0.28, f * 2 < 600 ? 0.15 : 0));
  bass.forEach((f, k) => {
    note(f, k * 4 * beat, 4 * beat, 0.22, 0.2);
    note(f * 1.5, k * 4 * beat + 2 * beat, 2 * beat, 0.08, 0);
  });
  let peak = 0;
  for (const s of out) peak = Math.max(peak, Math.abs(s));
  return Int16Array.from(out, (s) => Math.round((s / peak) * 0.5 * 32767));
}

const only = v.only ? new Set(v.only.split(',')) : null;
mkdirSync(PROMPTS_DIR, { recursive: true });
let bytes = 0;
for (const [name, text] of Object.entries(PROMPT_TEXTS)) {
  if (only && !only.has(name)) continue;
  const file = writeWav(normalise(trim(speak(text))));
  writeFileSync(`${PROMPTS_DIR}/${name}.wav`, file);
  bytes += file.length;
  console.log(`${name}: ${(file.length / 8000).toFixed(2)} s`);
}
if (!v['no-moh'] && !only) {
  mkdirSync(dirname(DEFAULT_MOH_FILE), { recursive: true });
  const file = writeWav(musicOnHold());
  writeFileSync(DEFAULT_MOH_FILE, file);
  bytes += file.length;
  console.log(`moh/default: ${(file.length / 8000).toFixed(2)} s`);
}
console.log(`total ${(bytes / 1024).toFixed(0)} KiB`);
