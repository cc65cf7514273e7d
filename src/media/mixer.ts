// N-party conference mixing on the media clock: in the MIX phase of each
// tick, every participant's frame of this tick is summed once into an int32
// buffer, and each participant gets that sum minus its own frame (it hears
// everyone but itself), saturated to int16. Frames are read from and handed
// to the ports by reference; nothing is allocated per tick.
import { FRAME_SAMPLES, PHASE_MIX, type MediaClock } from './media-clock.ts';

/** What the mixer needs of a participant (MediaEndpoint implements it). */
export interface MixerPort {
  /** This tick's decoded frame (FRAME_SAMPLES), or undefined for silence. */
  takeFrame(): Int16Array | undefined;
  /** The frame to send this tick; kept by reference until the SEND phase. */
  sendFrame(pcm: Int16Array): void;
}

interface Participant {
  readonly port: MixerPort;
  readonly out: Int16Array;
  input: Int16Array | undefined;
}

export class ConferenceMixer {
  private parts: readonly Participant[] = [];
  private readonly sum = new Int32Array(FRAME_SAMPLES);
  private unsubscribe: (() => void) | null = null;

  /** With a clock, mixes on its MIX phase while it has participants; without, call mix() yourself. */
  constructor(private readonly clock?: MediaClock) {}

  get size(): number {
    return this.parts.length;
  }

  add(port: MixerPort): void {
    if (this.parts.some((p) => p.port === port)) return;
    this.parts = [...this.parts, { port, out: new Int16Array(FRAME_SAMPLES), input: undefined }];
    if (this.clock && this.unsubscribe === null) this.unsubscribe = this.clock.subscribe(PHASE_MIX, () => this.mix());
  }

  remove(port: MixerPort): void {
    this.parts = this.parts.filter((p) => p.port !== port);
    if (this.parts.length === 0) this.close();
  }

  has(port: MixerPort): boolean {
    return this.parts.some((p) => p.port === port);
  }

  close(): void {
    this.parts = [];
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  /** One tick: take every frame, sum, hand each participant the others' sum. */
  mix(): void {
    const parts = this.parts;
    const sum = this.sum;
    sum.fill(0);
    for (let k = 0; k < parts.length; k++) {
      const p = parts[k]!;
      const f = p.port.takeFrame();
      p.input = f;
      if (f !== undefined) for (let i = 0; i < FRAME_SAMPLES; i++) sum[i]! += f[i]!;
    }
    for (let k = 0; k < parts.length; k++) {
      const p = parts[k]!;
      const own = p.input;
      const out = p.out;
      for (let i = 0; i < FRAME_SAMPLES; i++) {
        const v = own !== undefined ? sum[i]! - own[i]! : sum[i]!;
        out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
      }
      p.port.sendFrame(out);
    }
  }
}
