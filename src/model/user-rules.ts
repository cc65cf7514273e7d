// The administrator's rules for new user data (issue 12 item 6): the
// numbering plan's extension pattern and the strength of SIP passwords.
// They are settings (stored in the database, GET/PUT /api/user-rules,
// `switchboard user rules`), applied where an administrator creates,
// changes or imports a user (API, CLI); the store keeps only the structural
// rules of src/model/user.ts, so a user stored before a rule was tightened is
// not refused when another of its fields changes. No Node imports: the web
// UI uses the rules and the generator too.
import { z } from 'zod';
import { COMMON_PASSWORD_WORDS } from './common-passwords.ts';
import { compilesAsRegex } from '../lib/regex.ts';

export const DEFAULT_EXTENSION_PATTERN = '^[0-9]{2,15}$';

const patternSchema = z.string({ error: 'must be a regular expression' }).min(1, 'must not be empty').max(200, 'must have at most 200 characters')
  .refine((p) => compilesAsRegex(p), 'is not a valid regular expression');

export const userRulesSchema = z.object({
  extensionPattern: patternSchema.default(DEFAULT_EXTENSION_PATTERN)
    .describe('regular expression a new or renumbered extension must match as a whole'),
  extensionHint: z.string().min(1).max(120).default('digits only, 2 to 15 of them')
    .describe('the pattern in words, for messages: "extension: must be <hint>"'),
  password: z.object({
    minLength: z.number({ error: 'must be a whole number from 4 to 64' }).int().min(4).max(64).default(8)
      .describe('fewest characters of a SIP password'),
    refuseGuessable: z.boolean().default(true)
      .describe('refuse repeats (1111, abab), runs (1234, 4321, abcd), common words, and the extension or auth user in it'),
  }).strict().prefault({}),
}).strict();
export type UserRules = z.output<typeof userRulesSchema>;
export const USER_RULES_DEFAULTS: UserRules = Object.freeze(userRulesSchema.parse({}));
/** Where the rules are stored among the settings. */
export const USER_RULES_KEY = 'users.rules';

/** The stored rules, or the defaults when none (or no longer valid ones) are stored. */
export function userRulesOf(stored: unknown): UserRules {
  const r = userRulesSchema.safeParse(stored ?? {});
  return r.success ? r.data : USER_RULES_DEFAULTS;
}

/** Why an extension breaks the numbering pattern, or null. */
export function extensionProblem(extension: string, rules: UserRules): string | null {
  return new RegExp(`^(?:${rules.extensionPattern})$`).test(extension) ? null : `must be ${rules.extensionHint}`;
}

/** A password made of one short unit repeated: 1111, 1212, abcabc. */
function repeats(p: string): boolean {
  for (let unit = 1; unit <= 3 && unit * 2 <= p.length; unit++) {
    if (p === p.slice(0, unit).repeat(Math.ceil(p.length / unit)).slice(0, p.length)) return true;
  }
  return false;
}

/** Every character one after (or before) the last: 1234, 98765, abcdef, 7890 (digits wrap). */
function isRun(p: string): boolean {
  if (p.length < 3) return false;
  const s = p.toLowerCase();
  const next = (a: string, b: string, step: number) =>
    b.charCodeAt(0) - a.charCodeAt(0) === step || (/[0-9]/.test(a) && /[0-9]/.test(b) && (Number(a) + step + 10) % 10 === Number(b));
  return [1, -1].some((step) => [...s].every((c, i) => i === 0 || next(s[i - 1]!, c, step)));
}

/** A common word with only digits or punctuation around it: Password1!, welcome2024, 123qwerty. */
function commonWord(p: string): boolean {
  const core = p.toLowerCase().replace(/^[^a-z]+|[^a-z]+$/g, '');
  return COMMON_PASSWORD_WORDS.has(core) || COMMON_PASSWORD_WORDS.has(p.toLowerCase());
}

/**
 * What makes a new SIP password too weak under the rules (empty: it is
 * acceptable). The phone stores it and nobody types it twice a day, so
 * length and unguessability matter, not character classes.
 */
export function sipPasswordProblems(password: string, rules: UserRules, who: { extension?: string; authUser?: string } = {}): string[] {
  const out: string[] = [];
  const { minLength, refuseGuessable } = rules.password;
  if (password.length < minLength) out.push(`must have at least ${minLength} characters`);
  if (!refuseGuessable) return out;
  if (repeats(password)) out.push('must not be one character or a short group repeated (like 1111 or 1212)');
  else if (isRun(password)) out.push('must not be a run of characters (like 1234, 4321 or abcd)');
  else if (commonWord(password)) out.push('must not be a common word, even with digits around it (like password1)');
  const lower = password.toLowerCase();
  for (const [what, v] of [['extension', who.extension], ['auth user', who.authUser]] as const) {
    if (v && v.length >= 2 && lower.includes(v.toLowerCase())) {
      out.push(`must not contain the ${what} (${v})`);
      break;
    }
  }
  return out;
}

/** One problem of a user write, by field. */
export interface RuleIssue { path: string; message: string }

/**
 * The rule problems of a user create or patch body: the extension when it is
 * new (or renumbered), the password when one is given. `current` is the user
 * a patch changes. Fields of the wrong type are left to the model's schema.
 */
export function userRuleIssues(body: unknown, rules: UserRules, current?: { extension: string; authUser: string }): RuleIssue[] {
  if (body === null || typeof body !== 'object') return [];
  const b = body as Record<string, unknown>;
  const out: RuleIssue[] = [];
  const ext = typeof b.extension === 'string' ? b.extension : undefined;
  if (ext !== undefined && ext !== current?.extension) {
    const p = extensionProblem(ext, rules);
    if (p) out.push({ path: 'extension', message: p });
  }
  if (typeof b.password === 'string' && b.password !== '') {
    const extension = ext ?? current?.extension;
    const authUser = typeof b.authUser === 'string' ? b.authUser : current?.authUser;
    for (const m of sipPasswordProblems(b.password, rules, { extension, authUser })) out.push({ path: 'password', message: m });
  }
  return out;
}

// No 0/O, 1/l/I: a SIP password is read off a screen and typed into a phone.
const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';

/**
 * A random SIP password that passes the rules: 16 characters (more when the
 * rules ask for more) from the Web Crypto random source, which Node and the
 * browser both have; about 95 bits.
 */
export function generateSipPassword(rules: UserRules = USER_RULES_DEFAULTS): string {
  const length = Math.max(16, rules.password.minLength);
  const limit = 256 - (256 % ALPHABET.length); // rejection sampling: no modulo bias
  for (;;) {
    let out = '';
    while (out.length < length) {
      for (const b of globalThis.crypto.getRandomValues(new Uint8Array(length * 2))) {
        if (b < limit && out.length < length) out += ALPHABET[b % ALPHABET.length];
      }
    }
    if (/[a-z]/.test(out) && /[A-Z]/.test(out) && /[0-9]/.test(out) && sipPasswordProblems(out, rules).length === 0) return out;
  }
}
