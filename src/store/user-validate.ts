// Validation of user fields, shared by every store implementation so SQLite
// and PostgreSQL accept exactly the same data. Runs on administrative writes
// only (CLI, REST, CSV import), never on the SIP path, so regexes are fine.
import {
  rememberedForwardNumber, selfTargets, USER_FEATURE_DEFAULTS, USER_FEATURE_KEYS, userFeaturesSchema,
  type UserFeaturePatch, type UserFeatures,
} from '../model/user-features.ts';
import { StoreError } from './errors.ts';
import { parseModel } from './model-parse.ts';
import type { User, UserInput, UserMediaSettings, UserPatch } from './types.ts';

/** A user as written to storage, before id and timestamps. */
export type UserFields = Omit<User, 'id' | 'createdAt' | 'updatedAt'>;

// RFC 3261 user part: unreserved and user-unreserved characters, minus ";" "?"
// "/" which naive URI handling (and voicemail file names) misread, and minus
// "%" so the stored extension is already the decoded user part.
const EXTENSION_RE = /^[A-Za-z0-9\-_.!~*'()&=+$,]{1,64}$/;
// The digest username travels as a quoted-string and feeds "user:realm:pass":
// visible ASCII without '"', '\' or ':' keeps both unambiguous.
const AUTH_USER_RE = /^[\x21\x23-\x39\x3b-\x5b\x5d-\x7e]{1,128}$/;
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\x00-\x1f\x7f]/;
// The codecs the call server can put in an offer; telephone-event is always
// kept and is not listed.
export const KNOWN_CODECS: readonly string[] = Object.freeze(['PCMU', 'PCMA', 'G722', 'G729']);
const DIGITS_RE = /^[0-9]{1,16}$/;

function invalid(field: string, message: string): never {
  throw new StoreError('invalid', field, `${field}: ${message}`);
}

function text(field: string, value: unknown, min: number, max: number): string {
  if (typeof value !== 'string') invalid(field, 'must be a string');
  if (value.length < min) invalid(field, min === 1 ? 'must not be empty' : `must have at least ${min} characters`);
  if (value.length > max) invalid(field, `must have at most ${max} characters`);
  if (CONTROL_RE.test(value)) invalid(field, 'must not contain control characters');
  return value;
}

export function validExtension(value: unknown): string {
  if (typeof value !== 'string' || !EXTENSION_RE.test(value)) {
    invalid('extension', "must be 1-64 letters, digits or -_.!~*'()&=+$,");
  }
  return value;
}

function authUser(value: unknown): string {
  if (typeof value !== 'string' || !AUTH_USER_RE.test(value)) {
    invalid('authUser', 'must be 1-128 visible ASCII characters without quote, backslash or colon');
  }
  return value;
}

function bool(field: string, value: unknown): boolean {
  if (typeof value !== 'boolean') invalid(field, 'must be true or false');
  return value;
}

function optInt(field: string, value: unknown, min: number, max: number): number | null {
  if (value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    invalid(field, `must be an integer from ${min} to ${max}, or null`);
  }
  return value;
}

function voicemailCode(value: unknown): string | null {
  if (value === null) return null;
  if (typeof value !== 'string' || !DIGITS_RE.test(value)) invalid('voicemailCode', 'must be 1-16 digits, or null');
  return value;
}

/** Codec names in preference order, upper-cased. @throws StoreError invalid */
export function validCodecs(value: unknown): readonly string[] | null {
  if (value === null) return null;
  if (!Array.isArray(value) || value.length === 0) {
    invalid('codecs', `must be a list of one or more of ${KNOWN_CODECS.join(', ')}, or null`);
  }
  const out: string[] = [];
  for (const c of value as unknown[]) {
    const name = typeof c === 'string' ? c.trim().toUpperCase() : '';
    if (!KNOWN_CODECS.includes(name)) {
      invalid('codecs', `unknown codec ${JSON.stringify(c)} (known: ${KNOWN_CODECS.join(', ')})`);
    }
    if (out.includes(name)) invalid('codecs', `${name} is listed twice`);
    out.push(name);
  }
  return Object.freeze(out);
}

const MEDIA_CHOICES: { [K in keyof UserMediaSettings]-?: readonly unknown[] } = {
  security: ['disabled', 'best-effort', 'enforced'],
  srtcp: ['encrypted', 'unencrypted'],
  directMedia: [true, false],
  dtmf: ['rfc4733', 'info'],
  capneg: [true, false],
  transport: ['any', 'tls'],
};
export const MEDIA_KEYS = Object.keys(MEDIA_CHOICES) as (keyof UserMediaSettings)[];

