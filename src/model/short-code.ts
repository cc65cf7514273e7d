// Short codes: dialled patterns that run a feature instead of placing a call
// (IP Office style). A pattern is literal digits, '*' and '#' with at most one
// letter N, S or G standing for a digit string (a number, a park slot, a
// group): `*07*N#`. The table is ordered; the first pattern that matches wins.
import { z } from 'zod';

/** Feature name -> whether it takes a parameter, and what it does. */
export const SHORT_CODE_FEATURES = {
  'cancel-all-forwarding': { param: false, text: 'turn off every forward' },
  'forward-unconditional-on': { param: false, text: 'forward every call to the stored forward number' },
  'forward-unconditional-off': { param: false, text: 'stop forwarding every call' },
  'forward-busy-on': { param: false, text: 'forward when busy to the stored forward number' },
  'forward-busy-off': { param: false, text: 'stop forwarding when busy' },
  'forward-no-answer-on': { param: false, text: 'forward when not answered to the stored forward number' },
  'forward-no-answer-off': { param: false, text: 'stop forwarding when not answered' },
  'forward-number': { param: true, text: 'store the forward number and forward every call to it' },
  'dnd-on': { param: false, text: 'do not disturb on' },
  'dnd-off': { param: false, text: 'do not disturb off' },
  'dnd-exception-add': { param: true, text: 'let this caller ring through do not disturb' },
  'dnd-exception-remove': { param: true, text: 'remove a do-not-disturb exception' },
  'follow-me-here': { param: true, text: "ring the given user's calls at the phone dialling the code" },
  'follow-me-cancel': { param: true, text: "stop the given user's follow me" },
  'call-waiting-on': { param: false, text: 'call waiting on' },
  'call-waiting-off': { param: false, text: 'call waiting off' },
  voicemail: { param: false, text: "call one's own mailbox" },
  'pickup-group': { param: false, text: 'answer a call ringing in my pickup group' },
  'pickup-directed': { param: true, text: 'answer a call ringing the given extension' },
  park: { param: true, text: 'park the current call in the given slot' },
  unpark: { param: true, text: 'take the call parked in the given slot' },
  'huntgroup-login': { param: true, text: 'log in to the given hunt group' },
  'huntgroup-logout': { param: true, text: 'log out of the given hunt group' },
  conference: { param: false, text: 'join my held and my active call into a conference of three' },
} as const satisfies Record<string, { param: boolean; text: string }>;

export type ShortCodeFeature = keyof typeof SHORT_CODE_FEATURES;
export const SHORT_CODE_FEATURE_NAMES = Object.keys(SHORT_CODE_FEATURES) as [ShortCodeFeature, ...ShortCodeFeature[]];

