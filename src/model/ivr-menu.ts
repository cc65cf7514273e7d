// IVR menus (auto attendant, issue 13 item 4): a number that answers, plays a
// greeting and sends the caller on by the digit pressed. The IVR application
// (src/pbx/ivr/) runs from these; the store keeps them (src/store/*/ivr-menus.ts).
// No Node imports: the web UI type-checks it.
import { z } from 'zod';
import { extensionSchema, textSchema } from './common.ts';
import { audioNameSchema } from './audio-file.ts';

/** The keys a caller can press. */
export const IVR_DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#'] as const;
export type IvrDigit = (typeof IVR_DIGITS)[number];

export const IVR_TIMEOUT_SEC_RANGE = [1, 60] as const;
export const IVR_TIMEOUT_SEC_DEFAULT = 5;
export const IVR_MAX_RETRIES_RANGE = [0, 10] as const;
export const IVR_MAX_RETRIES_DEFAULT = 3;
/** The built-in greeting played when a menu names no audio file. */
export const IVR_DEFAULT_PROMPT = 'ivr-welcome';

const target = (what: string) => extensionSchema.describe(what);

/** What a digit (or a timeout, or an invalid digit) does. */
export const ivrActionSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('extension'), target: target('the extension to ring') }).strict(),
  z.object({ type: z.literal('huntgroup'), target: target('the hunt group number to call') }).strict(),
  z.object({ type: z.literal('voicemail'), target: target('the mailbox (user extension) the caller leaves a message in') }).strict(),
  z.object({ type: z.literal('menu'), target: target('the number of another IVR menu') }).strict(),
  z.object({ type: z.literal('dial-by-extension').describe('the caller types an extension and #') }).strict(),
  z.object({ type: z.literal('repeat').describe('play the greeting again (counts as a retry)') }).strict(),
  z.object({ type: z.literal('hangup') }).strict(),
], { error: (issue) => (issue.code === 'invalid_union' ? 'must be extension, huntgroup, voicemail, menu, dial-by-extension, repeat or hangup' : undefined) });
export type IvrAction = z.output<typeof ivrActionSchema>;
export type IvrActionType = IvrAction['type'];

const DIGIT_RULE = "must be a key of the phone: 0-9, '*' or '#'";
/** Checks that speak even when other fields are wrong too, so one answer lists every problem (they guard their input). */
const ALWAYS = { when: () => true };

/** Digit -> action; a key that is not a digit is named in the message (a record of an enum would only say "unknown field"). */
const optionsSchema = z.record(z.string(), ivrActionSchema).superRefine((o, ctx) => {
  for (const key of typeof o === 'object' && o !== null ? Object.keys(o) : []) {
    if (!(IVR_DIGITS as readonly string[]).includes(key)) ctx.addIssue({ code: 'custom', path: [key], message: DIGIT_RULE });
  }
}, ALWAYS) as unknown as z.ZodType<Partial<Record<IvrDigit, IvrAction>>>;

const menuFields = {
  name: textSchema(1, 64),
  greeting: audioNameSchema.nullable().describe(`audio file played on answer; null: the built-in prompt ${IVR_DEFAULT_PROMPT}`),
  timeoutSec: z.number().int().min(IVR_TIMEOUT_SEC_RANGE[0]).max(IVR_TIMEOUT_SEC_RANGE[1])
    .describe(`seconds to wait for a digit after the greeting (default ${IVR_TIMEOUT_SEC_DEFAULT})`),
  maxRetries: z.number().int().min(IVR_MAX_RETRIES_RANGE[0]).max(IVR_MAX_RETRIES_RANGE[1])
    .describe(`how many times "repeat" replays the greeting before the operator (or hang-up) takes over (default ${IVR_MAX_RETRIES_DEFAULT})`),
  options: optionsSchema.describe("digit ('0'-'9', '*', '#') -> action"),
  onTimeout: ivrActionSchema.describe('no digit in time (default repeat)'),
  onInvalid: ivrActionSchema.describe('a digit with no option (default repeat)'),
  operator: extensionSchema.nullable()
    .describe('where the caller goes once the retries are used up; null: hang up'),
};

/** A menu's fields with their defaults (the number apart: it names the menu). */
const menuObject = z
  .object({
    name: menuFields.name,
    greeting: menuFields.greeting.default(null),
    timeoutSec: menuFields.timeoutSec.default(IVR_TIMEOUT_SEC_DEFAULT),
    maxRetries: menuFields.maxRetries.default(IVR_MAX_RETRIES_DEFAULT),
    options: menuFields.options.default({}),
    onTimeout: menuFields.onTimeout.default({ type: 'repeat' }),
    onInvalid: menuFields.onInvalid.default({ type: 'repeat' }),
    operator: menuFields.operator.default(null),
  })
  .strict();