/** Media settings with a patch applied (null removes a key). @throws StoreError invalid */
export function validMedia(current: Readonly<UserMediaSettings>, patch: unknown): Readonly<UserMediaSettings> {
  if (patch === undefined) return current;
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) invalid('media', 'must be an object');
  const out: Record<string, unknown> = { ...current };
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    const choices = MEDIA_CHOICES[k as keyof UserMediaSettings];
    if (!choices) invalid(`media.${k}`, `unknown setting (known: ${MEDIA_KEYS.join(', ')})`);
    if (v === null || v === undefined) {
      delete out[k];
      continue;
    }
    if (!choices.includes(v)) invalid(`media.${k}`, `must be one of ${choices.map((c) => JSON.stringify(c)).join(', ')}, or null for the system value`);
    out[k] = v;
  }
  return Object.freeze(out) as Readonly<UserMediaSettings>;
}

/** Limits shared with the CLI and the API so their messages match the store's. */
export const MAX_CALLS_RANGE = [1, 100] as const;
export const NO_ANSWER_TIMEOUT_RANGE = [5, 600] as const;

/** Feature fields with a patch applied, the forward number remembered (user-features.ts). @throws StoreError invalid */
function validFeatures(current: UserFeatures, patch: UserFeaturePatch, extension: string): UserFeatures {
  const merged: Record<string, unknown> = {};
  for (const k of USER_FEATURE_KEYS) merged[k] = patch[k] === undefined ? current[k] : patch[k];
  merged.forwardNumber = rememberedForwardNumber(current.forwardNumber, patch);
  const f = parseModel(userFeaturesSchema, merged);
  const loop = selfTargets(extension, f)[0];
  if (loop) invalid(loop, "must not be the user's own extension");
  return { ...f, dndExceptions: Object.freeze([...f.dndExceptions]) };
}

/** Fields of a user built from an add() input, defaults applied. @throws StoreError invalid */
export function newUserFields(input: UserInput): UserFields {
  if (input === null || typeof input !== 'object') invalid('user', 'must be an object');
  const extension = validExtension(input.extension);
  return {
    extension,
    name: text('name', input.name ?? extension, 1, 64),
    fullName: text('fullName', input.fullName ?? '', 0, 128),
    authUser: authUser(input.authUser ?? extension),
    password: text('password', input.password, 1, 128),
    voicemailCode: voicemailCode(input.voicemailCode ?? null),
    enabled: bool('enabled', input.enabled ?? true),
    callWaiting: bool('callWaiting', input.callWaiting ?? true),
    codecs: validCodecs(input.codecs ?? null),
    maxCalls: optInt('maxCalls', input.maxCalls ?? null, ...MAX_CALLS_RANGE),
    noAnswerTimeoutSec: optInt('noAnswerTimeoutSec', input.noAnswerTimeoutSec ?? null, ...NO_ANSWER_TIMEOUT_RANGE),
    outboundCalls: bool('outboundCalls', input.outboundCalls ?? false),
    media: validMedia({}, input.media),
    ...validFeatures(USER_FEATURE_DEFAULTS, input, extension),
  };
}

/** Fields of an existing user with a patch applied. @throws StoreError invalid */
export function patchedUserFields(current: User, patch: UserPatch): UserFields {
  if (patch === null || typeof patch !== 'object') invalid('user', 'must be an object');
  const extension = patch.extension === undefined ? current.extension : validExtension(patch.extension);
  // An authUser that merely defaulted to the extension follows a renumbering.
  const followAuth = patch.authUser === undefined && current.authUser === current.extension;
  const pick = <K extends keyof UserFields>(k: K): unknown => (patch[k as keyof UserPatch] === undefined ? current[k] : patch[k as keyof UserPatch]);
  return {
    extension,
    name: text('name', pick('name'), 1, 64),
    fullName: text('fullName', pick('fullName'), 0, 128),
    authUser: authUser(followAuth ? extension : pick('authUser')),
    password: text('password', pick('password'), 1, 128),
    voicemailCode: voicemailCode(pick('voicemailCode')),
    enabled: bool('enabled', pick('enabled')),
    callWaiting: bool('callWaiting', pick('callWaiting')),
    codecs: validCodecs(pick('codecs')),
    maxCalls: optInt('maxCalls', pick('maxCalls'), ...MAX_CALLS_RANGE),
    noAnswerTimeoutSec: optInt('noAnswerTimeoutSec', pick('noAnswerTimeoutSec'), ...NO_ANSWER_TIMEOUT_RANGE),
    outboundCalls: bool('outboundCalls', pick('outboundCalls')),
    media: validMedia(current.media, patch.media),
    ...validFeatures(current, patch, extension),
  };
}
