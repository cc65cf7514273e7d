// The user model (SPEC 1.A "User"): every rule and default of a user's
// fields, in one place. The API validates requests with these schemas and
// documents them (OpenAPI), the store validates writes with them
// (src/store/user-validate.ts), the CLI takes its ranges from here, and the
// web UI's types are the view schema's output.
import { z } from 'zod';
import { EXTENSION_RULE, extensionSchema, CONTROL_RE } from './common.ts';
import { USER_FEATURE_DEFAULTS, userFeatureShape } from './user-features.ts';

/** Simultaneous calls a user may be given (null = the system default). */
export const MAX_CALLS_RANGE = [1, 100] as const;
/** Seconds an unanswered call rings before coverage (null = the system default). */
export const NO_ANSWER_TIMEOUT_RANGE = [5, 600] as const;
// The codecs the call server can put in an offer; telephone-event is always kept and is not listed.
export const KNOWN_CODECS: readonly string[] = Object.freeze(['PCMU', 'PCMA', 'G722', 'G729']);

// The digest username travels as a quoted-string and feeds "user:realm:pass":
// visible ASCII without '"', '\' or ':' keeps both unambiguous.
const AUTH_USER_RE = /^[\x21\x23-\x39\x3b-\x5b\x5d-\x7e]{1,128}$/;

const text = (min: number, max: number) => z.string({ error: (i) => (i.input === undefined ? 'is required' : 'must be text') })
  .min(min, min === 1 ? 'must not be empty' : `must have at least ${min} characters`)
  .max(max, `must have at most ${max} characters`)
  .refine((s) => !CONTROL_RE.test(s), 'must not contain control characters');
const bool = () => z.boolean({ error: 'must be true or false' });
const optInt = ([min, max]: readonly [number, number]) => {
  // "Empty" is the form's blank and the API's null alike: both mean the system default.
  const error = `must be a whole number from ${min} to ${max}, or empty for the system default`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error }).nullable();
};
const codecsError = `must name one or more of ${KNOWN_CODECS.join(', ')}, or be empty for the system's list`;

/** How a user's phones learn of waiting messages (RFC 3842): they subscribe, or are told unasked. */
export const MWI_MODES = ['subscribe', 'unsolicited'] as const;
export type MwiMode = (typeof MWI_MODES)[number];

// --- media ------------------------------------------------------------------

/** A user's media settings (SPEC 1.A Extension VoIP, §4.8); a missing key means "Same as System". */
export const mediaValues = {
  security: z.enum(['disabled', 'best-effort', 'enforced']),
  /** SRTCP encrypted (the default, and required by the gateway) or not (SIP stand-ins for H.323 phones). */
  srtcp: z.enum(['encrypted', 'unencrypted']),
  /** Allow RTP to flow straight between the endpoints when both sides agree. */
  directMedia: z.boolean(),
  dtmf: z.enum(['rfc4733', 'info']),
  capneg: z.boolean().describe('the phone does RFC 5939 capability negotiation'),
  transport: z.enum(['any', 'tls']).describe('tls: the phone must register and call over TLS'),
};
export type UserMediaSettings = { [K in keyof typeof mediaValues]?: z.output<(typeof mediaValues)[K]> };
export type MediaSecurityMode = NonNullable<UserMediaSettings['security']>;
export const MEDIA_KEYS = Object.keys(mediaValues) as (keyof UserMediaSettings)[];
/** The allowed values of each media key, for messages and menus. */
export const MEDIA_CHOICES = Object.fromEntries(MEDIA_KEYS.map((k) => {
  const s = mediaValues[k];
  return [k, s instanceof z.ZodEnum ? (s.options as readonly unknown[]) : [true, false]];
})) as { [K in keyof UserMediaSettings]-?: readonly unknown[] };

export const mediaPatchSchema = z
  .object(Object.fromEntries(MEDIA_KEYS.map((k) => [k, mediaValues[k].nullable().optional()])) as {
    [K in keyof typeof mediaValues]: z.ZodOptional<z.ZodNullable<(typeof mediaValues)[K]>>
  })
  .strict()
  .describe("media settings that differ from the system's; null returns a key to the system value");

// --- fields -----------------------------------------------------------------