export interface ShortCode {
  readonly id: number;
  /** The pattern, e.g. "*07*N#". Unique. */
  readonly code: string;
  readonly feature: ShortCodeFeature;
  /**
   * A fixed parameter for a pattern without a letter ("*200" -> huntgroup-login
   * 600); null when the dialled digits give it, or the feature takes none.
   */
  readonly value: string | null;
  /** Place in the table, 0 first. */
  readonly position: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/**
 * The table seeded by migration 5 (src/store/sqlite/migrations.ts) and editable
 * afterwards. A change here reaches only databases created after it.
 */
export const DEFAULT_SHORT_CODES: readonly (readonly [string, ShortCodeFeature])[] = [
  ['*00', 'cancel-all-forwarding'],
  ['*01', 'forward-unconditional-on'], ['*02', 'forward-unconditional-off'],
  ['*03', 'forward-busy-on'], ['*04', 'forward-busy-off'],
  ['*05', 'forward-no-answer-on'], ['*06', 'forward-no-answer-off'],
  ['*07*N#', 'forward-number'],
  ['*08', 'dnd-on'], ['*09', 'dnd-off'],
  ['*10*N#', 'dnd-exception-add'], ['*11*N#', 'dnd-exception-remove'],
  ['*12*N#', 'follow-me-here'], ['*13*N#', 'follow-me-cancel'],
  ['*15', 'call-waiting-on'], ['*16', 'call-waiting-off'],
  ['*17', 'voicemail'],
  ['*30', 'pickup-group'], ['*32*N#', 'pickup-directed'],
  ['*37*S#', 'park'], ['*38*S#', 'unpark'],
  ['*45*G#', 'huntgroup-login'], ['*46*G#', 'huntgroup-logout'],
  ['*47', 'conference'],
];

export const SHORT_CODE_RE = /^[0-9*#]*(?:[NSG][0-9*#]*)?$/;
const VALUE_RE = /^[0-9*#+]{1,32}$/;
/** Digits a letter of a pattern stands for. */
const MAX_PARAM_DIGITS = 32;

export const shortCodePatternSchema = z.string().min(1).max(32)
  .regex(SHORT_CODE_RE, 'must be digits, * and #, with at most one N, S or G standing for dialled digits')
  .refine((c) => /[0-9*#]/.test(c), 'must have at least one digit, * or #');

const shortCodeFields = {
  code: shortCodePatternSchema.describe('pattern, e.g. *07*N#'),
  feature: z.enum(SHORT_CODE_FEATURE_NAMES),
  value: z.string().regex(VALUE_RE, 'must be 1-32 digits, *, # or +').nullable()
    .describe('fixed parameter for a pattern without N/S/G; null = none'),
  position: z.number().int().min(0).max(10_000).describe('place in the table, 0 first; default: the end'),
};

export const shortCodeInputSchema = z
  .object({ code: shortCodeFields.code, feature: shortCodeFields.feature })
  .extend({ value: shortCodeFields.value.default(null), position: shortCodeFields.position.optional() })
  .strict();
export const shortCodePatchSchema = z
  .object({
    code: shortCodeFields.code.optional(),
    feature: shortCodeFields.feature.optional(),
    value: shortCodeFields.value.optional(),
    position: shortCodeFields.position.optional(),
  })
  .strict();
export type ShortCodeInput = z.input<typeof shortCodeInputSchema>;
export type ShortCodePatch = z.input<typeof shortCodePatchSchema>;

export const shortCodeViewSchema = z.object({
  id: z.number().int(),
  code: z.string(),
  feature: z.enum(SHORT_CODE_FEATURE_NAMES),
  value: z.string().nullable(),
  position: z.number().int(),
  createdAt: z.number().int(),
  updatedAt: z.number().int(),
});

/** Why a code/feature/value combination cannot work, or null when it can. */
export function shortCodeProblem(code: string, feature: ShortCodeFeature, value: string | null): { field: string; message: string } | null {
  const hasLetter = /[NSG]/.test(code);
  const takes = SHORT_CODE_FEATURES[feature].param;
  if (!takes && hasLetter) return { field: 'code', message: `${feature} takes no parameter, so the code must not have N, S or G` };
  if (!takes && value !== null) return { field: 'value', message: `${feature} takes no parameter` };
  if (takes && hasLetter && value !== null) return { field: 'value', message: 'give either a letter in the code or a fixed value, not both' };
  if (takes && !hasLetter && value === null) return { field: 'code', message: `${feature} needs a parameter: put N, S or G in the code, or give a fixed value` };
  return null;
}

// --- matching ---------------------------------------------------------------

interface Compiled {
  code: ShortCode;
  prefix: string;
  suffix: string;
  /** The pattern has a letter: the middle must be 1..32 digits. */
  variable: boolean;
}

export interface ShortCodeMatch {
  code: ShortCode;
  feature: ShortCodeFeature;
  /** The digits the letter matched, or the code's fixed value, or null. */
  param: string | null;
}

/** A pattern split around its letter: prefix, whether it has one, suffix. */
export function splitPattern(pattern: string): { prefix: string; variable: boolean; suffix: string } {
  const i = pattern.search(/[NSG]/);
  return i < 0 ? { prefix: pattern, variable: false, suffix: '' } : { prefix: pattern.slice(0, i), variable: true, suffix: pattern.slice(i + 1) };
}

function isDigits(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function matchOne(c: { prefix: string; variable: boolean; suffix: string }, dialled: string): string | null | undefined {
  if (!c.variable) return dialled === c.prefix ? null : undefined;
  const end = dialled.length - c.suffix.length;
  const len = end - c.prefix.length;
  if (len < 1 || len > MAX_PARAM_DIGITS || !dialled.startsWith(c.prefix) || !dialled.endsWith(c.suffix)) return undefined;
  return isDigits(dialled, c.prefix.length, end) ? dialled.slice(c.prefix.length, end) : undefined;
}

/** Whether a pattern matches a dialled string (conflict checks against extensions). */
export function patternMatches(pattern: string, dialled: string): boolean {
  return matchOne(splitPattern(pattern), dialled) !== undefined;
}

// Compiled once per table: the list a repository returns is a new array after
// every change, so the array itself is the cache key.
const compiledTables = new WeakMap<readonly ShortCode[], Compiled[]>();

function compile(codes: readonly ShortCode[]): Compiled[] {
  let c = compiledTables.get(codes);
  if (!c) {
    c = codes.map((code) => ({ code, ...splitPattern(code.code) }));
    compiledTables.set(codes, c);
  }
  return c;
}

/** The first code in table order that the dialled string matches, or undefined. */
export function matchShortCode(codes: readonly ShortCode[], dialled: string): ShortCodeMatch | undefined {
  for (const c of compile(codes)) {
    const p = matchOne(c, dialled);
    if (p !== undefined) return { code: c.code, feature: c.code.feature, param: c.variable ? p : c.code.value };
  }
  return undefined;
}
