// The spoken prompts the voicemail, IVR and conference apps play: their names
// and texts (one place; scripts/make-prompts.ts synthesises them into
// assets/prompts/<name>.wav, committed), and PromptSet, which loads them once
// at start into 8 kHz PCM.
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readWavAt } from './wav.ts';

export const PROMPTS_DIR = fileURLToPath(new URL('../../assets/prompts/', import.meta.url));
/** The music on hold that ships with the project (synthesised by scripts/make-prompts.ts). */
export const DEFAULT_MOH_FILE = fileURLToPath(new URL('../../assets/moh/default.wav', import.meta.url));

const DIGIT_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];

export const PROMPT_TEXTS: Readonly<Record<string, string>> = {
  ...Object.fromEntries(DIGIT_WORDS.map((w, i) => [`digit-${i}`, w])),
  'digit-star': 'star',
  'digit-pound': 'pound',
  'vm-unavailable':
    'The person you are calling is not available. Please leave a message after the tone. When you are done, hang up or press pound.',
  'vm-extension': 'The mailbox of extension',
  'vm-mailbox': 'Please enter your mailbox number, followed by pound.',
  'vm-password': 'Please enter your voicemail code, followed by pound.',
  'vm-login-failed': 'That mailbox or code is not correct.',
  'vm-you-have': 'You have',
  'vm-new-messages': 'new messages',
  'vm-new-message': 'new message',
  'vm-saved-messages': 'saved messages',
  'vm-saved-message': 'saved message',
  'vm-no-messages': 'You have no messages.',
  'vm-main-menu':
    'To listen to new messages, press 1. For saved messages, press 2. To record your greeting, press 3. To change your code, press 4. To hang up, press star.',
  'vm-message': 'Message',
  'vm-from': 'from',
  'vm-message-menu':
    'To play it again, press 1. To save it, press 2. To delete it, press 3. For the next message, press pound. For the main menu, press star.',
  'vm-saved': 'Message saved.',
  'vm-deleted': 'Message deleted.',
  'vm-no-more': 'No more messages.',
  'vm-record-greeting': 'Record your greeting after the tone. Press pound when you are done.',
  'vm-greeting-saved': 'Your greeting is saved.',
  'vm-new-code': 'Enter your new code, followed by pound.',
  'vm-code-changed': 'Your code is changed.',
  'vm-code-invalid': 'The code must be 1 to 16 digits.',
  'vm-invalid': 'That is not a valid choice.',
  'vm-goodbye': 'Goodbye.',
  'vm-too-short': 'Your message was too short and was not saved.',
  'vm-mailbox-full': 'This mailbox is full and cannot take a message.',
  'vm-not-saved': 'Sorry, your message could not be saved.',
  'ivr-welcome': 'Welcome. Please enter the extension you want, or hold for the operator.',
  'ivr-invalid': 'That is not a valid choice.',
  'ivr-transfer': 'Please hold while I transfer your call.',
  'ivr-enter-extension': 'Please enter the extension number, followed by pound.',
  'ivr-unavailable': 'That extension is not available.',
  'conf-pin': 'Please enter the conference code, followed by pound.',
  'conf-pin-wrong': 'That code is not correct.',
  'conf-alone': 'You are the only person in this conference.',
  'conf-joined': 'You are now in the conference.',
  'conf-full': 'This conference is full.',
};

/** Prompt names that speak `digits` ("1001" → digit-1, digit-0, digit-0, digit-1; * and # too). RangeError for other characters. */
export function digitPromptNames(digits: string): string[] {
  return [...digits].map((c) => {
    if (c >= '0' && c <= '9') return `digit-${c}`;
    if (c === '*') return 'digit-star';
    if (c === '#') return 'digit-pound';
    throw new RangeError(`no prompt for the character '${c}'`);
  });
}

export class PromptSet {
  private constructor(private readonly pcm: ReadonlyMap<string, Int16Array>) {}

  /**
   * Reads every <name>.wav of `dir` (default the shipped assets/prompts) as
   * 8 kHz PCM. Throws when a prompt of PROMPT_TEXTS is missing or a file is
   * not a readable WAV, naming it: a broken install should fail at start.
   */
  static load(dir = PROMPTS_DIR): PromptSet {
    const map = new Map<string, Int16Array>();
    for (const f of readdirSync(dir)) {
      if (!f.endsWith('.wav')) continue;
      const name = f.slice(0, -4);
      try {
        map.set(name, readWavAt(readFileSync(`${dir}/${f}`)));
      } catch (err) {
        throw new Error(`prompt ${name} (${dir}/${f}): ${(err as Error).message}`);
      }
    }
    const missing = Object.keys(PROMPT_TEXTS).filter((n) => !map.has(n));
    if (missing.length > 0) throw new Error(`prompts missing in ${dir}: ${missing.join(', ')} (run scripts/make-prompts.ts)`);
    return new PromptSet(map);
  }

  has(name: string): boolean {
    return this.pcm.has(name);
  }

  names(): string[] {
    return [...this.pcm.keys()].sort();
  }

  /** The prompt's PCM (shared: do not modify). Throws on an unknown name. */
  get(name: string): Int16Array {
    const p = this.pcm.get(name);
    if (p === undefined) throw new Error(`unknown prompt '${name}'`);
    return p;
  }

  /** The digit prompts that speak `digits`, in order. */
  digits(digits: string): Int16Array[] {
    return digitPromptNames(digits).map((n) => this.get(n));
  }
}