/** Typing an extension needs a key from the caller: not what a timeout or a wrong key can do. */
function noDialByExtensionWithoutKey(m: Pick<z.output<typeof menuObject>, 'onTimeout' | 'onInvalid'>, ctx: z.RefinementCtx): void {
  for (const key of ['onTimeout', 'onInvalid'] as const) {
    if ((m as Partial<typeof m> | undefined)?.[key]?.type === 'dial-by-extension') {
      ctx.addIssue({ code: 'custom', path: [key, 'type'], message: 'dial-by-extension needs a key from the caller; use it as an option' });
    }
  }
}

/**
 * The whole menu as `ivr set --file menu.json` and PUT /api/ivr-menus/:number
 * take it (the number comes from the command line or the URL). A set replaces
 * the menu; omitted fields take their defaults.
 */
export const ivrMenuBodySchema = menuObject.superRefine(noDialByExtensionWithoutKey, ALWAYS);

export const ivrMenuInputSchema = menuObject
  .extend({ number: extensionSchema.describe('dialled number of the menu (a trunk DID may name it too)') })
  .superRefine(noDialByExtensionWithoutKey, ALWAYS);

export type IvrMenuBody = z.input<typeof ivrMenuBodySchema>;
/** What set() takes (defaults filled by the model). */
export type IvrMenuInput = z.input<typeof ivrMenuInputSchema>;
export type IvrMenuFields = z.output<typeof ivrMenuInputSchema>;

export interface IvrMenu extends Readonly<Omit<IvrMenuFields, 'options'>> {
  readonly options: Readonly<Partial<Record<IvrDigit, IvrAction>>>;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export const ivrMenuViewSchema = z.object({
  number: z.string(),
  name: z.string(),
  greeting: z.string().nullable(),
  timeoutSec: z.number().int(),
  maxRetries: z.number().int(),
  options: optionsSchema,
  onTimeout: ivrActionSchema,
  onInvalid: ivrActionSchema,
  operator: z.string().nullable(),
  createdAt: z.number().int(),
  updatedAt: z.number().int(),
});
export type IvrMenuView = z.output<typeof ivrMenuViewSchema>;

/** Where each of a menu's actions leads, with where it sits in the menu ("option 1", "onTimeout"). */
export function menuActions(m: Pick<IvrMenuFields, 'options' | 'onTimeout' | 'onInvalid'>): { where: string; action: IvrAction; automatic: boolean }[] {
  const out = Object.entries(m.options).map(([digit, action]) => ({ where: `option ${digit}`, action: action!, automatic: false }));
  out.push({ where: 'onTimeout', action: m.onTimeout, automatic: true }, { where: 'onInvalid', action: m.onInvalid, automatic: true });
  return out;
}

/** A loop found by findMenuLoop: the field of the saved menu that starts it, and the menus in it. */
export interface MenuLoop {
  /** 'options.5' (a key naming its own menu), 'onTimeout' or 'onInvalid'. */
  field: string;
  /** "8100 -> 8101 -> 8100" */
  path: string;
}

type Links = Pick<IvrMenuFields, 'options' | 'onTimeout' | 'onInvalid'>;

/**
 * A loop the caller cannot leave: menus sending each other on without a key
 * pressed (timeout or invalid input), and a key that names its own menu
 * (that is "repeat"). A key leading back to an earlier menu ("9: main menu")
 * is the caller's choice and is allowed. `menus`: the other menus by number,
 * as stored; `m` replaces the stored one of its number. Any loop `m` closes
 * passes through it, so a search from `m` finds it: breadth first, each menu
 * once, no recursion however long the chain.
 */
export function findMenuLoop(m: IvrMenuFields, menus: ReadonlyMap<string, Links>): MenuLoop | undefined {
  for (const [digit, action] of Object.entries(m.options)) {
    if (action?.type === 'menu' && action.target === m.number) return { field: `options.${digit}`, path: `${m.number} -> ${m.number}` };
  }
  const next = (n: string): string[] => {
    const menu = n === m.number ? m : menus.get(n);
    return menu ? [menu.onTimeout, menu.onInvalid].flatMap((a) => (a.type === 'menu' ? [a.target] : [])) : [];
  };
  for (const field of ['onTimeout', 'onInvalid'] as const) {
    const first = m[field];
    if (first.type !== 'menu') continue;
    // parent: how each menu was reached, for the path back.
    const parent = new Map<string, string>([[first.target, m.number]]);
    const queue = [first.target];
    for (let i = 0; i < queue.length; i++) {
      const n = queue[i]!;
      if (n === m.number) {
        const path = [n];
        for (let at = parent.get(n)!; at !== m.number; at = parent.get(at)!) path.push(at);
        path.push(m.number);
        return { field, path: path.reverse().join(' -> ') };
      }
      for (const t of next(n)) {
        if (!parent.has(t)) {
          parent.set(t, n);
          queue.push(t);
        }
      }
    }
  }
  return undefined;
}