export const userFieldSchemas = {
  extension: extensionSchema,
  name: text(0, 128).describe('display name: shown as caller ID and in status; may be empty'),
  authUser: z.string().regex(AUTH_USER_RE, 'must be 1-128 visible ASCII characters without quote, backslash or colon')
    .describe('SIP digest user name (what the phone logs in with); defaults to the extension, and follows a renumbering while it equals it'),
  password: text(1, 128).describe('login code = SIP digest secret; write-only'),
  voicemailCode: z.string({ error: 'must be 1 to 16 digits, or empty for none' }).regex(/^[0-9]{1,16}$/, 'must be 1 to 16 digits, or empty for none').nullable()
    .describe('mailbox PIN; write-only'),
  enabled: bool(),
  callWaiting: bool(),
  codecs: z.array(z.string({ error: codecsError }).trim().toUpperCase()
    .refine((c) => KNOWN_CODECS.includes(c), { error: (i) => `unknown codec ${JSON.stringify(i.input)} (known: ${KNOWN_CODECS.join(', ')})` }), { error: codecsError })
    .min(1, codecsError).max(KNOWN_CODECS.length, codecsError)
    .refine((l) => new Set(l).size === l.length, 'a codec is listed twice')
    .nullable()
    .describe('allowed codecs in preference order; null = system default'),
  maxCalls: optInt(MAX_CALLS_RANGE).describe('simultaneous calls; null = system default'),
  noAnswerTimeoutSec: optInt(NO_ANSWER_TIMEOUT_RANGE).describe('seconds before an unanswered call goes to coverage; null = default'),
  outboundCalls: bool().describe('may call out through trunks (off by default: no toll fraud)'),
  voicemail: bool().describe('the user has a mailbox (unanswered calls may leave a message)'),
  mwi: z.enum(MWI_MODES, { error: `must be one of ${MWI_MODES.join(', ')}` })
    .describe('message waiting: subscribe = the phone subscribes to message-summary; unsolicited = the server notifies every registered phone unasked'),
  ...userFeatureShape,
};

/** Defaults of add(); authUser defaults to the extension. */
export const USER_DEFAULTS = Object.freeze({
  name: '',
  voicemailCode: null,
  enabled: true,
  callWaiting: true,
  codecs: null,
  maxCalls: null,
  noAnswerTimeoutSec: null,
  outboundCalls: false,
  voicemail: true,
  mwi: 'subscribe' as MwiMode,
  ...USER_FEATURE_DEFAULTS,
});

/** Every stored field but media, as the store validates a whole user before writing it. */
export const storedUserSchema = z.object(userFieldSchemas);

const { extension: _e, password: _p, ...optionalFields } = userFieldSchemas;
const optional = Object.fromEntries(Object.entries(optionalFields).map(([k, v]) => [k, v.optional()])) as {
  [K in keyof typeof optionalFields]: z.ZodOptional<(typeof optionalFields)[K]>
};

export const userCreateSchema = z
  .object({ extension: userFieldSchemas.extension, password: userFieldSchemas.password, ...optional, media: mediaPatchSchema.optional() })
  .strict();
export const userPatchSchema = userCreateSchema.partial().strict();

/** A user as the API shows it: no secrets (SPEC 4.1), only whether a voicemail code is set. */
export const userViewSchema = z.object({
  id: z.number().int(),
  extension: z.string(),
  name: z.string().describe('display name'),
  authUser: z.string(),
  hasVoicemailCode: z.boolean(),
  enabled: z.boolean(),
  callWaiting: z.boolean(),
  codecs: z.array(z.string()).nullable(),
  maxCalls: z.number().int().nullable(),
  noAnswerTimeoutSec: z.number().int().nullable(),
  outboundCalls: z.boolean(),
  voicemail: z.boolean(),
  mwi: z.enum(MWI_MODES),
  media: z.object(mediaValues).partial().describe('only the keys that differ from the system'),
  ...userFeatureShape,
  createdAt: z.number().int(),
  updatedAt: z.number().int(),
});
export type UserView = z.output<typeof userViewSchema>;
export type UserCreate = z.input<typeof userCreateSchema>;

export { EXTENSION_RULE };
