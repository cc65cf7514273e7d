// A test's caller of the media server and what it heard: a phone calling
// with an RTP peer's SDP; how much sound, which tones, and whether a given
// prompt was played to it; and a peer that talks without pause, as a
// conference participant does. A prompt goes out as
// the stored µ-law frames, 20 ms each from its start, so each loud frame of
// it arrives byte for byte: the share of them found tells that this prompt
// (and not another one) was played, with no speech recognition.
import { expect } from 'vitest';
import { encodeG711 } from '../../../src/media/g711.ts';
import { PromptSet } from '../../../src/media/prompts.ts';
import { waitUntil } from '../../lib/wait.ts';
import { until } from '../features/rig.ts';
import type { Rig } from '../features/rig.ts';
import { RtpPeer, toneShare } from '../lib/rtp-peer.ts';
import type { OutgoingCall, TestPhone } from '../lib/phone.ts';

const FRAME = 160;
/** Mean absolute sample above which a 20 ms frame counts as sound. */
const LOUD = 300;

let prompts: PromptSet | undefined;

export interface Caller {
  phone: TestPhone;
  media: RtpPeer;
  out: OutgoingCall;
}

const opened: RtpPeer[] = [];

/**
 * A phone of `ext` (with `security` for its media) calls `number` with an
 * RTP peer's SDP (SRTP when enforced); once answered the peer sends where
 * the answer says. Its re-INVITEs are answered with the peer's SDP too.
 */
export async function dial(rig: Rig, ext: string, number: string, security: 'enforced' | 'disabled' = 'disabled'): Promise<Caller> {
  const media = await RtpPeer.open();
  opened.push(media);
  const secure = security === 'enforced';
  const phone = await rig.phone(ext, { media: { security } }, { mediaPort: media.port });
  phone.reinviteAnswer = media.sdp(secure ? 'srtp' : 'rtp');
  const out = phone.call(number, { body: media.sdp(secure ? 'srtp' : 'rtp') });
  const res = await out.final;
  expect(res.status).toBe(200);
  media.connect(res.body, secure);
  return { phone, media, out };
}

/** The caller hangs up (BYE); resolves with the answer to it. */
export function hangUp(c: Caller): Promise<{ status: number }> {
  return c.phone.inDialog(c.out.dialog!, 'BYE');
}

/** Closes every peer dial() opened. */
export function closePeers(): void {
  for (const p of opened.splice(0)) p.close();
}

/** A shipped prompt's PCM (the files the server plays). */
export function prompt(name: string): Int16Array {
  prompts ??= PromptSet.load();
  return prompts.get(name);
}

function loud(pcm: Int16Array, at: number): boolean {
  let e = 0;
  for (let i = at; i < at + FRAME; i++) e += Math.abs(pcm[i]!);
  return e / FRAME > LOUD;
}

/** Milliseconds of sound in `pcm`. */
export function loudMs(pcm: Int16Array): number {
  let frames = 0;
  for (let at = 0; at + FRAME <= pcm.length; at += FRAME) if (loud(pcm, at)) frames++;
  return frames * 20;
}

const framesOf = new WeakMap<Int16Array, string[]>();

/** The loud frames of `pcm` as PCMU payloads (hex). */
function loudFrames(pcm: Int16Array): string[] {
  let out = framesOf.get(pcm);
  if (out) return out;
  out = [];
  const frame = new Int16Array(FRAME);
  const bytes = Buffer.alloc(FRAME);
  for (let at = 0; at + FRAME <= pcm.length; at += FRAME) {
    if (!loud(pcm, at)) continue;
    frame.set(pcm.subarray(at, at + FRAME));
    encodeG711('ulaw', frame, bytes);
    out.push(bytes.toString('hex'));
  }
  framesOf.set(pcm, out);
  return out;
}

/** The PCMU payloads the peer received since its last reset (hex). */
function receivedFrames(p: RtpPeer): Set<string> {
  const out = new Set<string>();
  for (const r of p.received) {
    if (r.payloadType !== 0) continue;
    const start = 12 + (r.packet[0]! & 0x0f) * 4;
    out.add(r.packet.subarray(start).toString('hex'));
  }
  return out;
}

/** The share (0..1) of the loud frames of prompt `name` that reached the peer since its last reset. */
export function promptShare(p: RtpPeer, name: string): number {
  const want = loudFrames(prompt(name));
  if (want.length === 0) return 0;
  const got = receivedFrames(p);
  let n = 0;
  for (const f of want) if (got.has(f)) n++;
  return n / want.length;
}

/** Waits until the peer heard at least `share` of prompt `name` (most of it: playback was not cut short). */
export async function hears(p: RtpPeer, name: string, share = 0.8, timeoutMs = 20_000): Promise<void> {
  const ok = await waitUntil(() => promptShare(p, name) >= share, timeoutMs, 50);
  expect(ok, `heard ${Math.round(promptShare(p, name) * 100)}% of the prompt ${name}`).toBe(true);
}

/** Waits until the peer has heard at least `ms` of sound since its last reset. */
export async function heardMs(p: RtpPeer, ms: number, timeoutMs = 15_000): Promise<void> {
  const ok = await waitUntil(() => loudMs(p.audio()) >= ms, timeoutMs, 50);
  expect(ok, `heard ${loudMs(p.audio())} ms of sound, wanted ${ms}`).toBe(true);
}

/** The last `ms` of what the peer received. */
export function tail(p: RtpPeer, ms: number): Int16Array {
  const a = p.audio();
  return a.subarray(Math.max(0, a.length - ms * 8));
}

/**
 * The peer sends a sine of `freq` Hz without pause, 20 ms at a time, until
 * the returned function is called or the peer is closed.
 */
export function hum(p: RtpPeer, freq: number): () => void {
  let n = 0;
  const pcm = new Int16Array(FRAME);
  const payload = Buffer.alloc(FRAME);
  const timer = setInterval(() => {
    for (let i = 0; i < FRAME; i++, n++) pcm[i] = Math.round(6000 * Math.sin((2 * Math.PI * freq * n) / 8000));
    encodeG711('ulaw', pcm, payload);
    try {
      p.send(1, 0, payload);
    } catch {
      stop(); // the peer was closed
    }
  }, 20);
  const stop = () => clearInterval(timer);
  return stop;
}

/**
 * Shares of each frequency in the last second the peer heard, once it has
 * heard one and a half since its reset (what was under way then, such as a
 * join announcement, is over).
 */
export async function lastSecond(p: RtpPeer, freqs: number[]): Promise<number[]> {
  await until(() => p.audio().length >= 8000 * 1.5, 'a second and a half of audio', 10_000);
  const t = tail(p, 1000);
  return freqs.map((f) => toneShare(t, f));
}

/** Some `ms` stretch of what the peer heard since its reset was mostly a tone of `freq` Hz. */
export function heardTone(p: RtpPeer, freq: number, ms = 100): boolean {
  const a = p.audio();
  const n = ms * 8;
  for (let at = 0; at + n <= a.length; at += FRAME) if (toneShare(a.subarray(at, at + n), freq) > 0.7) return true;
  return false;
}
