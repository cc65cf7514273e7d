// What an application does with a caller, in the words of a menu: say
// prompts (a digit typed during one cuts it short and is kept for the next
// question), ask for digits, play a recording, beep, record. One per call,
// over the call's media endpoint.
import type { TimerQueue } from '../../lib/timer-queue.ts';
import { digitPromptNames } from '../../media/prompts.ts';
import type { PromptSet } from '../../media/prompts.ts';
import { BEEP, tone } from '../../media/tones.ts';
import type { AppCall, AppEndpoint } from './app-call.ts';
import type { MixerPort } from '../../media/mixer.ts';
import { DigitQueue } from './digits.ts';

export type PlayResult = 'done' | 'interrupted' | 'stopped' | 'closed';

/** The media endpoint as an application uses it (src/media/endpoint.ts). */
export interface VoiceEndpoint extends AppEndpoint, MixerPort {
  play(pcm: Int16Array, opts?: { loop?: boolean; interruptOnDigit?: boolean }): Promise<PlayResult>;
  record(opts: { maxMs: number; silenceMs?: number; endDigits?: string }): Promise<{ pcm: Int16Array; endedBy: string; digit?: string }>;
  onDigit(cb: (digit: string, via: string) => void): void;
}

/** Seconds a caller has to start typing, and between digits. */
const FIRST_DIGIT_MS = 8000;
const NEXT_DIGIT_MS = 5000;

export class AppSession {
  readonly digits: DigitQueue;

  constructor(
    readonly call: AppCall<VoiceEndpoint>,
    readonly prompts: PromptSet,
    timers: TimerQueue,
  ) {
    this.digits = new DigitQueue(timers);
    call.endpoint.onDigit((d) => this.digits.push(d));
    call.onEnd(() => this.digits.close());
  }

  get ended(): boolean {
    return this.call.ended;
  }

  /**
   * Says prompts one after another; stops at once when the caller types (the
   * digit stays queued) or hangs up. True when all was said.
   */
  async say(...names: string[]): Promise<boolean> {
    for (const name of names) {
      if (this.ended || this.digits.waiting) return false;
      const r = await this.call.endpoint.play(this.prompts.get(name), { interruptOnDigit: true });
      if (r !== 'done') return false;
    }
    return true;
  }

  /** Says a number digit by digit ("one zero zero one"). */
  sayDigits(number: string): Promise<boolean> {
    return this.say(...digitPromptNames(number));
  }

  /** Plays audio (a message, a greeting) that a digit may cut short. */
  async play(pcm: Int16Array): Promise<PlayResult> {
    if (this.ended) return 'closed';
    return this.call.endpoint.play(pcm, { interruptOnDigit: true });
  }

  /** The beep before a recording (not interruptible: it is short). */
  async beep(): Promise<void> {
    if (!this.ended) await this.call.endpoint.play(tone(BEEP, 250));
  }

  /** One key press, after the prompts (which it may interrupt); undefined on timeout or hang-up. */
  async key(prompts: string[], timeoutMs = FIRST_DIGIT_MS): Promise<string | undefined> {
    await this.say(...prompts);
    return this.digits.next(timeoutMs);
  }

  /** Digits ended by '#' (or `max` of them), after the prompts; `firstMs` to start typing. */
  async entry(prompts: string[], max = 16, firstMs = FIRST_DIGIT_MS): Promise<string | undefined> {
    await this.say(...prompts);
    return this.digits.collect({ max, terminator: '#', firstMs, nextMs: NEXT_DIGIT_MS });
  }
}
